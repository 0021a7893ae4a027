"""Gemini analysis backend: send a clip's H.264 proxy to Gemini and get the catalog's answer JSON back.

Gemini watches the video itself (frames and sound), so this backend needs no local transcript or
keyframes. Small clips travel inline in the request; larger or long clips go through the Files API
(resumable upload, wait until the service has processed the file, always delete it afterwards).
Clips longer than one window are analysed window by window over the same uploaded file, using the
part's video offsets, and the window answers are shifted onto the clip's timeline and merged.

Retries: 408/5xx and transient connection errors use the google-genai client's own `HttpRetryOptions`
(exponential backoff with jitter). google-genai 3.6.1 does not read `Retry-After`, so 429 is left out
of its list and retried here instead, waiting what the service asked for (the `Retry-After` header or
the `RetryInfo.retryDelay` Gemini puts in the error body), else the same exponential backoff.

The token estimate and the windowing rule live in gemini_tokens.py (no SDK needed for a dry run).
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import random
import re
import time
from pathlib import Path
from typing import Any

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from catalog_resources.analysis.cloud.common import (
    AnalyzerError,
    BlockedAnswerError,
    CloudAnswer,
    CloudRequest,
    MalformedAnswerError,
    MissingKeyError,
    Usage,
    answer_schema,
    merge_windows,
    normalise_times,
    one_line,
    parse_answer,
)
from catalog_resources.analysis.cloud.gemini_tokens import estimate_tokens, window_starts

# google-genai 3.x talks through httpx2 by default; httpx only with GOOGLE_GENAI_HTTP_CLIENT=httpx.
try:
    import httpx2
except ImportError:  # pragma: no cover - a hard dependency of google-genai 3.x
    httpx2 = None
try:
    import httpx
except ImportError:  # pragma: no cover - optional since google-genai 3.0
    httpx = None

log = logging.getLogger(__name__)

# Transport errors of whichever HTTP package the SDK picked; both are caught so neither leaks through.
_TIMEOUTS: tuple[type[BaseException], ...] = tuple(
    m.TimeoutException for m in (httpx, httpx2) if m is not None)
_TRANSPORT: tuple[type[BaseException], ...] = tuple(m.TransportError for m in (httpx, httpx2) if m is not None)
_HTTP_ERRORS: tuple[type[BaseException], ...] = tuple(m.HTTPError for m in (httpx, httpx2) if m is not None)

KEY_VARIABLES = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
RETRY_STATUS_CODES = [408, 500, 502, 503, 504]  # 429 is retried by _call_honouring_retry_after
MAX_RETRY_AFTER = 300.0  # a longer wait than this is a quota problem to report, not to sleep through
VIDEO_MIME = "video/mp4"

# Finish reasons that mean the service withheld the answer rather than the model running out of room.
_BLOCKING_FINISH = {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII"}


def resolve_gemini_key(explicit: str | None) -> str:
    """The API key: the explicit one, else GEMINI_API_KEY, else GOOGLE_API_KEY (as the SDK looks them up).

    Resolved by us rather than left to the SDK so a missing key fails with our own error before any
    file is read or uploaded.
    """
    if explicit and explicit.strip():
        return explicit.strip()
    for name in KEY_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    raise MissingKeyError("no Gemini API key: set GEMINI_API_KEY or GOOGLE_API_KEY")


def _duration_literal(seconds: float) -> str:
    """A google.protobuf.Duration in its JSON form ("100s", "12.5s"), as VideoMetadata offsets expect."""
    if float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes:02d}:{secs:02d}"


class GeminiClient:
    """Analyse one clip per call with a Gemini model; returns the parsed answer and its token usage."""

    backend = "gemini"
    # Pinned: google-genai 3.x defaults to the stable "v1" surface, but the features used here (Files
    # API uploads, per-part videoMetadata offsets, responseJsonSchema) are documented on v1beta.
    api_version = "v1beta"

    def __init__(
        self,
        api_key: str | None = None,
        model: str = "gemini-2.5-flash",
        base_url: str | None = None,
        inline_max_bytes: int = 15_000_000,
        window_seconds: float = 1800.0,
        max_attempts: int = 5,
        initial_delay: float = 1.0,
        max_delay: float = 60.0,
        timeout_seconds: float = 600.0,
        poll_interval: float = 2.0,
        poll_timeout: float = 600.0,
    ) -> None:
        # Inline requests are capped at 20 MB in total; base64 grows the video by 4/3, so 15 MB of
        # video is the most that still fits beside the prompt and schema.
        self._explicit_key = api_key
        self.api_key = resolve_gemini_key(api_key)  # fail before any upload
        self.model = model
        self.base_url = base_url
        self.inline_max_bytes = inline_max_bytes
        self.window_seconds = float(window_seconds)
        self.max_attempts = max_attempts
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.timeout_seconds = timeout_seconds
        self.poll_interval = poll_interval
        self.poll_timeout = poll_timeout
        self.temperature = 0.2
        self._client: genai.Client | None = None

    # -- setup ---------------------------------------------------------------------------------------

    def check_key(self) -> str:
        """Re-resolve the key (e.g. before a batch) so a key removed since construction fails early."""
        self.api_key = resolve_gemini_key(self._explicit_key)
        return self.api_key

    @property
    def client(self) -> genai.Client:
        """Built on first use: constructing it opens HTTP clients we do not need for a dry run."""
        if self._client is None:
            retry = types.HttpRetryOptions(
                attempts=self.max_attempts,
                initial_delay=self.initial_delay,
                max_delay=self.max_delay,
                exp_base=2,
                jitter=1,
                http_status_codes=RETRY_STATUS_CODES,
            )
            options = types.HttpOptions(
                base_url=self.base_url,
                api_version=self.api_version,
                timeout=int(self.timeout_seconds * 1000),  # milliseconds
                retry_options=retry,
            )
            self._client = genai.Client(api_key=self.api_key, vertexai=False, http_options=options)
        return self._client

    def close(self) -> None:
        """Close the SDK's HTTP connections."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def estimate_tokens(self, duration_seconds: float, prompt_chars: int) -> int:
        """The module-level estimate with this analyzer's window length."""
        return estimate_tokens(duration_seconds, prompt_chars, window_seconds=self.window_seconds)

    # -- analysis ------------------------------------------------------------------------------------

    def analyze(self, request: CloudRequest) -> CloudAnswer:
        """Send the clip's proxy video and prompt; return the validated answer (times in clip seconds)."""
        if not request.proxy_path:
            raise AnalyzerError(f"clip {request.clip_id}: no proxy video to send to Gemini (make the proxy first)")
        video = Path(request.proxy_path)
        if not video.is_file():
            raise AnalyzerError(f"clip {request.clip_id}: proxy video {video} does not exist")
        starts = window_starts(request.duration, self.window_seconds)
        windowed = len(starts) > 1
        stage = "request"
        try:
            if not windowed and video.stat().st_size <= self.inline_max_bytes:
                stage = "generateContent"
                part = types.Part.from_bytes(data=video.read_bytes(), mime_type=VIDEO_MIME)
                return self._run(request, [(0.0, None, part)])
            stage = "upload"
            try:
                uploaded = self.client.files.upload(
                    file=str(video), config={"mime_type": VIDEO_MIME, "display_name": request.clip_id[:500]})
            except (KeyError, ValueError) as exc:
                # The SDK raises these when the service does not follow the resumable-upload protocol.
                raise AnalyzerError(f"clip {request.clip_id}: Gemini upload failed: {one_line(exc)}") from exc
            try:
                stage = "file status"
                active = self._wait_active(uploaded, request.clip_id)
                stage = "generateContent"
                windows = []
                for index, start in enumerate(starts):
                    end = starts[index + 1] if index + 1 < len(starts) else request.duration
                    metadata = (types.VideoMetadata(start_offset=_duration_literal(start),
                                                    end_offset=_duration_literal(end)) if windowed else None)
                    part = types.Part(file_data=types.FileData(file_uri=active.uri, mime_type=active.mime_type or VIDEO_MIME),
                                      video_metadata=metadata)
                    windows.append((start, end if windowed else None, part))
                return self._run(request, windows)
            finally:
                self._delete(uploaded, request.clip_id)
        except genai_errors.APIError as exc:
            message = one_line(exc.message or exc.details)
            raise AnalyzerError(f"clip {request.clip_id}: Gemini {stage} failed with HTTP {exc.code}"
                                f"{' ' + exc.status if exc.status else ''}: {message}") from exc
        except _TIMEOUTS as exc:
            raise AnalyzerError(f"clip {request.clip_id}: Gemini {stage} timed out "
                                f"({type(exc).__name__}, limit {self.timeout_seconds:g} s)") from exc
        except _TRANSPORT as exc:
            raise AnalyzerError(f"clip {request.clip_id}: Gemini {stage} could not reach the service: "
                                f"{one_line(exc) or type(exc).__name__}") from exc

    def _call_honouring_retry_after(self, call: Any) -> Any:
        for attempt in range(1, self.max_attempts + 1):
            try:
                return call()
            except genai_errors.ClientError as exc:
                if exc.code != 429 or attempt == self.max_attempts:
                    raise
                wait = retry_after_seconds(exc)
                if wait is None:
                    wait = min(self.max_delay, self.initial_delay * 2 ** (attempt - 1)) + random.uniform(0, self.initial_delay)
                if wait > MAX_RETRY_AFTER:
                    raise
                log.info("Gemini rate limit (429): retrying in %.1f s (attempt %d of %d)", wait, attempt + 1,
                            self.max_attempts)
                time.sleep(wait)
        raise AssertionError("unreachable")

    def _wait_active(self, uploaded: types.File, clip_id: str) -> types.File:
        """Poll until the service has processed the upload; a video cannot be used before it is ACTIVE."""
        deadline = time.monotonic() + self.poll_timeout
        current = uploaded
        while True:
            state = current.state.value if current.state is not None else "STATE_UNSPECIFIED"
            if state == "ACTIVE":
                return current
            if state == "FAILED":
                reason = one_line(current.error.message) if current.error and current.error.message else "no reason given"
                raise AnalyzerError(f"clip {clip_id}: Gemini could not process the uploaded video "
                                    f"{uploaded.name} (state FAILED: {reason})")
            if time.monotonic() >= deadline:
                raise AnalyzerError(f"clip {clip_id}: the uploaded video {uploaded.name} was still {state} "
                                    f"after {self.poll_timeout:g} s")
            time.sleep(self.poll_interval)
            current = self.client.files.get(name=uploaded.name)

    def _delete(self, uploaded: types.File, clip_id: str) -> None:
        """Best effort: the service deletes uploads after 48 h anyway, so a failure here only warns."""
        if not uploaded.name:
            return
        try:
            self.client.files.delete(name=uploaded.name)
        except (genai_errors.APIError, *_HTTP_ERRORS) as exc:
            log.warning("clip %s: could not delete uploaded file %s: %s", clip_id, uploaded.name, one_line(exc))

    def _config(self) -> types.GenerateContentConfig:
        # response_json_schema (sent as generationConfig.responseJsonSchema) takes a plain JSON schema;
        # response_schema would be converted to the API's OpenAPI-subset Schema and loses constructs.
        return types.GenerateContentConfig(
            response_mime_type="application/json",
            response_json_schema=answer_schema(),
            temperature=self.temperature,
        )

    def _prompt(self, request: CloudRequest, start: float, end: float | None) -> str:
        text = request.prompt.strip()
        if request.technical_context.strip():
            text += "\n\n" + request.technical_context.strip()
        if end is not None:
            text += (f"\n\nThis request covers only the part of the clip from {_clock(start)} to {_clock(end)}. "
                     "Describe only that part, and give every time relative to the start of this part "
                     "(its first second is 00:00).")
        return text

    def _run(self, request: CloudRequest, windows: list[tuple[float, float | None, types.Part]]) -> CloudAnswer:
        """One generateContent call per window; answers shifted by the window start and merged."""
        usage = Usage()
        parts: list[dict[str, Any]] = []
        raws: list[dict[str, Any]] = []
        config = self._config()
        for start, end, video_part in windows:
            # The video first, then the instructions: Google's advice for single-video prompts.
            contents = types.Content(role="user", parts=[video_part, types.Part.from_text(text=self._prompt(request, start, end))])
            response = self._call_honouring_retry_after(
                lambda: self.client.models.generate_content(model=self.model, contents=contents, config=config))
            usage = usage.add(self._usage(response))
            raw = self._text(response, request.clip_id, start, end)
            try:
                data = parse_answer(raw, request.clip_id)
            except MalformedAnswerError as exc:
                where = f" (window {start:g}-{end:g} s)" if end is not None else ""
                finish = self._finish_reason(response)
                hint = " (the answer was cut off at the output token limit)" if finish == "MAX_TOKENS" else ""
                raise MalformedAnswerError(f"{exc}{where}{hint}", exc.raw) from exc
            parts.append(normalise_times(data, start) if start else data)
            raws.append({"start_seconds": start, "end_seconds": end, "raw": raw})
        raw_all = raws[0]["raw"] if len(raws) == 1 else json.dumps(raws, ensure_ascii=False)
        return CloudAnswer(answer=merge_windows(parts), raw=raw_all, model=self.model, usage=usage)

    @staticmethod
    def _usage(response: types.GenerateContentResponse) -> Usage:
        """Tokens of one call; thinking tokens are billed as output, so they count as output here."""
        meta = response.usage_metadata
        if meta is None:
            return Usage(requests=1)
        return Usage(prompt_tokens=meta.prompt_token_count or 0,
                     output_tokens=(meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0),
                     requests=1)

    @staticmethod
    def _finish_reason(response: types.GenerateContentResponse) -> str | None:
        if response.candidates and response.candidates[0].finish_reason is not None:
            reason = response.candidates[0].finish_reason
            return reason.value if hasattr(reason, "value") else str(reason)
        return None

    def _text(self, response: types.GenerateContentResponse, clip_id: str, start: float, end: float | None) -> str:
        """The answer text, or BlockedAnswerError when the service withheld it."""
        where = f" (window {start:g}-{end:g} s)" if end is not None else ""
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            reason = feedback.block_reason.value if hasattr(feedback.block_reason, "value") else str(feedback.block_reason)
            if reason != "BLOCKED_REASON_UNSPECIFIED":
                detail = f": {one_line(feedback.block_reason_message)}" if feedback.block_reason_message else ""
                raise BlockedAnswerError(f"clip {clip_id}: Gemini blocked the request{where} ({reason}){detail}", reason)
        finish = self._finish_reason(response)
        if finish in _BLOCKING_FINISH:
            raise BlockedAnswerError(f"clip {clip_id}: Gemini withheld the answer{where} (finish reason {finish})", finish)
        text = response.text or ""
        if not text.strip():
            raise MalformedAnswerError(f"clip {clip_id}: Gemini returned an empty answer{where}"
                                       f" (finish reason {finish or 'none'})", text)
        return text


def retry_after_seconds(exc: genai_errors.APIError) -> float | None:
    """Seconds the service asked us to wait: Retry-After (seconds or HTTP date), else RetryInfo.retryDelay."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    if value:
        value = value.strip()
        if re.fullmatch(r"\d+(\.\d+)?", value):
            return float(value)
        when = email.utils.parsedate_to_datetime(value) if value else None
        if when is not None:
            return max(0.0, when.timestamp() - time.time())
    details = exc.details.get("error", exc.details) if isinstance(exc.details, dict) else {}
    for item in details.get("details", []) if isinstance(details, dict) else []:
        delay = item.get("retryDelay") if isinstance(item, dict) else None
        if isinstance(delay, str) and re.fullmatch(r"\d+(\.\d+)?s", delay):
            return float(delay[:-1])
    return None
