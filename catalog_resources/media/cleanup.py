"""Leave nothing behind that no recorded step stands for.

A step that fails (or a process killed mid-step, or a disk that fills) can leave a proxy, thumbnails or
`.partial-*` files under `<home>/media/<clip id>/` with no materialization to account for them. On a full
disk those orphans made the per-clip retries fail too. A clip's folder keeps only the sidecars of the
steps recorded for it, the files those sidecars name, and the paid-answer cache; everything else goes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

# Files a step keeps on purpose whatever happened: a paid cloud answer (so a re-run does not pay twice)
# and a malformed answer saved for inspection.
KEPT_PATTERNS = ("ai_answer.*.json", "ai_analysis.raw.txt")


class SweepResult(BaseModel):
    removed: list[str] = Field(default_factory=list)
    bytes_freed: int = 0


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _referenced(clip_dir: Path, sidecar: Path) -> set[Path]:
    """Files under clip_dir that a sidecar names (proxy, audio, thumbnails, contact sheet...)."""
    try:
        data = json.loads(sidecar.read_text())
    except (OSError, ValueError):
        return set()
    root = clip_dir.resolve()
    found = set()
    for text in _strings(data):
        if "/" not in text:
            continue
        path = Path(text)
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):
            continue
        if resolved.is_relative_to(root):
            found.add(resolved)
    return found


def sweep_clip_dir(clip_dir: Path, recorded_assets: Iterable[str]) -> SweepResult:
    """Remove what no recorded step accounts for; the folder itself goes when nothing is left."""
    result = SweepResult()
    if not clip_dir.is_dir():
        return result
    root = clip_dir.resolve()
    keep: set[Path] = set()
    for asset in recorded_assets:
        sidecar = root / f"{asset}.json"
        if sidecar.is_file():
            keep.add(sidecar)
            keep |= _referenced(root, sidecar)
    for pattern in KEPT_PATTERNS:
        keep |= {p.resolve() for p in root.glob(pattern)}
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
            continue
        if path.resolve() in keep and not path.name.startswith(".partial-"):
            continue
        try:
            size = path.lstat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        result.removed.append(str(path))
        result.bytes_freed += size
    if not any(root.iterdir()):
        shutil.rmtree(root, ignore_errors=True)
    return result
