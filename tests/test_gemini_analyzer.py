"""The Gemini backend driven through the real google-genai client against a loopback fake of the REST API.

Nothing is patched: the client is pointed at tests/gemini_server.py via base_url, and every assertion is
about what crossed the wire (paths, headers, JSON bodies) or what came back to the caller.
"""

from __future__ import annotations

import base64
import subprocess
import time
from pathlib import Path

import pytest

from catalog_resources.analysis.cloud.common import (
    AnalyzerError,
    BlockedAnswerError,
    CloudRequest,
    MalformedAnswerError,
    MissingKeyError,
    answer_schema,
)
from catalog_resources.analysis.cloud.gemini import GeminiClient, resolve_gemini_key
from catalog_resources.analysis.cloud.gemini_tokens import (
    AUDIO_TOKENS_PER_SECOND,
    OUTPUT_ALLOWANCE_TOKENS,
    VIDEO_TOKENS_PER_SECOND,
    estimate_token_split,
    estimate_tokens,
)
from tests.gemini_server import FakeGemini, answer_body, blocked_body, json_field

PROMPT = "Describe this clip for the catalog."
TECH = "Technical context: 160x90, 5 fps, 2.0 s, AAC stereo."


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """A tiny real H.264/AAC MP4."""
    out = tmp_path_factory.mktemp("gemini-media") / "clip.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=5:duration=2",
                    "-f", "lavfi", "-i", "sine=duration=2",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                    str(out)], check=True)
    return out


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # loopback must never go through a proxy
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with FakeGemini() as fake:
        yield fake


def analyzer(server: FakeGemini, **kwargs) -> GeminiClient:
    options = dict(api_key="test-key", base_url=server.url, initial_delay=0.01, max_delay=0.05,
                   poll_interval=0.01, poll_timeout=5.0, timeout_seconds=10.0)
    options.update(kwargs)
    return GeminiClient(**options)


def request(video: Path, clip_id: str = "clip-0001", duration: float = 2.0) -> CloudRequest:
    return CloudRequest(clip_id=clip_id, prompt=PROMPT, proxy_path=str(video), duration=duration, technical_context=TECH)


def video_part(call) -> dict:
    return call.json["contents"][0]["parts"][0]


def prompt_text(call) -> str:
    return "".join(p.get("text", "") for p in call.json["contents"][0]["parts"])


def index_of(server: FakeGemini, method: str, contains: str) -> list[int]:
    return [i for i, r in enumerate(server.requests) if r.method == method and contains in r.route]


# -- (a) Files API -------------------------------------------------------------------------------------

def test_files_api_path_uploads_polls_generates_and_deletes(server, video):
    result = analyzer(server, inline_max_bytes=0).analyze(request(video))
    data = video.read_bytes()

    start, chunk = server.calls("POST", "/upload/")
    assert start.route == "/upload/v1beta/files"
    assert start.headers["x-goog-upload-protocol"] == "resumable"
    assert start.headers["x-goog-upload-command"] == "start"
    assert start.headers["x-goog-upload-header-content-length"] == str(len(data))
    assert start.headers["x-goog-upload-header-content-type"] == "video/mp4"
    assert start.headers["x-goog-api-key"] == "test-key"
    assert json_field(start.json["file"], "mimeType") == "video/mp4"
    assert chunk.headers["x-goog-upload-command"] == "upload, finalize"
    assert chunk.headers["x-goog-upload-offset"] == "0"
    assert chunk.body == data

    (file_id,) = server.uploaded
    polls = index_of(server, "GET", f"/v1beta/files/{file_id}")
    generate = index_of(server, "POST", ":generateContent")
    deletes = index_of(server, "DELETE", f"/v1beta/files/{file_id}")
    assert len(polls) >= 2 and len(generate) == 1 and len(deletes) == 1
    assert max(polls) < generate[0] < deletes[0]
    assert server.files == {}  # deleted on the server side too

    call = server.generate_calls[0]
    assert call.route == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert call.headers["x-goog-api-key"] == "test-key"
    file_data = json_field(video_part(call), "fileData")
    assert json_field(file_data, "fileUri").endswith(f"/files/{file_id}")
    assert json_field(file_data, "mimeType") == "video/mp4"
    assert "inlineData" not in video_part(call) and "videoMetadata" not in video_part(call)
    assert PROMPT in prompt_text(call) and TECH in prompt_text(call)
    config = call.json["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == answer_schema()
    assert config["temperature"] <= 0.3

    segment = result.answer["audio_analysis"]["transcript"]["segments"][0]
    assert (segment["start_seconds"], segment["end_seconds"]) == (1.0, 3.0)  # "00:01"/"00:03" in the raw answer
    assert result.answer["summary"]["keywords"] == ["test pattern", "tone", "factory"]
    assert result.answer["content_analysis"]["organizations"] == ["Siemens"]
    assert '"00:01"' in result.raw and result.model == "gemini-2.5-flash"
    assert (result.usage.prompt_tokens, result.usage.output_tokens, result.usage.requests) == (1200, 300, 1)
    assert result.usage.estimated_cost_usd == 0.0


# -- (b) inline ----------------------------------------------------------------------------------------

def test_small_clip_goes_inline_without_upload(server, video):
    result = analyzer(server).analyze(request(video))

    assert [r.route for r in server.requests] == ["/v1beta/models/gemini-2.5-flash:generateContent"]
    inline = json_field(video_part(server.generate_calls[0]), "inlineData")
    assert json_field(inline, "mimeType") == "video/mp4"
    assert base64.urlsafe_b64decode(inline["data"]) == video.read_bytes()  # the SDK sends URL-safe base64
    assert result.answer["audio_analysis"]["transcript"]["segments"][0]["start_seconds"] == 1.0


# -- (c) 429 then success -------------------------------------------------------------------------------

def test_rate_limit_is_retried_after_the_wait_the_service_asked_for(server, video):
    server.queue_error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).", retry_after="1")

    started = time.monotonic()
    result = analyzer(server).analyze(request(video))

    assert len(server.generate_calls) == 2
    assert time.monotonic() - started >= 0.95  # Retry-After: 1 honoured (the backoff here is at most 0.05 s)
    assert result.answer["content_analysis"]["locations"] == ["Munich"]
    assert result.usage.requests == 1  # the refused call produced no tokens


# -- (d) 500 until attempts run out ----------------------------------------------------------------------

def test_server_errors_exhaust_attempts_and_name_the_clip(server, video):
    for _ in range(3):
        server.queue_error(500, "INTERNAL", "An internal error has occurred.")

    with pytest.raises(AnalyzerError) as caught:
        analyzer(server, inline_max_bytes=0, max_attempts=3).analyze(request(video, clip_id="clip-500"))

    message = str(caught.value)
    assert "500" in message and "clip-500" in message and "An internal error has occurred." in message
    assert "\n" not in message
    assert len(server.generate_calls) == 3
    assert len(server.calls("DELETE", "/files/")) == 1  # the upload is cleaned up on failure too


def test_client_error_is_not_retried(server, video):
    server.queue_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.")

    with pytest.raises(AnalyzerError) as caught:
        analyzer(server).analyze(request(video, clip_id="clip-400"))

    assert "400" in str(caught.value) and "clip-400" in str(caught.value) and "invalid argument" in str(caught.value)
    assert len(server.generate_calls) == 1


def test_client_timeout_is_retried_then_reported(server, video):
    for _ in range(2):
        server.queue_generate(200, answer_body("{}"), delay=1.0)

    with pytest.raises(AnalyzerError) as caught:
        analyzer(server, timeout_seconds=0.2, max_attempts=2).analyze(request(video, clip_id="clip-slow-answer"))

    assert "clip-slow-answer" in str(caught.value) and "timed out" in str(caught.value)
    assert len(server.generate_calls) == 2
    assert server.generate_calls[0].headers["x-server-timeout"] == "1"  # ceil(0.2 s), sent by the client


# -- (e) malformed ---------------------------------------------------------------------------------------

def test_invalid_json_answer_keeps_the_raw_text(server, video):
    text = '{"summary": {"overall": "cut off mid'
    server.queue_answer_text(text)

    with pytest.raises(MalformedAnswerError) as caught:
        analyzer(server).analyze(request(video, clip_id="clip-bad"))

    assert caught.value.raw == text
    assert "clip-bad" in str(caught.value)


def test_answer_that_misses_the_schema_is_malformed(server, video):
    text = '{"audio_analysis": {"transcript": {"segments": [{"start_seconds": "soon", "end_seconds": 1, "text": "x"}]}}}'
    server.queue_answer_text(text)

    with pytest.raises(MalformedAnswerError) as caught:
        analyzer(server).analyze(request(video))

    assert caught.value.raw == text


# -- (f) blocked -----------------------------------------------------------------------------------------

def test_blocked_prompt_raises_blocked_answer(server, video):
    server.queue_generate(200, blocked_body("SAFETY"))

    with pytest.raises(BlockedAnswerError) as caught:
        analyzer(server).analyze(request(video, clip_id="clip-blocked"))

    assert caught.value.reason == "SAFETY"
    assert "clip-blocked" in str(caught.value)


def test_candidate_stopped_for_safety_raises_blocked_answer(server, video):
    server.queue_generate(200, answer_body("", finish_reason="PROHIBITED_CONTENT"))

    with pytest.raises(BlockedAnswerError) as caught:
        analyzer(server).analyze(request(video))

    assert caught.value.reason == "PROHIBITED_CONTENT"


# -- (g) missing key -------------------------------------------------------------------------------------

def test_missing_key_fails_before_any_request(server, video, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)

    with pytest.raises(MissingKeyError) as caught:
        GeminiClient(base_url=server.url).analyze(request(video))

    assert "GEMINI_API_KEY" in str(caught.value) and "GOOGLE_API_KEY" in str(caught.value)
    assert server.requests == []


def test_key_resolution_order(monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "from-gemini")
    monkeypatch.setenv("GOOGLE_API_KEY", "from-google")
    assert resolve_gemini_key("explicit") == "explicit"
    assert resolve_gemini_key(None) == "from-gemini"
    monkeypatch.delenv("GEMINI_API_KEY")
    assert resolve_gemini_key(None) == "from-google"


# -- (h) windows -----------------------------------------------------------------------------------------

def test_long_clip_is_analysed_in_windows_of_one_upload(server, video):
    result = analyzer(server, window_seconds=100).analyze(request(video, duration=250.0))

    assert len(server.calls("POST", "/upload/v1beta/files")) == 1 + 1  # start + finalize of one upload
    assert len(server.uploaded) == 1
    assert len(server.calls("DELETE", "/files/")) == 1
    calls = server.generate_calls
    assert len(calls) == 3
    offsets = [(json_field(json_field(video_part(c), "videoMetadata"), "startOffset"),
                json_field(json_field(video_part(c), "videoMetadata"), "endOffset")) for c in calls]
    assert offsets == [("0s", "100s"), ("100s", "200s"), ("200s", "250s")]
    uris = {json_field(json_field(video_part(c), "fileData"), "fileUri") for c in calls}
    assert len(uris) == 1

    starts = [s["start_seconds"] for s in result.answer["audio_analysis"]["transcript"]["segments"]]
    assert starts == [1.0, 101.0, 201.0]
    marks = [k["seconds"] for k in result.answer["visual_analysis"]["keyframe_recommendations"]]
    assert marks == [1.0, 101.0, 201.0]
    assert result.answer["content_analysis"]["people"] == ["Angela Merkel"]  # de-duplicated across windows
    assert (result.usage.prompt_tokens, result.usage.output_tokens, result.usage.requests) == (3600, 900, 3)


# -- (i) processing failed / never finished --------------------------------------------------------------

def test_failed_file_processing_raises_and_still_deletes(server, video):
    server.file_states.clear()
    server.file_states.extend(["PROCESSING", "FAILED"])

    with pytest.raises(AnalyzerError) as caught:
        analyzer(server, inline_max_bytes=0).analyze(request(video, clip_id="clip-failed"))

    assert "clip-failed" in str(caught.value) and "FAILED" in str(caught.value)
    assert server.generate_calls == []
    assert len(server.calls("DELETE", "/files/")) == 1


def test_file_that_stays_processing_times_out(server, video):
    server.file_states.clear()
    server.file_states.extend(["PROCESSING"] * 1000)

    with pytest.raises(AnalyzerError) as caught:
        analyzer(server, inline_max_bytes=0, poll_timeout=0.1).analyze(request(video, clip_id="clip-slow"))

    assert "clip-slow" in str(caught.value) and "PROCESSING" in str(caught.value)
    assert server.generate_calls == []
    assert len(server.calls("DELETE", "/files/")) == 1


# -- estimate --------------------------------------------------------------------------------------------

def test_token_estimate_counts_video_prompt_and_output():
    one = estimate_tokens(100.0, 4000)
    assert VIDEO_TOKENS_PER_SECOND + AUDIO_TOKENS_PER_SECOND == 295
    assert one >= 100 * 295 + 1000 + OUTPUT_ALLOWANCE_TOKENS
    assert estimate_tokens(200.0, 4000) - one == 100 * 295
    windowed = estimate_tokens(250.0, 4000, window_seconds=100.0)
    single = estimate_tokens(250.0, 4000)
    assert windowed > single  # prompt, schema and output allowance once per window
    assert estimate_token_split(250.0, 4000, window_seconds=100.0)[1] == 3 * OUTPUT_ALLOWANCE_TOKENS
