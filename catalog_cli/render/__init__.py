"""Everything the CLI shows: the two consoles, literal text (`text`), tables and summaries (`tables`), one clip's
panels (`clip`) and machine-readable exports (`export`). Commands compute; they print through here.

`out` is stdout (results: tables, JSON); `err` is stderr (progress, messages, errors), so a pipe gets only results.
"""

from __future__ import annotations

import sys

from rich.console import Console

out = Console(width=None if sys.stdout.isatty() else 200, emoji=False)  # `:abc:` in a folder name is text
err = Console(stderr=True, emoji=False, soft_wrap=True)  # a message is one line; the terminal wraps it
