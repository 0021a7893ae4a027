"""The Analyzer resource: one entry point for every analysis backend, and the code version that says
when a clip's analysis is out of date.

The code version is `<backend>/<model>:<hash>`, the hash covering the prompt template, the analysis
schema and the settings that change an answer (language, frames read). Anything else (batch size,
proxy settings, where the catalog lives) leaves it alone, so changing it marks nothing stale.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Literal

from dagster import ConfigurableResource
from pydantic import Field

from catalog_resources.analysis_models import ANALYSIS_SCHEMA_VERSION, ComprehensiveAIAnalysis
from catalog_resources.local_analyzer import MODEL_NAME as LOCAL_MODEL, AnalysisInputs, LocalAnalyzer

PACKAGED_PROMPT = "analysis.md"


def packaged_prompt_path() -> Path:
    return Path(str(resources.files("catalog_resources") / "prompts" / PACKAGED_PROMPT))


def prompt_text(prompt_file: str | None) -> str:
    path = Path(prompt_file) if prompt_file else packaged_prompt_path()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FileNotFoundError(
            f"analysis prompt {path}: {exc.strerror or exc}; fix VIDEO_CATALOG_ANALYSIS_PROMPT_FILE or unset it"
        ) from exc


def short_hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


class Analyzer(ConfigurableResource):
    backend: Literal["local"] = "local"
    models_dir: str = Field(description="Where packaged models are unpacked once.")
    language: str | None = None
    ocr_frames: int = 4
    prompt_file: str | None = None
    image_model_path: str | None = None
    threads: int = 2

    @property
    def model(self) -> str:
        return LOCAL_MODEL

    def prompt_hash(self) -> str:
        schema = json.dumps(ComprehensiveAIAnalysis.model_json_schema(), sort_keys=True)
        return short_hash(prompt_text(self.prompt_file), schema, str(ANALYSIS_SCHEMA_VERSION))

    def code_version(self) -> str:
        image_model = Path(self.image_model_path).name if self.image_model_path else None
        answer_settings = json.dumps({"language": self.language, "ocr_frames": self.ocr_frames,
                                      "image_model": image_model}, sort_keys=True)
        return f"{self.backend}/{self.model}:{short_hash(self.prompt_hash(), answer_settings)}"

    def analyze(self, inputs: AnalysisInputs) -> ComprehensiveAIAnalysis:
        local = LocalAnalyzer(Path(self.models_dir), language=self.language, ocr_frames=self.ocr_frames,
                              threads=self.threads,
                              image_model_path=Path(self.image_model_path) if self.image_model_path else None)
        return local.analyze(inputs, code_version=self.code_version())
