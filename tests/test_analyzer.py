"""The Analyzer resource's own rules: cost estimates and prices, the request rate limit, the prompt commands."""

import json
import subprocess
import sys
import time

import pytest

from catalog_resources.analysis.analyzer import Analyzer, _RateLimiter, packaged_prompt_path, render_prompt


def analyzer(**kwargs) -> Analyzer:
    return Analyzer(models_dir="/nonexistent", **kwargs)


def test_gemini_estimate_prices_input_and_output_from_the_table():
    from catalog_resources.analysis.cloud.gemini import estimate_token_split

    one_minute = analyzer(backend="gemini").estimate([60.0])
    prompt_chars = len(packaged_prompt_path().read_text()) + 600
    tokens_in, tokens_out = estimate_token_split(60.0, prompt_chars)
    assert one_minute.tokens == tokens_in + tokens_out and tokens_in > 60 * 263
    assert one_minute.usd == pytest.approx((tokens_in * 0.30 + tokens_out * 2.50) / 1e6, abs=1e-4)
    ten = analyzer(backend="gemini").estimate([60.0] * 10)
    assert ten.usd == pytest.approx(10 * one_minute.usd, rel=0.01) and ten.footage_seconds == 600


def test_unknown_model_is_unpriced_until_configured():
    plain = analyzer(backend="openai", openai_model="llava")
    assert plain.estimate([30.0]).priced is False and plain.estimate([30.0]).usd == 0
    priced = analyzer(backend="openai", openai_model="llava", prices_json=json.dumps({"llava": [1.0, 1.0]}))
    assert priced.estimate([30.0]).priced and priced.estimate([30.0]).usd > 0
    assert priced.cost(1_000_000, 0) == 1.0


def test_code_version_names_backend_and_model():
    assert analyzer(backend="gemini").code_version().startswith("gemini/gemini-2.5-flash:")
    assert analyzer(backend="openai", openai_model="m1").code_version() != analyzer(backend="openai", openai_model="m2").code_version()


def test_rate_limit_spaces_requests():
    limiter = _RateLimiter()
    started = time.monotonic()
    for _ in range(4):
        limiter.wait(per_minute=600)  # one every 0.1 s
    assert time.monotonic() - started >= 0.28
    unlimited = _RateLimiter()
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
