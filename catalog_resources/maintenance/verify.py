"""`verify`: is each recorded original still the content it was cataloged as?

A path is `ok` (its content hashes to the clip's checksums), `changed` (different content, and its size or mtime
moved: edited or replaced), `rotted` (different content with the same size and mtime: the disk or a copy went
bad), `missing` (the file is gone but its folder is there), `offline` (its folder is gone too: a drive not
mounted; reported, not a failure) or `unreadable`. The full check re-reads every byte (MD5 and xxh3-128, the
checksums clip_source recorded); `quick` reads only the sampled fingerprint that is the clip id.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from catalog_resources.media.fingerprint import full_hashes, sampled_fingerprint

State = Literal["ok", "changed", "rotted", "missing", "offline", "unreadable"]
PROBLEMS: frozenset[str] = frozenset({"changed", "rotted", "missing", "unreadable"})


class PathCheck(BaseModel):
    clip_id: str
    path: str
    state: State
    reason: str = ""


def _mtime(st: os.stat_result) -> datetime:
    return datetime.fromtimestamp(st.st_mtime, timezone.utc)


def _same_stat(recorded: dict[str, Any], st: os.stat_result) -> bool:
    when = recorded["mtime"]
    return st.st_size == recorded["size_bytes"] and abs((_mtime(st) - when).total_seconds()) < 1e-3


def _absent(recorded: dict[str, Any]) -> PathCheck:
    folder = os.path.dirname(recorded["path"])
    if os.path.isdir(folder):
        return PathCheck(clip_id=recorded["clip_id"], path=recorded["path"], state="missing",
                         reason="the file is gone (its folder is there)")
    return PathCheck(clip_id=recorded["clip_id"], path=recorded["path"], state="offline",
                     reason=f"its folder {folder} is not there (a drive not mounted?)")


def check_source(recorded: dict[str, Any], quick: bool = False, key: bytes = b"") -> PathCheck:
    """One recorded path of a clip against the disk now (`key`: the user's fingerprint key, store/owners.py)."""
    clip_id, path = recorded["clip_id"], recorded["path"]
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return _absent(recorded)
    except OSError as exc:
        return PathCheck(clip_id=clip_id, path=path, state="unreadable", reason=exc.strerror or str(exc))
    try:
        if quick:
            same = sampled_fingerprint(Path(path), st.st_size, key) == clip_id
        else:
            md5, fast = full_hashes(Path(path))
            same = md5 == recorded["md5"] and (recorded["fast_hash"] is None or fast == recorded["fast_hash"])
    except OSError as exc:
        return PathCheck(clip_id=clip_id, path=path, state="unreadable", reason=exc.strerror or str(exc))
    if same:
        return PathCheck(clip_id=clip_id, path=path, state="ok")
    if _same_stat(recorded, st):
        return PathCheck(clip_id=clip_id, path=path, state="rotted",
                         reason="same size and modification time, different content (bit rot or a bad copy)")
    return PathCheck(clip_id=clip_id, path=path, state="changed",
                     reason=f"different content (size {recorded['size_bytes']} -> {st.st_size} bytes)"
                     if st.st_size != recorded["size_bytes"] else "different content, modified since cataloged")
