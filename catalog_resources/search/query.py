"""Filters written inside a search query (`rooftop interview codec:prores fps:>30 shot:close-up`), parsed into
the same keyword arguments the command-line flags give, so both end in one ClipFilter."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from catalog_resources.models.clips import RESOLUTIONS, SHOT_TYPES

_TOKEN = re.compile(r'(?<!\S)(\w+):(>=|<=|>|<)?("[^"]*"|\S+)')
# name in the query -> (filter for "=", filter for ">"/">=", filter for "<"/"<=")
_FIELDS: dict[str, tuple[str | None, str | None, str | None]] = {
    "codec": ("codec", None, None),
    "res": ("resolution", None, None), "resolution": ("resolution", None, None),
    "fps": ("fps", "min_fps", None),
    "height": ("min_height", "min_height", None),
    "camera": ("camera", None, None),
    "shot": ("shot_type", None, None),
    "duration": (None, "min_duration", "max_duration"),
    "quality": ("min_quality", "min_quality", None),
    "tag": ("tag", None, None),
    "collection": ("collection", None, None),
    "after": ("after", None, None), "before": ("before", None, None),
    "hdr": ("hdr", None, None),
}
_NUMERIC = {"fps", "min_fps", "min_height", "min_duration", "max_duration", "min_quality"}
_EXAMPLES = {  # the forms each filter takes, for the error message
    "codec": "codec:h264", "res": "res:4k", "resolution": "resolution:1080p", "fps": "fps:25 or fps:>30",
    "height": "height:1080 or height:>=2160", "camera": "camera:iphone", "shot": "shot:close-up",
    "duration": "duration:>60 or duration:<10 (seconds)", "quality": "quality:70 or quality:>70", "tag": "tag:interview",
    "collection": 'collection:"trip 2024"', "after": "after:2024-05-17", "before": "before:2024-06-01",
    "hdr": "hdr:yes or hdr:no",
}
HDR_VALUES = {"yes": True, "true": True, "on": True, "1": True, "hdr": True,
              "no": False, "false": False, "off": False, "0": False, "sdr": False}
ECHO_CHARS = 40  # a rejected token is echoed this long at most


class InlineFilterError(ValueError):
    """A `name:value` in the query that names a known filter with a value it cannot take."""


def _echo(token: str) -> str:
    return token if len(token) <= ECHO_CHARS else token[: ECHO_CHARS - 1] + "…"


def _rejected(token: str, name: str, why: str) -> InlineFilterError:
    return InlineFilterError(f"search filter {_echo(token)!r}: {why}; write it like {_EXAMPLES[name]}")


def _choice(token: str, name: str, value: str, choices: dict[str, str]) -> str:
    """The allowed value `value` names (case, spaces, dashes and underscores aside), or an error listing them."""
    found = choices.get(value.lower().replace(" ", "-").replace("_", "-"))
    if found is None:
        raise _rejected(token, name, f"{name} takes one of {', '.join(choices)}")
    return found


def _value(token: str, name: str, target: str, value: str) -> Any:
    """The value a filter gets from `value`, checked here so a typo is an error and never silently dropped."""
    if target == "hdr":
        if value.lower() not in HDR_VALUES:
            raise _rejected(token, name, f"hdr takes yes or no (also {', '.join(v for v in HDR_VALUES if v not in ('yes', 'no'))})")
        return HDR_VALUES[value.lower()]
    if target == "resolution":
        return _choice(token, name, value, {r: r for r in RESOLUTIONS})
    if target == "shot_type":
        return _choice(token, name, value, {s.replace(" ", "-"): s for s in SHOT_TYPES})
    if target in ("after", "before"):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise _rejected(token, name, f"{name} takes a date (or date and time, 2024-05-17T10:30)") from None
        return value
    if target in _NUMERIC:
        try:
            number = float(value) if target != "min_height" else int(value.lower().rstrip("p"))
        except ValueError:
            raise _rejected(token, name, f"{name} takes a number") from None
        if not math.isfinite(number):
            raise _rejected(token, name, f"{name} takes a number")
        return number
    if not value:
        raise _rejected(token, name, f"{name} takes a value")
    return value


def parse_inline_filters(query: str) -> tuple[str, dict[str, Any]]:
    """(the query's words without the filters, {filter name: value}). Unknown `word:thing` stays text."""
    filters: dict[str, Any] = {}

    def take(match: re.Match) -> str:
        token = match.group(0)
        name, op, value = match.group(1).lower(), match.group(2) or "", match.group(3).strip('"')
        if name not in _FIELDS:
            return token
        equal, greater, less = _FIELDS[name]
        target = greater if op.startswith(">") else less if op.startswith("<") else equal
        if target is None:
            why = f"{name} takes no {op[0]} bound" if op else f"{name} needs a > or < bound"
            raise _rejected(token, name, why)
        filters[target] = _value(token, name, target, value)
        return ""

    text = _TOKEN.sub(take, query)
    return " ".join(text.split()), filters
