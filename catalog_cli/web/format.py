"""Jinja filters: durations, timecodes, sizes and match strengths as a person reads them."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def timecode(seconds: float | None) -> str:
    """m:ss.s, precise enough to tell transcript lines apart."""
    if seconds is None:
        return ""
    minutes, rest = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes)}:{rest:04.1f}"


def size(num: float | None) -> str:
    """Bytes as `list` and `show` print them (decimal units), so the terminal and the browser agree."""
    from catalog_cli.render.tables import human_size

    return "–" if num is None else human_size(num)


def strength_words(strength: int | None) -> str:
    """The match strength in words: 50 % is the model's cut-off, 100 % where nine in ten correct matches are."""
    if strength is None:
        return "match"
    if strength >= 85:
        return "strong match"
    if strength >= 65:
        return "good match"
    return "weak match"


def resolution(row: Any) -> str:
    width, height = (row.get("width"), row.get("height")) if isinstance(row, dict) else (row.width, row.height)
    return f"{width}×{height}" if width and height else "–"


def fps(value: float | None) -> str:
    return f"{value:.3g} fps" if value else ""


def seconds(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "0"


FILTERS = {"duration": duration, "timecode": timecode, "size": size, "strength_words": strength_words,
           "resolution": resolution, "fps": fps, "seconds": seconds}


PAGING = frozenset({"page", "page_after", "page_before", "at"})


def pagelink(params: Any, paging: dict[str, str]) -> str:
    """The current query string with other paging parameters (a page number, or the key the page starts after or
    ends before): paging keeps the query, the filters and the sort."""
    from urllib.parse import urlencode

    kept = [(k, v) for k, v in params.multi_items() if k not in PAGING and v != ""]
    return urlencode([*kept, *paging.items()])


def scalars(details: Any) -> list[tuple[str, Any]]:
    """(label, value) of a stored model's plain fields that hold something: the facts a table can show."""
    if not isinstance(details, dict):
        return []
    shown = []
    for key, value in details.items():
        if value is None or value == "" or isinstance(value, (dict, list)):
            continue
        shown.append((key.replace("_", " "), round(value, 3) if isinstance(value, float) else value))
    return shown


def words(values: Any) -> list[str]:
    """A list of strings (or of objects with a text or name) as strings, for keywords, entities and the like."""
    found = []
    for value in values or []:
        if isinstance(value, dict):
            value = value.get("text") or value.get("name") or value.get("label")
        if value:
            found.append(str(value))
    return found


def marks(text: str | None) -> Markup:
    """A search snippet with its matched words (written `[word]` by the full-text search) highlighted; everything
    else escaped, so footage text stays text."""
    escaped = str(escape(text or ""))
    return Markup(re.sub(r"\[([^\[\]<>]{1,80})\]", r"<mark>\1</mark>", escaped))


FILTERS.update({"marks": marks, "pagelink": pagelink, "scalars": scalars, "words": words})
