"""The analyzer resources' own rules: one class per backend, their code versions, cost estimates and prices,
the request rate limit, the prompt commands."""

import json
import subprocess
import sys
import time

import pytest

from catalog_resources.analysis.cloud.rate_limit import RateLimiter
from catalog_resources.analysis.prompt import packaged_prompt_path, prompt_hash, render_prompt
from catalog_resources.resources.analyzers import GeminiAnalyzer, OpenAIAnalyzer


def openai(**kwargs) -> OpenAIAnalyzer:
    return OpenAIAnalyzer(models_dir="/nonexistent", **kwargs)


def test_gemini_estimate_prices_input_and_output_from_the_table():
    from catalog_resources.analysis.cloud.gemini_tokens import estimate_token_split

    one_minute = GeminiAnalyzer().estimate([60.0])
    prompt_chars = len(packaged_prompt_path().read_text()) + 600
    tokens_in, tokens_out = estimate_token_split(60.0, prompt_chars)
    assert one_minute.tokens == tokens_in + tokens_out and tokens_in > 60 * 263
    assert one_minute.usd == pytest.approx((tokens_in * 0.30 + tokens_out * 2.50) / 1e6, abs=1e-4)
    ten = GeminiAnalyzer().estimate([60.0] * 10)
    assert ten.usd == pytest.approx(10 * one_minute.usd, rel=0.01) and ten.footage_seconds == 600


def test_unknown_model_is_unpriced_until_configured():
    plain = openai(model="llava")
    assert plain.estimate([30.0]).priced is False and plain.estimate([30.0]).usd == 0
    priced = openai(model="llava", prices_json=json.dumps({"llava": [1.0, 1.0]}))
    assert priced.estimate([30.0]).priced and priced.estimate([30.0]).usd > 0
    assert priced.cost(1_000_000, 0) == 1.0


def test_code_version_names_backend_and_model():
    assert GeminiAnalyzer().code_version().startswith("gemini/gemini-2.5-flash:")
    assert openai(model="m1").code_version() != openai(model="m2").code_version()


def test_rate_limit_spaces_requests():
    limiter = RateLimiter()
    started = time.monotonic()
    for _ in range(4):
        limiter.wait(per_minute=600)  # one every 0.1 s
    assert time.monotonic() - started >= 0.28
    unlimited = RateLimiter()
    started = time.monotonic()
    for _ in range(50):
        unlimited.wait(per_minute=0)
    assert time.monotonic() - started < 0.05


def test_prompt_renders_context_and_drops_the_maintainer_comment():
    text = render_prompt(packaged_prompt_path().read_text(), "file a.mov, duration 12 s")
    assert "file a.mov, duration 12 s" in text and "<!--" not in text and "{technical_context}" not in text


def test_prompt_commands(tmp_path):
    cli = [sys.executable, "-m", "catalog_cli.main", "prompt"]
    env = {"VIDEO_CATALOG_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    path = subprocess.run([*cli, "path"], capture_output=True, text=True, env=env, timeout=60)
    assert path.returncode == 0 and path.stdout.strip() == str(packaged_prompt_path())
    shown = subprocess.run([*cli, "show"], capture_output=True, text=True, env=env, timeout=60)
    assert shown.returncode == 0 and shown.stdout == packaged_prompt_path().read_text()
    assert "hash " in shown.stderr and "code version local/" in shown.stderr
    missing = subprocess.run([*cli, "show"], capture_output=True, text=True, timeout=60,
                             env={**env, "VIDEO_CATALOG_ANALYSIS_PROMPT_FILE": str(tmp_path / "nope.md")})
    assert missing.returncode == 2 and "VIDEO_CATALOG_ANALYSIS_PROMPT_FILE" in missing.stderr


def test_prompt_show_prints_the_code_version_the_graph_records(tmp_path):
    """`prompt show` works it out without Dagster; it must be the string build_analyzer's resource gives."""
    from catalog_assets.definitions import build_analyzer
    from catalog_resources.settings import CatalogSettings

    prompt = tmp_path / "prompt.md"
    prompt.write_text("Describe {technical_context}\n")
    cases = [{"VIDEO_CATALOG_ANALYZER": "local", "VIDEO_CATALOG_ANALYSIS_LANGUAGE": "de"},
             {"VIDEO_CATALOG_ANALYZER": "gemini", "VIDEO_CATALOG_GEMINI_MODEL": "gemini-2.5-pro",
              "VIDEO_CATALOG_ANALYSIS_PROMPT_FILE": str(prompt)},
             {"VIDEO_CATALOG_ANALYZER": "openai", "VIDEO_CATALOG_ANALYSIS_OCR_FRAMES": "2"},
             {"VIDEO_CATALOG_ANALYZER": "openai", "VIDEO_CATALOG_OPENAI_MODEL": "gpt-4o-mini",
              "VIDEO_CATALOG_IMAGE_MODEL_PATH": str(tmp_path / "siglip")}]
    for case in cases:
        env = {"VIDEO_CATALOG_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", **case}
        shown = subprocess.run([sys.executable, "-m", "catalog_cli.main", "prompt", "show"], capture_output=True,
                               text=True, env=env, timeout=60)
        assert shown.returncode == 0, shown.stderr
        settings = CatalogSettings(home=tmp_path, **{k.removeprefix("VIDEO_CATALOG_").lower(): v
                                                     for k, v in case.items()})
        analyzer = build_analyzer(settings)
        prompt_file = str(settings.analysis_prompt_file) if settings.analysis_prompt_file else None
        assert shown.stderr.split("  hash ")[1].split()[0] == prompt_hash(prompt_file)
        assert shown.stderr.strip().endswith(f"code version {analyzer.code_version()}"), (case, shown.stderr)


def test_error_family_keeps_the_old_bases():
    from catalog_resources.analysis.cloud.common import (AnalyzerError, BlockedAnswerError, CostLimitExceeded,
                                                         MalformedAnswerError, MissingKeyError)
    from catalog_resources.analysis.prompt import PromptFileError
    from catalog_resources.errors import AnalysisError, SetupError, UsageError

    assert issubclass(PromptFileError, UsageError) and issubclass(PromptFileError, FileNotFoundError)
    assert issubclass(MissingKeyError, SetupError) and issubclass(MissingKeyError, AnalyzerError)
    assert issubclass(CostLimitExceeded, UsageError) and issubclass(CostLimitExceeded, RuntimeError)
    for cls in (AnalyzerError, MalformedAnswerError, BlockedAnswerError):
        assert issubclass(cls, AnalysisError) and issubclass(cls, RuntimeError)
    assert {c.exit_code for c in (PromptFileError, MissingKeyError, CostLimitExceeded, AnalyzerError)} == {2}
    assert str(MalformedAnswerError("clip a: not JSON", "raw")) == "clip a: not JSON"


def test_packaged_prompt_and_schema_hash_is_pinned():
    """Every catalog's ai_analysis is stale when this hash changes: the packaged prompt, the analysis schema (its
    field descriptions and class docstrings too: they are in the JSON schema) or its version. If you changed one
    of them on purpose, put the new hash here; if you only meant to document a class, use a comment instead."""
    assert prompt_hash(None) == "4218947b8c7a"
