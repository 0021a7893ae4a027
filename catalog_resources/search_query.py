"""Filters written inside a search query (`rooftop interview codec:prores fps:>30 shot:close-up`), parsed into
the same keyword arguments the command-line flags give, so both end in one ClipFilter."""

from __future__ import annotations

import re
from typing import Any

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


class InlineFilterError(ValueError):
    """A `name:value` in the query that names a known filter with a value it cannot take."""


def parse_inline_filters(query: str) -> tuple[str, dict[str, Any]]:
    """(the query's words without the filters, {filter name: value}). Unknown `word:thing` stays text."""
    filters: dict[str, Any] = {}

    def take(match: re.Match) -> str:
        name, op, value = match.group(1).lower(), match.group(2) or "", match.group(3).strip('"')
        if name not in _FIELDS:
            return match.group(0)
        equal, greater, less = _FIELDS[name]
        target = greater if op.startswith(">") else less if op.startswith("<") else equal
        if target is None:
            raise InlineFilterError(f"{match.group(0)}: {name} takes {'a value' if equal else 'a > or < bound'}")
        if target == "hdr":
            filters[target] = value.lower() in ("yes", "true", "1", "on")
        elif target in _NUMERIC:
            try:
                filters[target] = float(value) if target != "min_height" else int(value.lower().rstrip("p"))
            except ValueError as exc:
                raise InlineFilterError(f"{match.group(0)}: {value!r} is not a number") from exc
        else:
            filters[target] = value
        return ""

    text = _TOKEN.sub(take, query)
    return " ".join(text.split()), filters
