"""`video-catalog report`: the content summary of a set of clips and the catalog's storage usage, as plain dicts
a front end prints (text, JSON, CSV). Plain Python: the SQL is store/reports.py's, the media store is walked here.

Storage counts the originals once per content (two clip rows with one MD5, or one clip seen at several paths, are
one set of bytes; the other paths are reported as copies), and the media store's products per clip by what they
are: proxy, 16 kHz audio, analysis frames, thumbnails (and the contact sheet), sidecars.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from catalog_resources.errors import UsageError
from catalog_resources.models.clips import ClipFilter
from catalog_resources.search.filters import filter_sql
from catalog_resources.store.catalog import CatalogQueries

GROUPINGS = ("folder", "camera", "codec", "collection")
MEDIA_KINDS = ("proxy", "audio", "analysis_frames", "thumbnails", "sidecars")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".webp", ".png"}


def content_summary(store: CatalogQueries, filters: ClipFilter | None = None) -> dict[str, Any]:
    where, params = filter_sql(filters)
    summary = store.content_summary(where, params)
    for key in ("recorded_from", "recorded_to"):
        summary[key] = summary[key].isoformat() if summary[key] else None
    return summary


def _kind(path: Path) -> str:
    name = path.name
    if path.suffix.lower() in (".json", ".txt"):  # a step's sidecar (proxy.json too), a saved answer
        return "sidecars"
    if name.startswith("proxy."):
        return "proxy"
    if name.startswith("audio_"):
        return "audio"
    if name.startswith("analysis."):
        return "analysis_frames"
    return "thumbnails" if path.suffix.lower() in IMAGE_SUFFIXES else "sidecars"


def media_usage(media_dir: Path, clip_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """{clip id: {kind: bytes}} of each clip's folder in the media store (files only, symlinks not followed)."""
    usage: dict[str, dict[str, int]] = {}
    for clip_id in clip_ids:
        found = dict.fromkeys(MEDIA_KINDS, 0)
        for root, _dirs, files in os.walk(media_dir / clip_id):
            for name in files:
                path = Path(root) / name
                try:
                    found[_kind(path)] += path.lstat().st_size
                except OSError:  # removed while we looked
                    continue
        usage[clip_id] = found
    return usage


def _groups(row: dict[str, Any], by: str | None) -> list[str]:
    if by is None:
        return ["all"]
    if by == "folder":
        return [os.path.dirname(row["path"]) or "/"]
    if by == "collection":
        return list(row["collections"]) or ["(no collection)"]
    return [row[by] or "unknown"]


def storage_usage(store: CatalogQueries, media_dir: Path, by: str | None = None) -> dict[str, Any]:
    """Totals and, with `by`, one row per folder, camera, codec or collection (a clip in two collections counts
    in both). Originals are counted once per MD5 overall and within each group."""
    if by is not None and by not in GROUPINGS:
        raise UsageError(f"--by {by!r}: choose one of {', '.join(GROUPINGS)}")
    rows = store.storage_rows()
    media = media_usage(media_dir, [r["clip_id"] for r in rows])
    groups: dict[str, dict[str, Any]] = {}
    seen: dict[str, set[str]] = {}
    for row in rows:
        for name in _groups(row, by):
            group = groups.setdefault(name, {"group": name, "clips": 0, "originals_bytes": 0, "copies_bytes": 0,
                                             "online_bytes": 0, "offline_bytes": 0, "offline_clips": 0,
                                             **{f"{k}_bytes": 0 for k in MEDIA_KINDS}})
            group["clips"] += 1
            group["copies_bytes"] += max(0, int(row["copy_bytes"]))
            if row["md5"] not in seen.setdefault(name, set()):  # the same content once per group
                seen[name].add(row["md5"])
                group["originals_bytes"] += row["size_bytes"]
                group["online_bytes" if row["online"] else "offline_bytes"] += row["size_bytes"]
            group["offline_clips"] += 0 if row["online"] else 1
            for kind, size in media[row["clip_id"]].items():
                group[f"{kind}_bytes"] += size
    for group in groups.values():
        group["media_store_bytes"] = sum(group[f"{k}_bytes"] for k in MEDIA_KINDS)
    ordered = sorted(groups.values(), key=lambda g: (-g["originals_bytes"], g["group"]))
    totals = _totals(rows, media)
    totals["database_bytes"] = store.database_bytes()
    return {"by": by, "totals": totals, "groups": ordered if by else []}


def _totals(rows: list[dict[str, Any]], media: dict[str, dict[str, int]]) -> dict[str, Any]:
    unique: dict[str, dict[str, Any]] = {}
    for row in rows:
        unique.setdefault(row["md5"], row)
    totals = {"clips": len(rows), "distinct_contents": len(unique),
              "originals_bytes": sum(r["size_bytes"] for r in unique.values()),
              "copies_bytes": sum(max(0, int(r["copy_bytes"])) for r in rows),
              "online_bytes": sum(r["size_bytes"] for r in unique.values() if r["online"]),
              "offline_bytes": sum(r["size_bytes"] for r in unique.values() if not r["online"]),
              "offline_clips": sum(1 for r in rows if not r["online"])}
    for kind in MEDIA_KINDS:
        totals[f"{kind}_bytes"] = sum(m[kind] for m in media.values())
    totals["media_store_bytes"] = sum(totals[f"{k}_bytes"] for k in MEDIA_KINDS)
    return totals
