"""The analyzer resources: one Dagster resource per ai_analysis backend, bound to the key "analyzer".

`build_analyzer` (catalog_assets/definitions.py) picks the class from VIDEO_CATALOG_ANALYZER; the asset sees
only the `Analyzer` interface: analyze one clip, check the backend is ready, estimate a batch's cost, and the
code version that says when a clip's analysis is out of date (catalog_resources/analysis/prompt.py).

Every analyzer carries the settings its code version covers (prompt file, language, frames read, image
model), even a backend that reads only some of them: today's versions hash all of them, and changing the
recipe would mark every catalog's analysis stale. The rest of its fields are its backend's own.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from dagster import ConfigurableResource
from pydantic import Field

from catalog_resources.analysis.cloud.common import (
    CloudAnswer,
    CloudRequest,
    MalformedAnswerError,
    MissingKeyError,
    save_raw_answer,
    to_analysis,
)
from catalog_resources.analysis.cloud.cost import (
    PROMPT_OVERHEAD_CHARS,
    CostEstimate,
    cost_usd,
    keyframe_token_split,
    price_of,
    tally_estimate,
)
from catalog_resources.analysis.cloud.rate_limit import PROCESS_RATE
from catalog_resources.analysis.local.pipeline import MODEL_NAME as LOCAL_MODEL, AnalysisInputs, LocalPipeline
from catalog_resources.analysis.prompt import (
    analysis_code_version,
    format_transcript,
    prompt_text,
    render_prompt,
    short_hash,
)
from catalog_resources.files import write_atomic
from catalog_resources.models.analysis import ComprehensiveAIAnalysis, Transcript

if TYPE_CHECKING:
    from catalog_resources.analysis.cloud.gemini import GeminiClient
    from catalog_resources.analysis.cloud.openai import OpenAIClient


class Analyzer(ConfigurableResource):
    """What ai_analysis asks of any backend. Subclasses set `backend` and provide `model` and `analyze`."""

    backend: ClassVar[str]
    is_cloud: ClassVar[bool] = False

    prompt_file: str | None = Field(default=None, description="A prompt template instead of the packaged one.")
    language: str | None = Field(default=None, description="Force the transcript language; None detects it.")
    ocr_frames: int = Field(default=4, description="Thumbnails read for on-screen text (local backend).")
    image_model_path: str | None = Field(default=None, description="Local CLIP/SigLIP folder for scene labels.")

    if TYPE_CHECKING:
        model: str | None  # each backend's own: a field, or fixed (local); named in the code version and answers

    @abstractmethod
    def analyze(self, inputs: AnalysisInputs) -> ComprehensiveAIAnalysis:
        """One clip's analysis; raises AnalyzerError (or a model's own error) naming the clip and the fix."""

    def code_version(self) -> str:
        return analysis_code_version(self.backend, self.model or "unset", prompt_file=self.prompt_file,
                                     language=self.language, ocr_frames=self.ocr_frames,
                                     image_model_path=self.image_model_path)

    def check_ready(self) -> None:
        """A missing key or model is a one-line error before any clip is touched (nothing to check offline)."""

    def estimate(self, durations: list[float]) -> CostEstimate:
        """Tokens and dollars for footage of these durations, before any request is made: none offline."""
        return tally_estimate(durations, [(0, 0)] * len(durations), (0.0, 0.0))


class LocalAnalyzer(Analyzer):
    """The offline models (speech, sound events, on-screen text, entities, keywords): no key, no cost."""

    backend: ClassVar[str] = "local"

    models_dir: str = Field(description="Where packaged models are unpacked once.")
    threads: int = 2

    @property
    def model(self) -> str:
        return LOCAL_MODEL

    def analyze(self, inputs: AnalysisInputs) -> ComprehensiveAIAnalysis:
        pipeline = LocalPipeline(Path(self.models_dir), language=self.language, ocr_frames=self.ocr_frames,
                                 threads=self.threads,
                                 image_model_path=Path(self.image_model_path) if self.image_model_path else None)
        return pipeline.analyze(inputs, code_version=self.code_version())


class CloudAnalyzer(Analyzer):
    """What the paid backends share: the request rate limit, the answer kept so a re-run does not pay twice,
    the raw answer saved when it does not fit the schema, and the cost of each answer."""

    is_cloud: ClassVar[bool] = True

    media_dir: str = Field(default="", description="Where answers are cached and a malformed one saved.")
    requests_per_minute: float = 0.0
    max_attempts: int = 5
    prices_json: str = Field(
        default="", description='{"model": [USD per 1M input tokens, per 1M output tokens]}; adds to DEFAULT_PRICES.')

    @abstractmethod
    def client(self) -> GeminiClient | OpenAIClient:
        """The engine that sends one clip's request; raises MissingKeyError when it cannot."""

    @abstractmethod
    def token_split(self, duration_seconds: float, prompt_chars: int) -> tuple[int, int]:
        """(input, output) tokens one clip of this length will take with this backend."""

    def local_transcript(self, inputs: AnalysisInputs) -> Transcript | None:
        """A transcript to send along, for a backend that cannot hear the clip; None when it can."""
        return None

    def check_ready(self) -> None:
        self.client().check_key()

    def price(self) -> tuple[float, float] | None:
        return price_of(self.model, self.prices_json)

    def cost(self, prompt_tokens: int, output_tokens: int) -> float:
        return cost_usd(self.price(), prompt_tokens, output_tokens)

    def estimate(self, durations: list[float]) -> CostEstimate:
        prompt_chars = len(prompt_text(self.prompt_file)) + PROMPT_OVERHEAD_CHARS
        return tally_estimate(durations, [self.token_split(d, prompt_chars) for d in durations], self.price())

    def answer_cache(self, clip_id: str) -> Path | None:
        """The paid answer for this clip and code version, kept until the code version changes."""
        if not self.media_dir:
            return None
        return Path(self.media_dir) / clip_id / f"ai_answer.{short_hash(self.code_version())}.json"

    def analyze(self, inputs: AnalysisInputs) -> ComprehensiveAIAnalysis:
        started = time.monotonic()
        transcript = self.local_transcript(inputs)
        request = CloudRequest(
            clip_id=inputs.clip_id, prompt=render_prompt(prompt_text(self.prompt_file), inputs.technical_context),
            proxy_path=inputs.proxy_path, duration=inputs.duration, technical_context=inputs.technical_context,
            frames=sorted(inputs.frames), transcript=format_transcript(transcript) if transcript else None,
        )
        answer = self._answer(request)
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

    def _answer(self, request: CloudRequest) -> CloudAnswer:
        """The cached answer (a batch re-run after another clip failed: do not pay twice), else a new one."""
        cached = self.answer_cache(request.clip_id)
        if cached is not None and cached.exists():
            return CloudAnswer.model_validate_json(cached.read_text())
        PROCESS_RATE.wait(self.requests_per_minute)
        try:
            answer = self.client().analyze(request)
        except MalformedAnswerError as exc:
            if self.media_dir:
                saved = save_raw_answer(Path(self.media_dir), request.clip_id, exc.raw)
                raise MalformedAnswerError(f"{exc} (raw answer saved to {saved})", exc.raw) from exc
            raise
        if cached is not None:
            write_atomic(cached, answer.model_dump_json())
        return answer


class GeminiAnalyzer(CloudAnalyzer):
    """Gemini watches the clip's proxy video itself (picture and sound); long clips go window by window."""

    backend: ClassVar[str] = "gemini"

    model: str = "gemini-2.5-flash"
    base_url: str | None = Field(default=None, description="Override the API address (proxies, tests).")
    api_key: str | None = Field(default=None, description="Else GEMINI_API_KEY / GOOGLE_API_KEY.")
    window_seconds: float = 1800.0

    def client(self) -> GeminiClient:
        from catalog_resources.analysis.cloud.gemini import GeminiClient

        return GeminiClient(api_key=self.api_key, model=self.model, base_url=self.base_url,
                            window_seconds=self.window_seconds, max_attempts=self.max_attempts)

    def token_split(self, duration_seconds: float, prompt_chars: int) -> tuple[int, int]:
        from catalog_resources.analysis.cloud.gemini_tokens import estimate_token_split

        return estimate_token_split(duration_seconds, prompt_chars, window_seconds=self.window_seconds)


class OpenAIAnalyzer(CloudAnalyzer):
    """Any OpenAI-compatible chat endpoint: it sees keyframes and reads the local speech model's transcript."""

    backend: ClassVar[str] = "openai"

    model: str | None = Field(default=None, description="e.g. gpt-4o-mini, or the model a vLLM/Ollama server serves.")
    base_url: str | None = Field(default=None, description="e.g. http://localhost:11434/v1 for Ollama.")
    api_key: str | None = Field(default=None, description="Else OPENAI_API_KEY; a localhost server needs none.")
    models_dir: str = Field(description="Where the local speech model is unpacked (for the transcript).")

    def client(self) -> OpenAIClient:
        from catalog_resources.analysis.cloud.openai import OpenAIClient

        if not self.model:
            raise MissingKeyError("the openai analyzer needs a model: set VIDEO_CATALOG_OPENAI_MODEL (e.g. gpt-4o-mini)")
        return OpenAIClient(model=self.model, base_url=self.base_url, api_key=self.api_key,
                            max_attempts=self.max_attempts)

    def token_split(self, duration_seconds: float, prompt_chars: int) -> tuple[int, int]:
        return keyframe_token_split(duration_seconds, prompt_chars)

    def local_transcript(self, inputs: AnalysisInputs) -> Transcript | None:
        """An image model cannot hear: give it our transcript."""
        if not inputs.audio_path:
            return None
        return LocalPipeline(Path(self.models_dir), language=self.language).transcribe(inputs.audio_path)
