"""Writing a file so that a reader never sees half of it and a crash never leaves one: the one way the catalog
writes its products (sidecars, thumbnails, proxies, prompts, model files, configuration)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A fresh temporary path in `path`'s folder (same file system, so the final move is atomic), for a writer
    that wants a file name (PIL, ffmpeg). On success it replaces `path`; on any failure it is removed.

    The name is not created (ffmpeg would ask before overwriting it), is unique per call (two writers never
    share it) and ends with `path`'s own name, so a writer that reads the format from the extension still can;
    the `.partial-` prefix is what the media sweep removes after a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".partial-{secrets.token_hex(4)}-{path.name}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: str | bytes, mode: int | None = None) -> None:
    """Write text (UTF-8) or bytes to `path` atomically; with `mode`, the file has it before it takes the name
    (created 0600 first, so it is never readable by others in between)."""
    with atomic_path(path) as tmp:
        if mode is not None:
            tmp.touch(mode=0o600)
            tmp.chmod(mode)
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8")
