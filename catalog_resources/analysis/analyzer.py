"""The Analyzer resource: one entry point for every analysis backend, and the code version that says
when a clip's analysis is out of date.

The code version is `<backend>/<model>:<hash>`, the hash covering the prompt template, the analysis
schema and the settings that change an answer (language, frames read). Anything else (batch size,
proxy settings, where the catalog lives) leaves it alone, so changing it marks nothing stale.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Literal

from dagster import ConfigurableResource
from pydantic import BaseModel, Field

from catalog_resources.models.analysis import ANALYSIS_SCHEMA_VERSION, ComprehensiveAIAnalysis, Transcript
from catalog_resources.analysis.cloud.common import (
    CloudAnswer,
    CloudRequest,
    MalformedAnswerError,
    MissingKeyError,
    save_raw_answer,
    to_analysis,
)
from catalog_resources.analysis.local.pipeline import MODEL_NAME as LOCAL_MODEL, AnalysisInputs, LocalPipeline

PACKAGED_PROMPT = "analysis.md"


def packaged_prompt_path() -> Path:
    return Path(str(resources.files("catalog_resources.analysis") / "prompts" / PACKAGED_PROMPT))


class PromptFileError(FileNotFoundError):
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
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


class CostEstimate(BaseModel):
    clips: int
    footage_seconds: float
    tokens: int
    usd: float
    priced: bool = Field(description="False when the model has no price in the table: usd is then 0.")


class _RateLimiter:
    """At most N requests per minute per process, shared by every clip (cloud backends only)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self, per_minute: float) -> None:
        if per_minute <= 0:
            return
        with self._lock:
            now = time.monotonic()
            delay = max(0.0, self._next - now)
            self._next = max(now, self._next) + 60.0 / per_minute
        if delay:
            time.sleep(delay)


_RATE = _RateLimiter()


class Analyzer(ConfigurableResource):
    backend: Literal["local", "gemini", "openai"] = "local"
    models_dir: str = Field(description="Where packaged models are unpacked once.")
    media_dir: str = Field(default="", description="Where a malformed cloud answer is saved for inspection.")
    language: str | None = None
    ocr_frames: int = 4
    prompt_file: str | None = None
    image_model_path: str | None = None
    threads: int = 2
    gemini_model: str = "gemini-2.5-flash"
    gemini_base_url: str | None = None
    gemini_api_key: str | None = None
    openai_model: str | None = None
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    window_seconds: float = 1800.0
    requests_per_minute: float = 0.0
    max_attempts: int = 5
    prices_json: str = Field(
        default="", description='{"model": [USD per 1M input tokens, per 1M output tokens]}; adds to DEFAULT_PRICES.')

    @property
    def model(self) -> str:
        if self.backend == "gemini":
            return self.gemini_model
        if self.backend == "openai":
            return self.openai_model or "unset"
        return LOCAL_MODEL

    @property
    def is_cloud(self) -> bool:
        return self.backend != "local"

    def prompt_hash(self) -> str:
        schema = json.dumps(ComprehensiveAIAnalysis.model_json_schema(), sort_keys=True)
        return short_hash(prompt_text(self.prompt_file), schema, str(ANALYSIS_SCHEMA_VERSION))

    def code_version(self) -> str:
        image_model = Path(self.image_model_path).name if self.image_model_path else None
        answer_settings = json.dumps({"language": self.language, "ocr_frames": self.ocr_frames,
                                      "image_model": image_model}, sort_keys=True)
        return f"{self.backend}/{self.model}:{short_hash(self.prompt_hash(), answer_settings)}"

    # -- cloud plumbing -----------------------------------------------------------------------------------

    def _cloud(self):
        if self.backend == "gemini":
            from catalog_resources.analysis.cloud.gemini import GeminiClient

            return GeminiClient(api_key=self.gemini_api_key, model=self.gemini_model, base_url=self.gemini_base_url,
                                  window_seconds=self.window_seconds, max_attempts=self.max_attempts)
        from catalog_resources.analysis.cloud.openai import OpenAIClient

        if not self.openai_model:
            raise MissingKeyError("the openai analyzer needs a model: set VIDEO_CATALOG_OPENAI_MODEL (e.g. gpt-4o-mini)")
        return OpenAIClient(model=self.openai_model, base_url=self.openai_base_url, api_key=self.openai_api_key,
                              max_attempts=self.max_attempts)

    def check_ready(self) -> None:
        """A missing key or model is a one-line error before any clip is touched."""
        if self.is_cloud:
            self._cloud().check_key()

    def price(self) -> tuple[float, float] | None:
        extra = {k: (float(v[0]), float(v[1])) for k, v in json.loads(self.prices_json).items()} if self.prices_json else {}
        return {**DEFAULT_PRICES, **extra}.get(self.model)

    def cost(self, prompt_tokens: int, output_tokens: int) -> float:
        price = self.price()
        return round((prompt_tokens * price[0] + output_tokens * price[1]) / 1e6, 6) if price else 0.0

    def estimate(self, durations: list[float]) -> CostEstimate:
        """Tokens and dollars for footage of these durations, before any request is made."""
        prompt_chars = len(prompt_text(self.prompt_file)) + 600
        if self.backend == "gemini":
            from catalog_resources.analysis.cloud.gemini import estimate_token_split

            splits = [estimate_token_split(d, prompt_chars, window_seconds=self.window_seconds) for d in durations]
        else:  # keyframes as images (~8 x 800 tokens), the prompt, the transcript (~3 tokens a second)
            splits = [(8 * 800 + prompt_chars // 4 + int(d * 3), OUTPUT_ALLOWANCE) for d in durations]
        tokens = sum(i + o for i, o in splits)
        price = self.price()
        usd = round(sum(i * price[0] + o * price[1] for i, o in splits) / 1e6, 4) if price else 0.0
        return CostEstimate(clips=len(durations), footage_seconds=round(sum(durations), 1), tokens=tokens, usd=usd,
                            priced=price is not None)

    def _answer_cache(self, clip_id: str) -> Path | None:
        """The paid answer for this clip and code version, kept until the code version changes."""
        if not self.media_dir:
            return None
        return Path(self.media_dir) / clip_id / f"ai_answer.{short_hash(self.code_version())}.json"

    def analyze(self, inputs: AnalysisInputs) -> ComprehensiveAIAnalysis:
        if not self.is_cloud:
            local = LocalPipeline(Path(self.models_dir), language=self.language, ocr_frames=self.ocr_frames,
                                  threads=self.threads,
                                  image_model_path=Path(self.image_model_path) if self.image_model_path else None)
            return local.analyze(inputs, code_version=self.code_version())
        return self._analyze_cloud(inputs)

    def _analyze_cloud(self, inputs: AnalysisInputs) -> ComprehensiveAIAnalysis:
        started = time.monotonic()
        transcript = None
        if self.backend == "openai" and inputs.audio_path:  # an image model cannot hear: give it our transcript
            transcript = LocalPipeline(Path(self.models_dir), language=self.language).transcribe(inputs.audio_path)
        request = CloudRequest(
            clip_id=inputs.clip_id, prompt=render_prompt(prompt_text(self.prompt_file), inputs.technical_context),
            proxy_path=inputs.proxy_path, duration=inputs.duration, technical_context=inputs.technical_context,
            frames=sorted(inputs.frames), transcript=format_transcript(transcript) if transcript else None,
        )
        cached = self._answer_cache(inputs.clip_id)
        if cached is not None and cached.exists():  # a batch re-run after another clip failed: do not pay twice
            answer = CloudAnswer.model_validate_json(cached.read_text())
        else:
            _RATE.wait(self.requests_per_minute)
            try:
                answer = self._cloud().analyze(request)
            except MalformedAnswerError as exc:
                if self.media_dir:
                    saved = save_raw_answer(Path(self.media_dir), inputs.clip_id, exc.raw)
                    raise MalformedAnswerError(f"{exc} (raw answer saved to {saved})", exc.raw) from exc
                raise
            if cached is not None:
                write_atomic(cached, answer.model_dump_json())
        result = to_analysis(answer.answer, clip_id=inputs.clip_id, backend=self.backend, model=answer.model,
                             code_version=self.code_version())
        if transcript is not None and result.audio_analysis is not None:
            result.audio_analysis.transcript = transcript  # timed words from the speech model beat a re-typed copy
        usage = answer.usage.model_copy(update={"estimated_cost_usd": self.cost(answer.usage.prompt_tokens,
                                                                                 answer.usage.output_tokens)})
        result.usage = usage.model_dump()
        result.timings["request"] = round(time.monotonic() - started, 3)
        if self.price() is None:
            result.notes.append(f"no price for model {self.model}: cost not estimated (VIDEO_CATALOG_ANALYSIS_PRICES)")
        return result


# USD per 1M tokens (input, output), from the providers' price pages; override with VIDEO_CATALOG_ANALYSIS_PRICES.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-flash-lite": (0.10, 0.40),
    "gemini-2.5-pro": (1.25, 10.0),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.0),
}
OUTPUT_ALLOWANCE = 2000  # tokens of JSON answer per clip


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def render_prompt(template: str, technical_context: str) -> str:
    body = re.sub(r"<!--.*?-->\s*", "", template, flags=re.S)  # the header comment is for maintainers
    return body.replace("{technical_context}", technical_context or "(none)")


def format_transcript(transcript: Transcript) -> str:
    return "\n".join(f"[{s.start_seconds:.1f}-{s.end_seconds:.1f}] {s.text}" for s in transcript.segments)
