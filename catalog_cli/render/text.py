"""Printing user and footage text literally.

Paths, clip ids, queries, step names and messages come from file names, folder names, the footage itself
or the user's typing. Rich reads `[...]` as markup (a `[/]` in a folder name crashes the print, a `[bold]`
styles the rest of the line) and `:smile:` as an emoji, and a file name can carry terminal escape
sequences (`\\x1b[31m`, a bell, a carriage return that overwrites the line). Everything such text goes
through here: control characters are made visible (`\\x1b`, `\\r`, `\\n`) and markup is escaped, so what
the terminal shows is what is on disk, readable, and never an instruction to the terminal.
"""

from __future__ import annotations

import sys
from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text

ECHO_CHARS = 80  # a query or value echoed back in a message is cut here: a 10,000-character query is one line
# bidirectional overrides and isolates reorder what follows them on screen (a name can pose as another)
_BIDI = {0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069}
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible_char(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0:
        return f"\\x{code:02x}"
    if code in _BIDI:
        return f"\\u{code:04x}"
    return char


def visible(value: Any) -> str:
    """`str(value)` with every control character written out (`\\x1b`, `\\x07`, `\\r`, `\\n`), nothing else changed."""
    text = "" if value is None else str(value)
    if text.isprintable():  # the common case: nothing to replace
        return text
    return "".join(_visible_char(c) for c in text)


def literal(value: Any) -> str:
    """For a Rich markup string: the value shown exactly as it is (control characters visible, markup escaped)."""
    return escape(visible(value))


def plain(value: Any, style: str = "") -> Text:
    """A Rich Text of the value, shown literally: for table cells, panel titles and anything Rich renders."""
    return Text(visible(value), style=style)


def shorten(value: Any, limit: int = ECHO_CHARS) -> str:
    """The value cut to `limit` characters with an ellipsis, for echoing long user input back in one line."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def count(n: int, noun: str) -> str:
    """"1 clip", "3 clips": a title reads as a person would say it."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def echo(value: Any, limit: int = ECHO_CHARS) -> str:
    """A user's input quoted back in a message: cut to one line's worth, control characters visible."""
    return repr(shorten(value, limit))


class LiteralTable(Table):
    """A Rich Table whose string cells, title and caption are data, never markup: every CLI table holds paths,
    ids and footage text. Renderables that are not strings (a styled Text, a Panel) pass through unchanged."""

    def __init__(self, *headers: Any, title: Any = None, caption: Any = None, **kwargs: Any) -> None:
        super().__init__(*headers, title=plain(title) if isinstance(title, str) else title,
                         caption=plain(caption) if isinstance(caption, str) else caption, **kwargs)

    def add_row(self, *renderables: Any, **kwargs: Any) -> None:
        super().add_row(*(plain(r) if isinstance(r, str) else r for r in renderables), **kwargs)


def for_stdout(value: Any) -> str:
    """A bare value printed for scripts (`$(video-catalog prompt path)`): exact when piped, control characters
    visible when a person reads it on a terminal."""
    return visible(value) if sys.stdout.isatty() else str(value)
