"""Filters written inside a search query (`rooftop interview codec:prores fps:>30 shot:close-up`), parsed into
the same ClipFilter fields the command-line options fill. The keys, bounds, value checks and examples are the
filters' own (search/filters.py); this module only finds the `key:value` words and words the errors."""

from __future__ import annotations

import re
from typing import Any

from catalog_resources.search.filters import BadValue, FilterError, Text, inline_example, inline_keys

_TOKEN = re.compile(r'(?<!\S)(\w+):(>=|<=|>|<)?("[^"]*"|\S+)')
_KEYS = inline_keys()  # query key -> {"=" | ">" | "<": the filter it fills}
ECHO_CHARS = 40  # a rejected token is echoed this long at most


class InlineFilterError(FilterError):
    """A `name:value` in the query that names a known filter with a value it cannot take."""


def _echo(token: str) -> str:
    return token if len(token) <= ECHO_CHARS else token[: ECHO_CHARS - 1] + "…"


def _rejected(token: str, key: str, why: str) -> InlineFilterError:
    return InlineFilterError(f"search filter {_echo(token)!r}: {why}; write it like {inline_example(key)}")


def parse_inline_filters(query: str) -> tuple[str, dict[str, Any]]:
    """(the query's words without the filters, {ClipFilter field: value}). Unknown `word:thing` stays text; a
    known key with a value it cannot take is an InlineFilterError, never silently dropped."""
    filters: dict[str, Any] = {}

    def take(match: re.Match) -> str:
        token = match.group(0)
        key, op, value = match.group(1).lower(), match.group(2) or "", match.group(3).strip('"')
        if key not in _KEYS:
            return token
        target = _KEYS[key].get(op[:1] or "=")
        if target is None:
            why = f"{key} takes no {op[0]} bound" if op else f"{key} needs a > or < bound"
            raise _rejected(token, key, why)
        try:
            parsed = target.kind.parse(value)
        except BadValue as bad:
            raise _rejected(token, key, f"{key} takes {bad.takes}") from None
        if isinstance(target.kind, Text) and not parsed:
            raise _rejected(token, key, f"{key} takes {target.kind.takes}")
        filters[target.field] = parsed
        return ""

    text = _TOKEN.sub(take, query)
    return " ".join(text.split()), filters
