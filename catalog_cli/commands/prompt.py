"""`video-catalog prompt show|path`: the analysis prompt template in use and its hash."""

from __future__ import annotations

import typer

from catalog_cli.common import cli_settings, handles_errors
from catalog_cli.render import err
from catalog_cli.render.text import for_stdout, literal

prompt_app = typer.Typer(help="The analysis prompt template and its hash (part of ai_analysis' code version).", no_args_is_help=True)


@prompt_app.command("show")
@handles_errors
def prompt_show() -> None:
    """Print the prompt template in use and its hash.

    Example:
      video-catalog prompt show
    """
    from catalog_assets.definitions import build_analyzer
    from catalog_resources.analysis.analyzer import packaged_prompt_path, prompt_text

    settings = cli_settings()
    analyzer = build_analyzer(settings)
    text = prompt_text(analyzer.prompt_file)
    err.print(f"# {literal(analyzer.prompt_file or packaged_prompt_path())}  hash {analyzer.prompt_hash()}  "
              f"code version {analyzer.code_version()}", highlight=False, soft_wrap=True)
    print(text, end="")


@prompt_app.command("path")
@handles_errors
def prompt_path() -> None:
    """Print the path of the prompt template in use (copy it, edit it, point VIDEO_CATALOG_ANALYSIS_PROMPT_FILE at it).

    Example:
      cp "$(video-catalog prompt path)" my-prompt.md
    """
    from catalog_assets.definitions import build_analyzer
    from catalog_resources.analysis.analyzer import packaged_prompt_path

    analyzer = build_analyzer(cli_settings())
    print(for_stdout(analyzer.prompt_file or packaged_prompt_path()))
