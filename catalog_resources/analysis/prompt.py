"""The analysis prompt template, and the code version of ai_analysis that covers it.

The code version is `<backend>/<model>:<hash>`, the hash covering the prompt template, the analysis schema
and the settings that change an answer (language, frames read, image model). Anything else (batch size,
proxy settings, where the catalog lives) leaves it alone, so changing it marks nothing stale. It is computed
here, without Dagster, so `video-catalog prompt show` prints the very string the graph records.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path

from catalog_resources.errors import UsageError
from catalog_resources.models.analysis import ANALYSIS_SCHEMA_VERSION, ComprehensiveAIAnalysis, Transcript

PACKAGED_PROMPT = "analysis.md"


def packaged_prompt_path() -> Path:
    """The template shipped with the package, used when VIDEO_CATALOG_ANALYSIS_PROMPT_FILE is unset."""
    return Path(str(resources.files("catalog_resources.analysis") / "prompts" / PACKAGED_PROMPT))


class PromptFileError(UsageError, FileNotFoundError):
    """The configured prompt template cannot be read; the message names it and the setting."""


def prompt_text(prompt_file: str | None) -> str:
    path = Path(prompt_file) if prompt_file else packaged_prompt_path()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptFileError(
            f"analysis prompt {path}: {exc.strerror or exc}; fix VIDEO_CATALOG_ANALYSIS_PROMPT_FILE or unset it"
        ) from exc


def short_hash(*parts: str) -> str:
    """12 hex digits of SHA-256 over the parts (NUL-separated, so ("ab", "c") and ("a", "bc") differ)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def prompt_hash(prompt_file: str | None) -> str:
    """The template and the schema the answer must fit: a change to either changes every backend's answer."""
    schema = json.dumps(ComprehensiveAIAnalysis.model_json_schema(), sort_keys=True)
    return short_hash(prompt_text(prompt_file), schema, str(ANALYSIS_SCHEMA_VERSION))


def analysis_code_version(backend: str, model: str, *, prompt_file: str | None, language: str | None,
                          ocr_frames: int, image_model_path: str | None) -> str:
    """`<backend>/<model>:<hash>`: what ai_analysis' code version is for these settings.

    Only the image model's folder name counts, so moving the models folder marks nothing stale."""
    image_model = Path(image_model_path).name if image_model_path else None
    answer_settings = json.dumps({"language": language, "ocr_frames": ocr_frames, "image_model": image_model},
                                 sort_keys=True)
    return f"{backend}/{model}:{short_hash(prompt_hash(prompt_file), answer_settings)}"


def render_prompt(template: str, technical_context: str) -> str:
    """The template as sent: the maintainers' header comment dropped, the clip's technical facts filled in."""
    body = re.sub(r"<!--.*?-->\s*", "", template, flags=re.S)
    return body.replace("{technical_context}", technical_context or "(none)")


def format_transcript(transcript: Transcript) -> str:
    """A transcript as timed lines, for a backend that reads our transcript instead of hearing the clip."""
    return "\n".join(f"[{s.start_seconds:.1f}-{s.end_seconds:.1f}] {s.text}" for s in transcript.segments)
