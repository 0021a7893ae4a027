"""A small fake OpenAI-compatible server for the tests: real HTTP on 127.0.0.1, the real
`/v1/chat/completions` wire format, so the real openai client (its retries, Retry-After handling,
error mapping) is exercised rather than mocked.

Replies are scripted: each request takes the next queued `Reply`, and once the queue is empty gets
the default success completion. Every request is recorded (path, headers, JSON body).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_USAGE = {"prompt_tokens": 1234, "completion_tokens": 321, "total_tokens": 1555}

# A valid AnalysisAnswer, written the way models often write times (MM:SS strings).
DEFAULT_ANSWER: dict[str, Any] = {
    "summary": {
        "overall": "A presenter stands on a harbour quay and talks about the fishing boats behind her.",
        "keywords": ["harbour", "fishing boats", "presenter", "quay", "interview"],
        "scene_classification": ["outdoor", "day"],
        "sentiment": "calm",
    },
    "audio_analysis": {
        "transcript": {
            "language": "en",
            "segments": [{"start_seconds": "00:01", "end_seconds": "00:04", "text": "Hello and welcome to the harbour."}],
        },
        "sound_events": [{"start_seconds": "00:00", "end_seconds": "00:09", "label": "Seagulls", "category": "animal"}],
        "speakers": [{"speaker_id": "SPEAKER_1", "speaking_seconds": 3.0}],
        "audio_quality": "clear",
    },
    "visual_analysis": {
        "shot_types": [{"start_seconds": "00:00", "end_seconds": "00:09", "shot_type": "medium"}],
        "focal_length_category": "normal",
        "technical_quality": "good",
        "text_and_graphics": [{"start_seconds": "00:02", "end_seconds": "00:05", "text": "PORT ELLEN", "kind": "text"}],
        "keyframe_recommendations": [{"seconds": "00:05", "reason": "presenter and boats in frame"}],
    },
    "content_analysis": {
        "people": ["Anna Berg"],
        "organizations": ["Port Ellen Harbour Trust"],
        "locations": ["Port Ellen"],
        "activity_summary": [{"start_seconds": "00:00", "end_seconds": "01:05", "activity": "presenting", "importance": "high"}],
        "content_warnings": [],
    },
}


def completion_body(content: str | None, *, model: str = "test-model", finish_reason: str = "stop",
                    refusal: str | None = None, usage: dict[str, int] | None = DEFAULT_USAGE) -> dict[str, Any]:
    """A `chat.completion` object as OpenAI sends it."""
    body: dict[str, Any] = {
        "id": "chatcmpl-fake-1",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": refusal},
            "logprobs": None,
            "finish_reason": finish_reason,
        }],
    }
    if usage is not None:
        body["usage"] = usage
    return body


def error_body(message: str, *, type_: str = "invalid_request_error", param: str | None = None,
               code: str | None = None) -> dict[str, Any]:
    """OpenAI's error envelope: {"error": {"message", "type", "param", "code"}}."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


@dataclass
class Reply:
    """One scripted answer. `body` None means the default success completion; `delay` stalls first."""

    status: int = 200
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    @classmethod
    def content(cls, content: str | None, **kwargs: Any) -> Reply:
        return cls(body=completion_body(content, **kwargs))

    @classmethod
    def error(cls, status: int, message: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Reply:
        return cls(status=status, body=error_body(message, **kwargs), headers=dict(headers or {}))


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any


class FakeOpenAIServer:
    """Context manager: `with FakeOpenAIServer() as server:` then point a client at `server.base_url`."""

    def __init__(self, *, reject_json_schema: bool = False, answer: dict[str, Any] | None = None) -> None:
        self.reject_json_schema = reject_json_schema
        self.answer = answer if answer is not None else DEFAULT_ANSWER
        self.requests: list[RecordedRequest] = []
        self.replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting ---------------------------------------------------------------------------------

    def queue(self, *replies: Reply) -> FakeOpenAIServer:
        with self._lock:
            self.replies.extend(replies)
        return self

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def bodies(self) -> list[Any]:
        with self._lock:
            return [r.body for r in self.requests]

    # -- what a request gets -----------------------------------------------------------------------

    def _respond(self, method: str, path: str, body: Any) -> Reply:
        if method != "POST" or path.split("?")[0] != "/v1/chat/completions":
            return Reply.error(404, f"Unknown request URL: {method} {path}", code="unknown_url")
        fmt = body.get("response_format") if isinstance(body, dict) else None
        if self.reject_json_schema and isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            # What a server without structured-output support says (OpenAI's envelope, param named).
            return Reply.error(400, "response_format of type 'json_schema' is not supported by this model",
                               param="response_format")
        with self._lock:
            reply = self.replies.popleft() if self.replies else Reply()
        if reply.status == 200 and reply.body is None:
            model = body.get("model", "test-model") if isinstance(body, dict) else "test-model"
            reply = Reply(body=completion_body(json.dumps(self.answer), model=model), headers=reply.headers,
                          delay=reply.delay)
        return reply

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do; every reply has a Content-Length

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body: Any = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    body = raw.decode("utf-8", "replace")
                with server._lock:
                    server.requests.append(RecordedRequest(self.command, self.path,
                                                           {k.lower(): v for k, v in self.headers.items()}, body))
                reply = server._respond(self.command, self.path, body)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = (reply.body if isinstance(reply.body, str) else json.dumps(reply.body)).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (timeout test)

            do_POST = _handle
            do_GET = _handle

        return Handler

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        httpd.daemon_threads = True
        httpd.block_on_close = False
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
