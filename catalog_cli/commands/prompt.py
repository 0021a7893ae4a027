"""`video-catalog prompt show|path`: the analysis prompt template in use and its hash.

Read from the settings alone (catalog_resources/analysis/prompt.py), without Dagster or a model runtime: the
code version printed is the one `build_analyzer` gives the graph (tests/test_analyzer.py checks they agree).
"""

from __future__ import annotations

import typer

from catalog_cli.common import cli_settings, handles_errors
from catalog_cli.render import err
from catalog_cli.render.text import for_stdout, literal
from catalog_resources.settings import CatalogSettings

prompt_app = typer.Typer(help="The analysis prompt template and its hash (part of ai_analysis' code version).", no_args_is_help=True)


def _prompt_file(settings: CatalogSettings) -> str | None:
    return str(settings.analysis_prompt_file) if settings.analysis_prompt_file else None


def configured_code_version(settings: CatalogSettings) -> str:
    """ai_analysis' code version for these settings, as the configured analyzer resource computes it."""
    from catalog_resources.analysis.prompt import analysis_code_version

    if settings.analyzer == "local":
        from catalog_resources.analysis.local.pipeline import MODEL_NAME as model
    elif settings.analyzer == "gemini":
        model = settings.gemini_model
    else:
        model = settings.openai_model or "unset"
    return analysis_code_version(
        settings.analyzer, model, prompt_file=_prompt_file(settings), language=settings.analysis_language,
        ocr_frames=settings.analysis_ocr_frames,
        image_model_path=str(settings.image_model_path) if settings.image_model_path else None)


@prompt_app.command("show")
@handles_errors
def prompt_show() -> None:
    """Print the prompt template in use and its hash.

    Example:
      video-catalog prompt show
    """
    from catalog_resources.analysis.prompt import packaged_prompt_path, prompt_hash, prompt_text

    settings = cli_settings()
    prompt_file = _prompt_file(settings)
    text = prompt_text(prompt_file)
    err.print(f"# {literal(prompt_file or packaged_prompt_path())}  hash {prompt_hash(prompt_file)}  "
              f"code version {configured_code_version(settings)}", highlight=False, soft_wrap=True)
    print(text, end="")


@prompt_app.command("path")
@handles_errors
def prompt_path() -> None:
    """Print the path of the prompt template in use (copy it, edit it, point VIDEO_CATALOG_ANALYSIS_PROMPT_FILE at it).

    Example:
      cp "$(video-catalog prompt path)" my-prompt.md
    """
    from catalog_resources.analysis.prompt import packaged_prompt_path

    print(for_stdout(_prompt_file(cli_settings()) or packaged_prompt_path()))
