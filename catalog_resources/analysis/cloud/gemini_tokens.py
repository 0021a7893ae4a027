"""How many tokens a Gemini analysis of a clip takes, worked out before anything is sent (for --max-cost), and
how a long clip is cut into windows (the analysis sends one request per window).

Apart from gemini.py so the estimate of a dry run needs neither the google-genai SDK nor an API key.
"""

from __future__ import annotations

import json
import math

from catalog_resources.analysis.cloud.common import answer_schema

# Sources (checked 2025):
#  * https://ai.google.dev/gemini-api/docs/tokens : "video ... 263 tokens per second and audio at
#    32 tokens per second" (fixed rates, default media resolution).
#  * https://ai.google.dev/gemini-api/docs/video-understanding#technical-details-video : frames sampled
#    at 1 fps at 258 tokens per frame (66 at low media resolution), audio 32 tokens/s, plus metadata;
#    "about 300 tokens per second of video" at default resolution.
# 263 (picture incl. timestamps/metadata) + 32 (sound) = 295 tokens per second of clip.
VIDEO_TOKENS_PER_SECOND = 263
AUDIO_TOKENS_PER_SECOND = 32
# "For Gemini models, a token is equivalent to about 4 characters" (same tokens page).
CHARS_PER_TOKEN = 4
# Output allowance per generateContent call: the answer JSON for a long window plus some "thinking"
# (gemini-2.5-* think by default and thinking tokens are billed as output). Deliberately generous:
# the estimate guards a --max-cost limit, so over-estimating is the safe side.
OUTPUT_ALLOWANCE_TOKENS = 16_384


def _schema_tokens() -> int:
    """The response schema is part of the billed input of every call."""
    return math.ceil(len(json.dumps(answer_schema())) / CHARS_PER_TOKEN)


def window_starts(duration: float | None, window_seconds: float) -> list[float]:
    """Start of each window a clip is cut into; one window (start 0) when the clip fits in one.

    A tail shorter than a second is folded into the previous window rather than sent on its own.
    """
    if duration is None or duration <= window_seconds:
        return [0.0]
    count = max(1, math.ceil((duration - 1.0) / window_seconds))
    return [k * window_seconds for k in range(count)]


def estimate_token_split(duration_seconds: float, prompt_chars: int, *,
                         window_seconds: float = 1800.0) -> tuple[int, int]:
    """(input, output) tokens of one clip's analysis, so input and output can be priced separately.

    Input: video+audio tokens for the whole clip (each second is sent once even when windowed), plus
    the prompt and the response schema once per request. Output: the allowance once per request.
    """
    requests = len(window_starts(duration_seconds, window_seconds))
    media = math.ceil(max(0.0, duration_seconds) * (VIDEO_TOKENS_PER_SECOND + AUDIO_TOKENS_PER_SECOND))
    per_request = math.ceil(max(0, prompt_chars) / CHARS_PER_TOKEN) + _schema_tokens()
    return media + requests * per_request, requests * OUTPUT_ALLOWANCE_TOKENS


def estimate_tokens(duration_seconds: float, prompt_chars: int, *, window_seconds: float = 1800.0) -> int:
    """Upper-leaning token estimate of one clip's analysis, before anything is sent (for --max-cost)."""
    return sum(estimate_token_split(duration_seconds, prompt_chars, window_seconds=window_seconds))
