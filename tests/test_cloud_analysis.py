"""Cloud analyzers through the whole graph: the real CLI ingests clips with `--analyzer openai|gemini`
against local wire-format servers; answers are read back from Postgres, failures stay with their clip."""

import json
import os
import subprocess
import sys

import pytest

from catalog_resources.media.samples import ClipSpec, make_clip
from tests.gemini_server import FakeGemini, blocked_body, json_field
from tests.gemini_server import Reply as GeminiReply
from tests.openai_server import DEFAULT_USAGE, FakeOpenAIServer, Reply
from tests.test_ingest import rows

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "catalog_cli.main"]


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, env={**os.environ, **env})


@pytest.fixture
def footage(tmp_path):
    folder = tmp_path / "cloud footage"
    for name, pattern in (("harbour.mp4", "testsrc2"), ("flaky.mp4", "smptebars"), ("garbled.mp4", "rgbtestsrc")):
        make_clip(folder / name, ClipSpec(name=name, width=320, height=180, fps=10, seconds=1.5, pattern=pattern))
    return folder


def text_of(body: dict) -> str:
    return " ".join(part.get("text", "") for message in body.get("messages", [])
                    for part in (message["content"] if isinstance(message["content"], list) else [{"text": message["content"]}]))


class ScriptedOpenAI(FakeOpenAIServer):
    """500 for the clip named flaky.mp4, prose instead of JSON for garbled.mp4, the default answer otherwise."""

    def _respond(self, method, path, body):
        text = text_of(body) if isinstance(body, dict) else ""
        if "flaky.mp4" in text:
            return Reply.error(500, "upstream model crashed", headers={"retry-after-ms": "10"})
        if "garbled.mp4" in text:
            return Reply.content("Sure! Here is what I see: a harbour.")
        return super()._respond(method, path, body)


def test_openai_analyzer_end_to_end(catalog_env, footage):
    with ScriptedOpenAI() as server:
        env = {"VIDEO_CATALOG_OPENAI_BASE_URL": server.base_url, "VIDEO_CATALOG_OPENAI_MODEL": "test-vision",
               "VIDEO_CATALOG_ANALYSIS_RETRY_DELAY": "0.1", "VIDEO_CATALOG_ANALYSIS_MAX_ATTEMPTS": "2",
               "VIDEO_CATALOG_ANALYSIS_PRICES": json.dumps({"test-vision": [1.0, 2.0]})}
        result = cli("ingest", "--json", "--analyzer", "openai", str(footage), env=env)
        requests = [r.body for r in server.requests]
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    failed = {os.path.basename(f["path"]): f["reason"] for f in summary["failed"]}
    assert set(failed) == {"flaky.mp4", "garbled.mp4"}, failed
    assert "500" in failed["flaky.mp4"] and "upstream model crashed" in failed["flaky.mp4"]
    assert "not JSON" in failed["garbled.mp4"] and "raw answer saved" in failed["garbled.mp4"]
    (good,) = [i["clip_id"] for i in summary["new"]]
    # the request carried keyframes as images, the prompt and the technical facts of that clip
    harbour = [b for b in requests if "harbour.mp4" in text_of(b)]
    assert harbour and "You are cataloguing a video clip" in text_of(harbour[0])
    images = [p for m in harbour[0]["messages"] for p in m["content"] if p.get("type") == "image_url"]
    assert images and images[0]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    # the answer is stored and read back from Postgres
    (backend, model, summary_text, keywords), = rows(
        "SELECT backend, model, summary, keywords FROM analysis WHERE clip_id = %s", good)
    assert (backend, model) == ("openai", "test-vision") and "harbour quay" in summary_text
    assert "fishing boats" in keywords
    (people, places), = rows("SELECT entities->'people', entities->'locations' FROM analysis WHERE clip_id = %s", good)
    assert people == ["Anna Berg"] and places == ["Port Ellen"]
    (on_screen,), = rows("SELECT on_screen_text FROM analysis WHERE clip_id = %s", good)
    assert on_screen == ["PORT ELLEN"]
    # usage and cost: one request's tokens at the configured price
    usage = summary["analysis_usage"]
    assert usage["prompt_tokens"] == DEFAULT_USAGE["prompt_tokens"]
    assert usage["estimated_cost_usd"] == pytest.approx((1234 * 1.0 + 321 * 2.0) / 1e6)
    raw = (catalog_env.media_dir / rows("SELECT clip_id FROM clips WHERE file_name = 'garbled.mp4'")[0][0]
           / "ai_analysis.raw.txt")
    assert raw.read_text() == "Sure! Here is what I see: a harbour."
    shown = cli("show", good, env={})
    assert shown.returncode == 0 and "openai: test-vision" in shown.stdout and "Anna Berg" in shown.stdout


def test_max_cost_refuses_before_any_work(catalog_env, footage):
    env = {"GEMINI_API_KEY": "test-key"}
    refused = cli("ingest", "--analyzer", "gemini", "--max-cost", "0.0001", str(footage), env=env)
    assert refused.returncode == 2 and "exceeds --max-cost $0.00" in refused.stderr
    assert rows("SELECT count(*) FROM clips")[0][0] == 0
    missing = cli("ingest", "--analyzer", "gemini", str(footage), env={"GEMINI_API_KEY": "", "GOOGLE_API_KEY": ""})
    assert missing.returncode == 2 and "GEMINI_API_KEY" in missing.stderr


class ScriptedGemini(FakeGemini):
    """A safety block for the clip named blocked.mp4, the default answer for the others."""

    def _route(self, req):
        if req.route.endswith(":generateContent") and b"blocked.mp4" in req.body:
            return GeminiReply(200, blocked_body("SAFETY"))
        return super()._route(req)


def test_gemini_analyzer_end_to_end(catalog_env, tmp_path):
    folder = tmp_path / "gemini footage"
    for name, pattern in (("interview.mp4", "testsrc2"), ("blocked.mp4", "smptebars")):
        make_clip(folder / name, ClipSpec(name=name, width=320, height=180, fps=10, seconds=1.5, pattern=pattern))
    with ScriptedGemini() as server:
        env = {"GEMINI_API_KEY": "test-key", "VIDEO_CATALOG_GEMINI_BASE_URL": server.url,
               "VIDEO_CATALOG_ANALYSIS_RETRY_DELAY": "0.1"}
        result = cli("ingest", "--json", "--analyzer", "gemini", str(folder), env=env)
        calls = list(server.generate_calls)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    ids = {os.path.basename(i["path"]): i["clip_id"] for i in summary["new"]}
    assert set(ids) == {"interview.mp4", "blocked.mp4"}
    interview = [c for c in calls if b"interview.mp4" in c.body][0].json
    parts = interview["contents"][0]["parts"]
    video = json_field(parts[0], "inlineData")  # a 1.5 s proxy is small: sent inline, no upload
    assert json_field(video, "mimeType") == "video/mp4" and len(json_field(video, "data")) > 1000
    assert "You are cataloguing a video clip" in parts[1]["text"]
    config = json_field(interview, "generationConfig")
    assert json_field(config, "responseMimeType") == "application/json"
    assert "summary" in json_field(config, "responseJsonSchema")["properties"]
    (backend, model, keywords), = rows("SELECT backend, model, keywords FROM analysis WHERE clip_id = %s",
                                        ids["interview.mp4"])
    assert backend == "gemini" and model == "gemini-2.5-flash" and keywords
    (warnings,), = rows("SELECT content_warnings FROM analysis WHERE clip_id = %s", ids["blocked.mp4"])
    assert warnings == ["blocked"]  # recorded as such, not retried, not failed
    assert summary["analysis_usage"]["prompt_tokens"] >= 1200
    assert summary["analysis_estimate"]["clips"] == 2
    shown = cli("show", ids["interview.mp4"], env={})
    assert shown.returncode == 0 and "gemini: gemini-2.5-flash" in shown.stdout
    blocked = cli("show", ids["blocked.mp4"], env={})
    assert "blocked" in blocked.stdout
