"""A small fake of the Gemini REST API on loopback, for driving the real google-genai client.

It speaks the wire format google-genai 3.6.1 uses:
  * POST /upload/v1beta/files  with X-Goog-Upload-Protocol: resumable, X-Goog-Upload-Command: start
    -> 200, X-Goog-Upload-URL header (absolute; the client posts the bytes there)
  * POST <upload URL>  with X-Goog-Upload-Command: "upload, finalize", X-Goog-Upload-Offset, raw bytes
    -> 200, X-Goog-Upload-Status: final, body {"file": {...}}
  * GET /v1beta/files/{id} -> the file, its `state` following the scripted sequence
  * DELETE /v1beta/files/{id} -> {}
  * POST /v1beta/models/{model}:generateContent -> scripted replies, else a valid default answer
(`v1beta` shown; `v1` and `v1alpha` paths are answered the same way.)
Every request is recorded (method, path, headers, raw body, parsed JSON) for assertions.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

DEFAULT_ANSWER: dict[str, Any] = {
    "summary": {
        "overall": "A test pattern with a steady tone; a presenter names the Siemens factory in Munich.",
        "keywords": ["test pattern", "tone", "factory"],
        "scene_classification": ["indoor"],
        "sentiment": "neutral",
    },
    "audio_analysis": {
        "transcript": {
            "language": "en",
            "segments": [{"start_seconds": "00:01", "end_seconds": "00:03", "text": "Welcome to Munich."}],
        },
        "sound_events": [{"start_seconds": "00:00", "end_seconds": "00:02", "label": "sine tone", "category": "other"}],
        "speakers": [],
        "audio_quality": "clear",
    },
    "visual_analysis": {
        "shot_types": [{"start_seconds": "00:00", "end_seconds": "00:02", "shot_type": "no people"}],
        "focal_length_category": "normal",
        "technical_quality": "good",
        "text_and_graphics": [],
        "keyframe_recommendations": [{"seconds": "00:01", "reason": "clearest frame"}],
    },
    "content_analysis": {
        "people": ["Angela Merkel"],
        "organizations": ["Siemens"],
        "locations": ["Munich"],
        "activity_summary": [],
        "content_warnings": [],
    },
}

_VERSIONED = re.compile(r"^/(upload/)?(v1|v1beta|v1alpha)/(.*)$")

DEFAULT_USAGE = {"promptTokenCount": 1200, "candidatesTokenCount": 300, "totalTokenCount": 1500}


@dataclass
class Reply:
    """One scripted HTTP reply."""

    status: int = 200
    body: Any = None  # dict -> JSON; str/bytes sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (client timeouts)


@dataclass
class Recorded:
    method: str
    path: str  # path with query
    headers: dict[str, str]  # lower-case names
    body: bytes
    json: Any
    at: float

    @property
    def route(self) -> str:
        return urlsplit(self.path).path


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def json_field(obj: dict[str, Any] | None, camel: str) -> Any:
    """A field by its lowerCamel or snake_case JSON name: proto JSON parsers accept either."""
    if not obj:
        return None
    return obj.get(camel, obj.get(_snake(camel)))


def answer_body(text: str, *, finish_reason: str = "STOP", usage: dict[str, int] | None = None) -> dict[str, Any]:
    """A generateContent response whose single candidate says `text`."""
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": finish_reason, "index": 0}],
        "usageMetadata": dict(usage or DEFAULT_USAGE),
        "modelVersion": "gemini-2.5-flash",
    }


def error_body(code: int, status: str, message: str) -> dict[str, Any]:
    """The Google API error envelope."""
    return {"error": {"code": code, "message": message, "status": status}}


def blocked_body(reason: str = "SAFETY") -> dict[str, Any]:
    """Prompt blocked: no candidates, promptFeedback.blockReason set."""
    return {"promptFeedback": {"blockReason": reason,
                               "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}]},
            "usageMetadata": {"promptTokenCount": 1200, "totalTokenCount": 1200}}


class FakeGemini:
    """Context manager: a ThreadingHTTPServer on 127.0.0.1:<free port> in a daemon thread."""

    def __init__(self, *, file_states: list[str] | None = None, upload_state: str = "PROCESSING",
                 default_answer: dict[str, Any] | None = None, default_usage: dict[str, int] | None = None) -> None:
        self.requests: list[Recorded] = []
        self.generate_replies: deque[Reply] = deque()
        self.file_states: deque[str] = deque(file_states if file_states is not None else ["PROCESSING", "ACTIVE"])
        self.upload_state = upload_state
        self.api_version = "v1beta"  # the last version a request used
        self.default_answer = default_answer if default_answer is not None else DEFAULT_ANSWER
        self.default_usage = default_usage or DEFAULT_USAGE
        self.files: dict[str, dict[str, Any]] = {}
        self.uploaded: dict[str, bytes] = {}
        self._sessions: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting -----------------------------------------------------------------------------------

    def queue_generate(self, status: int = 200, body: Any = None, *, retry_after: str | None = None,
                       delay: float = 0.0) -> None:
        """Next generateContent reply (FIFO); once the queue is empty the default answer is served."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.generate_replies.append(Reply(status=status, body=body, headers=headers, delay=delay))

    def queue_answer_text(self, text: str, **kwargs: Any) -> None:
        self.queue_generate(200, answer_body(text, **kwargs))

    def queue_error(self, code: int, status: str, message: str, *, retry_after: str | None = None) -> None:
        self.queue_generate(code, error_body(code, status, message), retry_after=retry_after)

    # -- lifecycle -----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeGemini:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    parsed = json.loads(body) if body and "json" in (self.headers.get("Content-Type") or "") else None
                except ValueError:
                    parsed = None
                record = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                  body, parsed, time.monotonic())
                with fake._lock:
                    fake.requests.append(record)
                    reply = fake._route(record)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def _send(self, reply: Reply) -> None:
                if isinstance(reply.body, (dict, list)):
                    payload = json.dumps(reply.body).encode()
                    content_type = "application/json; charset=UTF-8"
                elif isinstance(reply.body, str):
                    payload = reply.body.encode()
                    content_type = "text/plain; charset=UTF-8"
                else:
                    payload = reply.body or b""
                    content_type = "application/json; charset=UTF-8"
                self.send_response(reply.status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-gemini", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- queries for assertions ----------------------------------------------------------------------

    def calls(self, method: str | None = None, contains: str = "") -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method) and contains in r.route]

    @property
    def generate_calls(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.route.endswith(":generateContent")]

    # -- the API -------------------------------------------------------------------------------------

    def _route(self, req: Recorded) -> Reply:
        # Answers on any API version (the client is pinned to v1beta; the SDK's own default is v1) and
        # records which one was used, so tests can assert it.
        match = _VERSIONED.match(req.route)
        if match is None:
            return Reply(404, error_body(404, "NOT_FOUND", f"no route for {req.method} {req.route}"))
        upload, self.api_version, path = match.group(1), match.group(2), "/" + match.group(3)
        if upload and req.method == "POST" and path == "/files":
            return self._upload_start(req)
        if upload and req.method == "POST" and path == "/files/session":
            return self._upload_chunk(req)
        if not upload and path.startswith("/files/"):
            file_id = path.removeprefix("/files/")
            if file_id not in self.files:
                return Reply(404, error_body(404, "NOT_FOUND", f"File {file_id} not found."))
            if req.method == "GET":
                if self.file_states:
                    self.files[file_id]["state"] = self.file_states.popleft()
                return Reply(200, self._file_json(file_id))
            if req.method == "DELETE":
                del self.files[file_id]
                return Reply(200, {})
        if req.method == "POST" and path.startswith("/models/") and path.endswith(":generateContent"):
            if self.generate_replies:
                return self.generate_replies.popleft()
            return Reply(200, answer_body(json.dumps(self.default_answer), usage=self.default_usage))
        return Reply(404, error_body(404, "NOT_FOUND", f"no route for {req.method} {req.route}"))

    def _upload_start(self, req: Recorded) -> Reply:
        if req.headers.get("x-goog-upload-protocol") != "resumable" or req.headers.get("x-goog-upload-command") != "start":
            return Reply(400, error_body(400, "INVALID_ARGUMENT", "expected a resumable upload start"))
        meta = (req.json or {}).get("file", {})
        token = uuid.uuid4().hex
        self._sessions[token] = {
            "size": int(req.headers.get("x-goog-upload-header-content-length", "0")),
            # google-genai sends the File with snake_case keys (display_name, mime_type); proto JSON
            # accepts both spellings, so this fake does too.
            "mime": req.headers.get("x-goog-upload-header-content-type") or json_field(meta, "mimeType"),
            "display": json_field(meta, "displayName"),
            "data": b"",
        }
        # An absolute URL on this server: google-genai 3.6.1 posts the bytes to it as given (it only swaps
        # in the host when the upload call itself carries a base_url, which files.upload does not pass).
        upload_url = f"{self.url}/upload/{self.api_version}/files/session?upload_id={token}&upload_protocol=resumable"
        return Reply(200, b"", {"X-Goog-Upload-URL": upload_url, "X-Goog-Upload-Status": "active",
                                "X-Goog-Upload-Chunk-Granularity": "8388608"})

    def _upload_chunk(self, req: Recorded) -> Reply:
        token = urlsplit(req.path).query.split("upload_id=")[-1].split("&")[0]
        session = self._sessions.get(token)
        if session is None:
            return Reply(404, error_body(404, "NOT_FOUND", "unknown upload session"))
        offset = int(req.headers.get("x-goog-upload-offset", "-1"))
        if offset != len(session["data"]):
            return Reply(400, error_body(400, "INVALID_ARGUMENT", "wrong upload offset"), {"X-Goog-Upload-Status": "active"})
        session["data"] += req.body
        commands = [c.strip() for c in req.headers.get("x-goog-upload-command", "").split(",")]
        if "finalize" not in commands:
            return Reply(200, b"", {"X-Goog-Upload-Status": "active"})
        file_id = "f" + token[:12]
        self.uploaded[file_id] = session["data"]
        self.files[file_id] = {"name": f"files/{file_id}", "displayName": session["display"], "mimeType": session["mime"],
                               "sizeBytes": str(len(session["data"])), "state": self.upload_state,
                               "uri": f"https://generativelanguage.googleapis.com/{self.api_version}/files/{file_id}"}
        return Reply(200, {"file": self._file_json(file_id)}, {"X-Goog-Upload-Status": "final"})

    def _file_json(self, file_id: str) -> dict[str, Any]:
        info = dict(self.files[file_id])
        if info["state"] == "FAILED":
            info["error"] = {"code": 3, "message": "Video could not be decoded."}
        return info
