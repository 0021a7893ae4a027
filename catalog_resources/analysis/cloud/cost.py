"""What a cloud analysis costs: the price table, the estimate made before a batch starts (for --max-cost), and
the cost of one answer from the tokens the service reported."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

# USD per 1M tokens (input, output), from the providers' price pages; override with VIDEO_CATALOG_ANALYSIS_PRICES.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-flash-lite": (0.10, 0.40),
    "gemini-2.5-pro": (1.25, 10.0),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.0),
}
OUTPUT_ALLOWANCE = 2000  # tokens of JSON answer per clip, for a backend that is sent keyframes
PROMPT_OVERHEAD_CHARS = 600  # what a request adds around the prompt template (technical context, framing)


class CostEstimate(BaseModel):
    clips: int
    footage_seconds: float
    tokens: int
    usd: float
    priced: bool = Field(description="False when the model has no price in the table: usd is then 0.")


def price_of(model: str | None, prices_json: str = "") -> tuple[float, float] | None:
    """(input, output) USD per 1M tokens: the configured table over DEFAULT_PRICES; None for an unpriced model."""
    extra = {k: (float(v[0]), float(v[1])) for k, v in json.loads(prices_json).items()} if prices_json else {}
    return {**DEFAULT_PRICES, **extra}.get(model)


def cost_usd(price: tuple[float, float] | None, prompt_tokens: int, output_tokens: int) -> float:
    """Dollars for one answer's tokens; 0 when the model is unpriced."""
    return round((prompt_tokens * price[0] + output_tokens * price[1]) / 1e6, 6) if price else 0.0


def keyframe_token_split(duration_seconds: float, prompt_chars: int) -> tuple[int, int]:
    """(input, output) tokens of a clip sent as keyframes: ~8 images of ~800 tokens, the prompt, the transcript
    (~3 tokens a second of footage), and the answer allowance."""
    return 8 * 800 + prompt_chars // 4 + int(duration_seconds * 3), OUTPUT_ALLOWANCE


def tally_estimate(durations: list[float], splits: list[tuple[int, int]], price: tuple[float, float] | None) -> CostEstimate:
    """The batch's estimate from each clip's (input, output) token split."""
    usd = round(sum(i * price[0] + o * price[1] for i, o in splits) / 1e6, 4) if price else 0.0
    return CostEstimate(clips=len(durations), footage_seconds=round(sum(durations), 1),
                        tokens=sum(i + o for i, o in splits), usd=usd, priced=price is not None)
