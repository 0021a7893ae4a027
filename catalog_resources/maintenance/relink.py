"""`relink OLD_PREFIX NEW_PREFIX`: which recorded paths move where, and whether the file at each new path is the
same content (its sampled fingerprint is the clip id). The catalog's JSON sidecars name original paths too
(clip_source.json is what downstream steps read the path from), so they are rewritten with the rows."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from catalog_resources.files import write_atomic
from catalog_resources.media.fingerprint import sampled_fingerprint


class Move(BaseModel):
    clip_id: str
    old: str
    new: str
    state: Literal["relinked", "would relink", "not found", "different content", "unreadable"]
    reason: str = ""


def normalize_prefix(prefix: str) -> str:
    """An absolute folder path without a trailing slash (`/` stays `/`)."""
    absolute = os.path.abspath(os.path.expanduser(prefix))
    return absolute.rstrip("/") or "/"


def new_path(path: str, old_prefix: str, new_prefix: str) -> str:
    rest = path[len(old_prefix):] if old_prefix != "/" else path
    return new_prefix.rstrip("/") + ("/" + rest.lstrip("/") if rest.strip("/") else "")


def check_move(recorded: dict[str, Any], old_prefix: str, new_prefix: str, key: bytes = b"") -> Move:
    """Where a recorded path goes, and whether the file there is the clip (`key`: the user's fingerprint key)."""
    target = new_path(recorded["path"], old_prefix, new_prefix)
    base = {"clip_id": recorded["clip_id"], "old": recorded["path"], "new": target}
    try:
        same = sampled_fingerprint(Path(target), key=key) == recorded["clip_id"]
    except FileNotFoundError:
        return Move(**base, state="not found", reason="no file at the new path")
    except OSError as exc:
        return Move(**base, state="unreadable", reason=exc.strerror or str(exc))
    if not same:
        return Move(**base, state="different content", reason="the file at the new path is not this clip")
    return Move(**base, state="would relink")


def _replace(value: Any, paths: dict[str, str]) -> Any:
    if isinstance(value, str):
        return paths.get(value, value)
    if isinstance(value, list):
        return [_replace(v, paths) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, paths) for k, v in value.items()}
    return value


def rewrite_sidecars(media_dir: Path, clip_id: str, paths: dict[str, str]) -> int:
    """Replace the old paths in the clip's JSON sidecars (strings equal to an old path only); how many changed."""
    changed = 0
    for sidecar in sorted((media_dir / clip_id).glob("*.json")):
        try:
            data = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        updated = _replace(data, paths)
        if updated != data:
            write_atomic(sidecar, json.dumps(updated, indent=2))
            changed += 1
    return changed
