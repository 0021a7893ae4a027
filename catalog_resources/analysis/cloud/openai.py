"""The OpenAI-compatible analysis backend: one `/v1/chat/completions` call per clip, for any server that
speaks that wire format (OpenAI, OpenRouter, vLLM, Ollama, LM Studio...).

Such servers take images, not video or audio, so a clip goes as a handful of keyframes (each labelled
with its time) plus the transcript the local speech model made. The answer is asked for as structured
output against the catalog's answer schema; a server without JSON-schema support gets plain JSON mode
with the schema written into the prompt instead, and the instance remembers that for later clips.

Retries (429, 5xx, timeouts, dropped connections, honouring Retry-After) are the openai client's own;
this module only turns what is left into one-line errors that name the clip.
"""

from __future__ import annotations

import base64
import io
import ipaddress
import json
import os
import threading
from typing import Any
from urllib.parse import urlsplit

import openai
from PIL import Image, ImageOps

from catalog_resources.analysis.cloud.common import (
    AnalyzerError,
    BlockedAnswerError,
    CloudAnswer,
    CloudRequest,
    MalformedAnswerError,
    MissingKeyError,
    Usage,
    answer_schema,
    one_line,
    parse_answer,
)

BACKEND = "openai"
KEY_ENV = "OPENAI_API_KEY"
MESSAGE_LIMIT = 300  # characters of a server message kept in an error line
KEY_OPTION = "VIDEO_CATALOG_OPENAI_API_KEY"  # the catalog setting (openai_api_key) that overrides it
BASE_URL_ENV = "OPENAI_BASE_URL"  # what the openai client itself reads when no base_url is given
LOCAL_KEY_PLACEHOLDER = "not-needed"  # local servers ignore the key, but the client insists on one
SCHEMA_NAME = "clip_analysis"
JPEG_QUALITY = 85


def is_local_url(base_url: str | None) -> bool:
    """True for a server on this machine (localhost or a loopback address): those rarely check keys."""
    if not base_url:
        return False
    host = urlsplit(base_url if "//" in base_url else f"//{base_url}").hostname
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_openai_key(explicit: str | None, base_url: str | None) -> str:
    """The API key to send: the configured one, else OPENAI_API_KEY, else a placeholder for a local server.

    Called before any clip is touched so a missing key fails the run at once, not after the first
    clip's frames were prepared and a request was sent to be refused.
    """
    if explicit and explicit.strip():
        return explicit.strip()
    env = os.environ.get(KEY_ENV, "").strip()
    if env:
        return env
    effective = base_url or os.environ.get(BASE_URL_ENV)
    if is_local_url(effective):
        return LOCAL_KEY_PLACEHOLDER
    where = effective or "https://api.openai.com/v1"
    raise MissingKeyError(
        f"no API key for the OpenAI-compatible analyzer at {where}: set {KEY_ENV} or {KEY_OPTION} "
        "(a server on localhost needs none)"
    )


def pick_frames(frames: list[tuple[float, str]], limit: int) -> list[tuple[float, str]]:
    """At most `limit` frames spread evenly over the list, first and last included, in time order.

    Every image costs prompt tokens (and on small local models, context), so a long clip's many
    keyframes are thinned rather than truncated: the end of the clip stays represented.
    """
    if limit <= 0 or not frames:
        return []
    if len(frames) <= limit:
        return list(frames)
    if limit == 1:
        return [frames[len(frames) // 2]]
    step = (len(frames) - 1) / (limit - 1)
    indices = sorted({round(i * step) for i in range(limit)})
    return [frames[i] for i in indices]


def jpeg_data_url(path: str, max_side: int) -> str:
    """The image as a base64 JPEG data URL, no side longer than `max_side`.

    Data URLs work on every OpenAI-compatible server (local ones cannot fetch file paths), and
    shrinking first keeps the request small: vision models downscale large images anyway.
    """
    with Image.open(path) as img:
        img = ImageOps.exif_transpose(img)
        if img.mode != "RGB":
            img = img.convert("RGB")
        if max_side > 0:
            img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=JPEG_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _server_message(exc: openai.APIStatusError) -> str:
    """The server's own error text: `error.message` in OpenAI's shape, else whatever body it sent."""
    body = exc.body
    if isinstance(body, dict):
        message = body.get("message") or body.get("detail") or body.get("error")
        if message:
            return one_line(message if isinstance(message, str) else json.dumps(message), MESSAGE_LIMIT)
        return one_line(json.dumps(body), MESSAGE_LIMIT)
    if isinstance(body, str) and body.strip():
        return one_line(body, MESSAGE_LIMIT)
    return "(no message)"


def _is_schema_rejection(exc: openai.APIStatusError) -> bool:
    """Does this error say the server cannot do `response_format: json_schema`?

    vLLM/Ollama/LM Studio versions without structured output answer 400 naming the field, or 422
    from their request validation; any other 400 (bad model name, image too large) is a real error.
    """
    if exc.status_code == 422:
        return True
    if exc.status_code != 400:
        return False
    text = f"{exc.message} {json.dumps(exc.body, default=str) if exc.body is not None else ''}".lower()
    return "response_format" in text or "json_schema" in text or "response format" in text


class OpenAIClient:
    """Analyses one clip per chat completion on an OpenAI-compatible server.

    The client is built on first use so constructing the analyzer (in a resource, at definition
    load) never needs a key or a server; `check_key()` is the early, cheap failure.
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        max_attempts: int = 5,
        timeout_seconds: float = 300.0,
        max_frames: int = 8,
        image_max_side: int = 768,
        json_schema: bool = True,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.model = model
        self.base_url = base_url
        self.api_key = api_key
        self.max_attempts = max_attempts
        self.timeout_seconds = timeout_seconds
        self.max_frames = max_frames
        self.image_max_side = image_max_side
        # Flips to False (for this instance) once a server refuses json_schema, so later clips do not
        # pay a rejected request each.
        self.json_schema = json_schema
        self._client: openai.OpenAI | None = None
        self._lock = threading.Lock()

    # -- setup -------------------------------------------------------------------------------------

    def check_key(self) -> None:
        """Raise MissingKeyError now if no key is configured (and the server is not local)."""
        resolve_openai_key(self.api_key, self.base_url)

    def _where(self) -> str:
        return self.base_url or os.environ.get(BASE_URL_ENV) or "https://api.openai.com/v1"

    def client(self) -> openai.OpenAI:
        """The openai client, made once; its own retries are `max_attempts - 1`."""
        with self._lock:
            if self._client is None:
                key = resolve_openai_key(self.api_key, self.base_url)
                self._client = openai.OpenAI(
                    base_url=self.base_url,
                    api_key=key,
                    max_retries=self.max_attempts - 1,
                    timeout=self.timeout_seconds,
                )
            return self._client

    # -- request -----------------------------------------------------------------------------------

    def _intro_text(self, request: CloudRequest, frame_count: int, structured: bool) -> str:
        """The prompt plus what an image-only model must be told: what it gets instead of the video."""
        parts = [request.prompt.strip()]
        context = request.technical_context.strip()
        if context and context not in request.prompt:
            parts.append(f"Technical facts measured by the catalog (trust them over your impression):\n{context}")
        length = f" of the {request.duration:.1f} s clip" if request.duration else ""
        parts.append(
            f"You cannot watch or hear the clip itself: you get {frame_count} keyframes{length}, each labelled with "
            "its time in seconds from the clip's start, and the machine transcript below for what is said."
        )
        transcript = (request.transcript or "").strip()
        if transcript:
            parts.append(
                "Machine transcript (made by local speech recognition, not checked by a person; it may contain "
                "recognition errors; times are seconds from the clip's start):\n" + transcript
            )
        else:
            parts.append("Machine transcript: none is available for this clip.")
        if structured:
            parts.append("Answer with one JSON object that follows the response schema.")
        else:
            schema = json.dumps(answer_schema(), separators=(",", ":"))
            parts.append(
                "Answer with one JSON object only (no prose, no code fences) that follows this JSON schema:\n" + schema
            )
        return "\n\n".join(parts)

    def build_messages(self, request: CloudRequest, structured: bool) -> list[dict[str, Any]]:
        """One user message: the text, then each chosen keyframe preceded by its time."""
        frames = pick_frames(request.frames, self.max_frames)
        content: list[dict[str, Any]] = [{"type": "text", "text": self._intro_text(request, len(frames), structured)}]
        for seconds, path in frames:
            try:
                url = jpeg_data_url(path, self.image_max_side)
            except OSError as exc:
                raise AnalyzerError(f"clip {request.clip_id}: cannot read keyframe {path}: {exc}") from exc
            content.append({"type": "text", "text": f"Frame at {seconds:.1f} s"})
            content.append({"type": "image_url", "image_url": {"url": url}})
        return [{"role": "user", "content": content}]

    @staticmethod
    def response_format(structured: bool) -> dict[str, Any]:
        """json_schema (non-strict: the schema has optional fields strict mode would reject) or json_object."""
        if structured:
            return {"type": "json_schema",
                    "json_schema": {"name": SCHEMA_NAME, "schema": answer_schema(), "strict": False}}
        return {"type": "json_object"}

    def _complete(self, request: CloudRequest, structured: bool) -> Any:
        return self.client().chat.completions.create(
            model=self.model,
            messages=self.build_messages(request, structured),  # type: ignore[arg-type]
            response_format=self.response_format(structured),  # type: ignore[arg-type]
        )

    # -- the call ----------------------------------------------------------------------------------

    def analyze(self, request: CloudRequest) -> CloudAnswer:
        """One clip's answer, parsed and validated; every failure is an AnalyzerError naming the clip."""
        clip = request.clip_id
        calls = 0
        try:
            structured = self.json_schema
            try:
                calls += 1
                response = self._complete(request, structured)
            except openai.APIStatusError as exc:
                if not (structured and _is_schema_rejection(exc)):
                    raise
                self.json_schema = False  # remembered: this server cannot do json_schema
                calls += 1
                response = self._complete(request, structured=False)
        except openai.APITimeoutError as exc:
            raise AnalyzerError(
                f"clip {clip}: no answer from {self._where()} within {self.timeout_seconds:g} s "
                f"({self.max_attempts} attempt(s))") from exc
        except openai.APIConnectionError as exc:
            cause = exc.__cause__ or exc
            raise AnalyzerError(
                f"clip {clip}: cannot reach {self._where()} ({self.max_attempts} attempt(s)): "
                f"{one_line(str(cause), MESSAGE_LIMIT) or type(cause).__name__}") from exc
        except openai.APIStatusError as exc:
            hint = ""
            if exc.status_code in (401, 403):
                hint = f"; check {KEY_ENV} or {KEY_OPTION}"
            elif exc.status_code == 404:
                hint = f"; check the model name ({self.model}) and base_url"
            raise AnalyzerError(
                f"clip {clip}: {self._where()} answered HTTP {exc.status_code}: {_server_message(exc)}{hint}") from exc
        except openai.OpenAIError as exc:
            raise AnalyzerError(f"clip {clip}: OpenAI-compatible request failed: {one_line(str(exc), MESSAGE_LIMIT)}") from exc

        usage = Usage(requests=calls)
        if response.usage is not None:
            usage = Usage(prompt_tokens=response.usage.prompt_tokens or 0,
                          output_tokens=response.usage.completion_tokens or 0, requests=calls)
        if not response.choices:
            raise MalformedAnswerError(f"clip {clip}: the analyzer answered with no choices", "")
        choice = response.choices[0]
        message = choice.message
        raw = (message.content if message is not None else None) or ""
        refusal = getattr(message, "refusal", None) if message is not None else None
        if choice.finish_reason == "content_filter":
            raise BlockedAnswerError(f"clip {clip}: {self.model} withheld the answer (content filter)", "content_filter")
        if refusal:
            raise BlockedAnswerError(f"clip {clip}: {self.model} refused: {one_line(refusal, MESSAGE_LIMIT)}", one_line(refusal, MESSAGE_LIMIT))
        try:
            answer = parse_answer(raw, clip)
        except MalformedAnswerError as exc:
            if choice.finish_reason == "length":
                raise MalformedAnswerError(f"{exc} (the answer was cut off at the model's output token limit)",
                                           exc.raw) from exc
            raise
        return CloudAnswer(answer=answer, raw=raw, model=response.model or self.model, usage=usage)
