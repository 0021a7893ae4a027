"""Content identity: a fast sampled fingerprint (the clip id) and the full checksums that confirm it."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import xxhash

SAMPLE_BYTES = 64 * 1024
READ_CHUNK = 4 * 1024 * 1024
FINGERPRINT_VERSION = b"vc-fp1"


def sampled_fingerprint(path: Path, size: int | None = None, key: bytes = b"") -> str:
    """16 hex chars from the size and three 64 KiB blocks (head, middle, tail).

    Reads at most 192 KiB whatever the file size, so identifying a copy of a 50 GB camera file costs
    three seeks. Collisions (same samples, different content) are caught by the full MD5 in clip_source.
    `key` (a user's role name in a shared catalog, store/owners.py) makes the same file another user's own id;
    the catalog's first owner has none, so a catalog made before users keeps its ids.
    """
    size = os.stat(path).st_size if size is None else size
    digest = hashlib.blake2b(FINGERPRINT_VERSION + size.to_bytes(8, "little"), digest_size=8, key=key)
    with open(path, "rb") as handle:
        if size <= 3 * SAMPLE_BYTES:
            digest.update(handle.read())
        else:
            for offset in (0, size // 2 - SAMPLE_BYTES // 2, size - SAMPLE_BYTES):
                handle.seek(offset)
                digest.update(handle.read(SAMPLE_BYTES))
    return digest.hexdigest()


def full_hashes(path: Path, on_progress: Callable[[int], None] | None = None) -> tuple[str, str]:
    """MD5 (the spec's dedup key) and xxh3-128 (fast re-verification) in one read of the file."""
    md5 = hashlib.md5(usedforsecurity=False)
    fast = xxhash.xxh3_128()
    with open(path, "rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            md5.update(chunk)
            fast.update(chunk)
            if on_progress is not None:
                on_progress(len(chunk))
    return md5.hexdigest(), fast.hexdigest()
