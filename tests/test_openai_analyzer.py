"""The OpenAI-compatible analyzer against a local server speaking the real chat-completions wire format,
through the real openai client: request shape, structured output and its fallback, the client's retries
and Retry-After, and every failure becoming a one-line AnalyzerError that names the clip."""

from __future__ import annotations

import base64
import io
import json
import socket
import time

import pytest
from PIL import Image

from catalog_resources.analysis.cloud.common import (
    AnalyzerError,
    BlockedAnswerError,
    CloudRequest,
    MalformedAnswerError,
    MissingKeyError,
    answer_schema,
    to_analysis,
)
from catalog_resources.analysis.cloud.openai import OpenAIClient, is_local_url, pick_frames, resolve_openai_key
from tests.openai_server import DEFAULT_ANSWER, FakeOpenAIServer, Reply

PROMPT = "You are cataloguing a video clip. Answer with JSON that follows the given schema."
TRANSCRIPT = "[1.0-4.0] Hello and welcome to the harbour.\n[5.0-8.5] The boats go out at dawn."
TECH = "duration 9.0 s; 1920x1080 at 25 fps; stereo audio"
FAST = {"retry-after-ms": "10"}  # keeps the client's retries quick (it prefers retry-after-ms)


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    """No ambient key, base URL or proxy may leak into these tests."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_CUSTOM_HEADERS", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID",
                 "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def server():
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture
def request_(tmp_path) -> CloudRequest:
    """Ten 1280x720 keyframes, one per second, each a different colour."""
    frames = []
    for i in range(10):
        path = tmp_path / f"frame_{i:02d}.jpg"
        Image.new("RGB", (1280, 720), (20 * i, 120, 255 - 20 * i)).save(path, quality=90)
        frames.append((float(i), str(path)))
    return CloudRequest(clip_id="clip-0042", prompt=PROMPT, duration=9.5, frames=frames,
                        transcript=TRANSCRIPT, technical_context=TECH)


def analyzer(srv: FakeOpenAIServer, **kwargs) -> OpenAIClient:
    kwargs.setdefault("api_key", "sk-test")
    return OpenAIClient(model="test-vision-model", base_url=srv.base_url, **kwargs)


def parts(body: dict) -> list[dict]:
    (message,) = body["messages"]
    assert message["role"] == "user"
    return message["content"]


def test_success_request_shape_and_answer(server, request_):
    result = analyzer(server, max_frames=4, image_max_side=512).analyze(request_)

    (req,) = server.requests
    assert req.method == "POST" and req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == "Bearer sk-test"
    body = req.body
    assert body["model"] == "test-vision-model"
    content = parts(body)

    intro = content[0]
    assert intro["type"] == "text"
    assert PROMPT in intro["text"] and TECH in intro["text"] and TRANSCRIPT in intro["text"]
    assert "machine transcript" in intro["text"].lower()

    # 4 of 10 frames, spread evenly (first and last kept), each preceded by its time.
    rest = content[1:]
    assert [p["type"] for p in rest] == ["text", "image_url"] * 4
    assert [p["text"] for p in rest[::2]] == ["Frame at 0.0 s", "Frame at 3.0 s", "Frame at 6.0 s", "Frame at 9.0 s"]
    for part in rest[1::2]:
        url = part["image_url"]["url"]
        assert url.startswith("data:image/jpeg;base64,")
        with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as img:
            assert img.format == "JPEG"
            assert max(img.size) <= 512 and img.size == (512, 288)

    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "clip_analysis"
    assert fmt["json_schema"]["schema"] == answer_schema()
    assert fmt["json_schema"]["strict"] is False

    # MM:SS became seconds; the rest came through as the model wrote it.
    answer = result.answer
    assert answer["summary"]["keywords"] == DEFAULT_ANSWER["summary"]["keywords"]
    assert answer["content_analysis"]["people"] == ["Anna Berg"]
    assert answer["content_analysis"]["locations"] == ["Port Ellen"]
    assert answer["visual_analysis"]["keyframe_recommendations"][0]["seconds"] == 5.0
    assert answer["audio_analysis"]["transcript"]["segments"][0]["start_seconds"] == 1.0
    assert answer["content_analysis"]["activity_summary"][0]["end_seconds"] == 65.0
    assert json.loads(result.raw) == DEFAULT_ANSWER
    assert result.model == "test-vision-model"
    assert (result.usage.prompt_tokens, result.usage.output_tokens, result.usage.requests) == (1234, 321, 1)
    analysis = to_analysis(result.answer, clip_id="clip-0042", backend="openai", model=result.model, code_version="x")
    assert analysis.summary.keywords[0] == "harbour"


def test_no_transcript_and_few_frames(server, request_):
    req = request_.model_copy(update={"transcript": None, "frames": request_.frames[:2]})
    analyzer(server).analyze(req)
    content = parts(server.requests[0].body)
    assert "Machine transcript: none" in content[0]["text"]
    assert [p["text"] for p in content[1::2]] == ["Frame at 0.0 s", "Frame at 1.0 s"]
    with Image.open(io.BytesIO(base64.b64decode(content[2]["image_url"]["url"].split(",", 1)[1]))) as img:
        assert img.size == (768, 432)  # the default image_max_side


def test_json_schema_rejected_falls_back_to_json_object_and_remembers(request_):
    with FakeOpenAIServer(reject_json_schema=True) as srv:
        a = analyzer(srv)
        first = a.analyze(request_)
        assert [b["response_format"]["type"] for b in srv.bodies()] == ["json_schema", "json_object"]
        assert first.answer["visual_analysis"]["keyframe_recommendations"][0]["seconds"] == 5.0
        assert first.usage.requests == 2
        # In JSON mode nothing else tells the model the schema, so the prompt carries it.
        fallback_text = parts(srv.bodies()[1])[0]["text"]
        assert json.dumps(answer_schema(), separators=(",", ":")) in fallback_text
        assert "json_schema" not in srv.bodies()[1]["response_format"]

        a.analyze(request_)
        assert [b["response_format"]["type"] for b in srv.bodies()] == ["json_schema", "json_object", "json_object"]
        assert a.json_schema is False


def test_422_also_falls_back(server, request_):
    server.queue(Reply.error(422, "Input validation error: unknown field"))
    result = analyzer(server).analyze(request_)
    assert [b["response_format"]["type"] for b in server.bodies()] == ["json_schema", "json_object"]
    assert result.answer["summary"]["sentiment"] == "calm"


def test_other_400_is_an_error_not_a_fallback(server, request_):
    server.queue(Reply.error(400, "The model `nope` does not exist", param="model"))
    with pytest.raises(AnalyzerError) as err:
        analyzer(server).analyze(request_)
    assert len(server.requests) == 1
    message = str(err.value)
    assert "clip-0042" in message and "400" in message and "The model `nope` does not exist" in message
    assert "\n" not in message


def test_json_schema_off_from_the_start(server, request_):
    analyzer(server, json_schema=False).analyze(request_)
    assert server.bodies()[0]["response_format"] == {"type": "json_object"}


def test_429_with_retry_after_is_retried_by_the_client(server, request_):
    server.queue(Reply.error(429, "Rate limit reached", headers={"retry-after": "1"}, type_="requests",
                             code="rate_limit_exceeded"))
    started = time.monotonic()
    result = analyzer(server).analyze(request_)
    elapsed = time.monotonic() - started
    assert len(server.requests) == 2
    assert elapsed >= 0.9  # Retry-After: 1 was honoured, not the 0.5 s default backoff
    assert [r.headers.get("x-stainless-retry-count") for r in server.requests] == ["0", "1"]
    assert result.answer["summary"]["keywords"]


def test_500_three_times_gives_up_after_max_attempts(server, request_):
    server.queue(*[Reply.error(500, "upstream model crashed", headers=FAST, type_="server_error")] * 3)
    with pytest.raises(AnalyzerError) as err:
        analyzer(server, max_attempts=3).analyze(request_)
    assert len(server.requests) == 3
    message = str(err.value)
    assert "clip-0042" in message and "500" in message and "upstream model crashed" in message
    assert "\n" not in message


def test_500_then_success_within_attempts(server, request_):
    server.queue(Reply.error(503, "loading model", headers=FAST), Reply.error(502, "bad gateway", headers=FAST))
    result = analyzer(server, max_attempts=3).analyze(request_)
    assert len(server.requests) == 3
    assert result.usage.prompt_tokens == 1234


def test_invalid_json_is_malformed_with_raw(server, request_):
    raw = 'Sure! Here is the analysis: {"summary": {"overall": "boats"'
    server.queue(Reply.content(raw))
    with pytest.raises(MalformedAnswerError) as err:
        analyzer(server).analyze(request_)
    assert err.value.raw == raw
    assert "clip-0042" in str(err.value)


def test_schema_mismatch_is_malformed(server, request_):
    raw = json.dumps({"summary": {"keywords": "not a list"}})
    server.queue(Reply.content(raw))
    with pytest.raises(MalformedAnswerError) as err:
        analyzer(server).analyze(request_)
    assert err.value.raw == raw and "summary.keywords" in str(err.value)


def test_empty_content_is_malformed(server, request_):
    server.queue(Reply.content(None))
    with pytest.raises(MalformedAnswerError) as err:
        analyzer(server).analyze(request_)
    assert err.value.raw == ""


def test_truncated_answer_says_so(server, request_):
    server.queue(Reply.content('{"summary": {"overall": "a very long', finish_reason="length"))
    with pytest.raises(MalformedAnswerError, match="cut off"):
        analyzer(server).analyze(request_)


def test_fenced_json_is_accepted(server, request_):
    server.queue(Reply.content("```json\n" + json.dumps(DEFAULT_ANSWER) + "\n```", usage=None))
    result = analyzer(server).analyze(request_)
    assert result.answer["summary"]["sentiment"] == "calm"
    assert (result.usage.prompt_tokens, result.usage.requests) == (0, 1)  # a server that reports no usage


def test_content_filter_is_blocked(server, request_):
    server.queue(Reply.content(None, finish_reason="content_filter"))
    with pytest.raises(BlockedAnswerError) as err:
        analyzer(server).analyze(request_)
    assert err.value.reason == "content_filter" and "clip-0042" in str(err.value)


def test_refusal_is_blocked(server, request_):
    server.queue(Reply.content(None, refusal="I can't help with that."))
    with pytest.raises(BlockedAnswerError) as err:
        analyzer(server).analyze(request_)
    assert err.value.reason == "I can't help with that."


def test_missing_key_for_remote_server_fails_before_any_request(request_):
    a = OpenAIClient(model="gpt-test", base_url="https://api.example.invalid/v1")
    with pytest.raises(MissingKeyError) as err:
        a.check_key()
    assert "OPENAI_API_KEY" in str(err.value) and "VIDEO_CATALOG_OPENAI_API_KEY" in str(err.value)
    started = time.monotonic()
    with pytest.raises(MissingKeyError):
        a.analyze(request_)  # a request would fail on DNS with an AnalyzerError instead
    assert time.monotonic() - started < 1.0
    with pytest.raises(MissingKeyError):
        OpenAIClient(model="gpt-test").check_key()  # default base URL is OpenAI's


def test_local_server_needs_no_key(server, request_):
    a = OpenAIClient(model="llava", base_url=server.base_url)
    a.check_key()
    a.analyze(request_)
    assert server.requests[0].headers["authorization"] == "Bearer not-needed"
    # localhost by name works too
    OpenAIClient(model="llava", base_url=f"http://localhost:{server.port}/v1").analyze(request_)
    assert len(server.requests) == 2


def test_key_resolution(monkeypatch):
    assert resolve_openai_key(" sk-explicit ", "https://api.example.invalid/v1") == "sk-explicit"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    assert resolve_openai_key(None, "https://api.example.invalid/v1") == "sk-env"
    assert resolve_openai_key(None, "http://127.0.0.1:11434/v1") == "sk-env"  # a key given is still sent
    monkeypatch.delenv("OPENAI_API_KEY")
    assert resolve_openai_key(None, "http://[::1]:8000/v1") == "not-needed"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:1234/v1")  # LM Studio via the client's env var
    assert resolve_openai_key(None, None) == "not-needed"
    assert is_local_url("http://127.0.0.2:8000/v1") and not is_local_url("https://openrouter.ai/api/v1")


def test_env_key_is_sent(server, request_, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    OpenAIClient(model="m", base_url=server.base_url).analyze(request_)
    assert server.requests[0].headers["authorization"] == "Bearer sk-from-env"


def test_401_names_the_key(server, request_):
    server.queue(Reply.error(401, "Incorrect API key provided", code="invalid_api_key"))
    with pytest.raises(AnalyzerError, match=r"clip-0042.*401.*Incorrect API key provided.*OPENAI_API_KEY"):
        analyzer(server).analyze(request_)
    assert len(server.requests) == 1  # 401 is not retried


def test_timeout_is_an_analyzer_error(server, request_):
    server.queue(Reply(delay=1.0))
    with pytest.raises(AnalyzerError, match=r"clip-0042: no answer from .* within 0.3 s") as err:
        analyzer(server, timeout_seconds=0.3, max_attempts=1).analyze(request_)
    assert type(err.value) is AnalyzerError


def test_connection_refused_is_an_analyzer_error(request_):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    a = OpenAIClient(model="m", base_url=f"http://127.0.0.1:{port}/v1", max_attempts=1)
    with pytest.raises(AnalyzerError, match=rf"clip-0042: cannot reach http://127.0.0.1:{port}/v1"):
        a.analyze(request_)


def test_unreadable_frame_names_the_file(server, request_, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image")
    req = request_.model_copy(update={"frames": [(2.0, str(bad))]})
    with pytest.raises(AnalyzerError, match="broken.jpg"):
        analyzer(server).analyze(req)
    assert server.requests == []


def test_pick_frames():
    frames = [(float(i), f"f{i}") for i in range(10)]
    assert [t for t, _ in pick_frames(frames, 4)] == [0.0, 3.0, 6.0, 9.0]
    assert pick_frames(frames, 20) == frames
    assert pick_frames(frames, 0) == []
    assert [t for t, _ in pick_frames(frames, 1)] == [5.0]
    assert len(pick_frames(frames, 9)) == 9
