"""Clip partition keys a person can find: a slug of the file name the clip was first seen under, then its id.

Dagster's partition lists, their filter and every run page show partition keys. A bare 16-hex fingerprint
told a user nothing, so the key is `GOPR0001.MP4-3f9a0c1d2e4b5a69`: readable, and still ending in the clip
id, which is all the code needs (`clip_id_of`). The key is made once, when the clip is first registered,
and never recomputed: a clip moved or renamed later keeps its key, as it keeps its id. Keys of catalogs made
before this (the bare id) still parse, and are renamed by catalog_assets/partition_migration.py.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import PurePath

CLIP_ID = re.compile(r"[0-9a-f]{16}")
_KEY = re.compile(r"(?:.+-)?([0-9a-f]{16})")
# Dagster refuses "..." and control characters in a key, and its partition selection syntax uses [ ] , ...;
# a slug of letters, digits, dot, dash and underscore stays clear of all of them.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_SLUG = 60


def slug(file_name: str) -> str:
    """The file name with accents folded to ASCII, anything else unsafe as `_`, at most MAX_SLUG characters."""
    ascii_name = unicodedata.normalize("NFKD", PurePath(file_name).name).encode("ascii", "ignore").decode()
    text = _UNSAFE.sub("_", ascii_name)
    text = re.sub(r"\.{2,}", ".", text).strip("._-")
    return text[:MAX_SLUG].rstrip("._-") or "clip"


def partition_key(clip_id: str, file_name: str | None) -> str:
    """The key a clip is registered under: `<slug of its first-seen name>-<clip id>`."""
    return f"{slug(file_name or '')}-{clip_id}"


def clip_id_of(key: str) -> str:
    """The clip id a partition key ends with (a key of an older catalog is the bare id)."""
    match = _KEY.fullmatch(key)
    if match is None:
        raise ValueError(f"{key!r} is not a clip partition key (<name>-<16 hex clip id>)")
    return match.group(1)


def keys_by_clip(keys: Iterable[str]) -> dict[str, str]:
    """clip id -> its partition key, for registered keys (those of another form are skipped)."""
    found: dict[str, str] = {}
    for key in keys:
        match = _KEY.fullmatch(key)
        if match is not None:
            found.setdefault(match.group(1), key)
    return found


def is_legacy_key(key: str) -> bool:
    """A key of a catalog made before readable keys: the bare clip id."""
    return CLIP_ID.fullmatch(key) is not None
