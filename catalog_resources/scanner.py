"""Discovery shared by the CLI and the sensor: walk folders, recognise video by probing, remember what was seen.

A re-scan of an unchanged tree reads no file: (path, size, mtime) already in `scanned_files` means the
earlier answer stands. Only new or changed files are probed and fingerprinted.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from catalog_resources.catalog_store import CatalogQueries
from catalog_resources.fingerprint import sampled_fingerprint
from catalog_resources.models import ScannedFile, ScanReport
from catalog_resources.video_probe import decode_check, probe_container

SYSTEM_NAMES = {
    "thumbs.db", "desktop.ini", "ehthumbs.db", "$recycle.bin", "system volume information", "@eadir",
    "lost+found", "__macosx",
}


def _skipped(name: str) -> bool:
    return name.startswith(".") or name.lower() in SYSTEM_NAMES


def walk_files(root: Path, loops: list[str]) -> Iterator[tuple[Path, os.stat_result]]:
    """Regular files under root, following directory symlinks but never the same directory twice."""
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:
            loops.append(str(folder))
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            if _skipped(entry.name):
                continue
            try:
                entry_stat = entry.stat(follow_symlinks=True)
            except OSError:
                continue  # dangling symlink
            if stat.S_ISDIR(entry_stat.st_mode):
                subdirs.append(Path(entry.path))
            elif stat.S_ISREG(entry_stat.st_mode):
                key = (entry_stat.st_dev, entry_stat.st_ino)
                if key in seen_files:
                    continue  # the same file reached again through a link
                seen_files.add(key)
                yield Path(entry.path), entry_stat
        stack.extend(reversed(subdirs))


def classify(path: Path, size: int, mtime_ns: int) -> ScannedFile:
    """Probe one new or changed file: empty, unreadable, not video, or video with its fingerprint (and, when no
    frame decodes here, the reason it can be cataloged by its metadata only)."""
    base = {"path": str(path), "size_bytes": size, "mtime_ns": mtime_ns}
    if size == 0:
        return ScannedFile(**base, kind="not_video", reason="empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        return ScannedFile(**base, kind="unreadable", reason="permission denied")
    probe = probe_container(path)
    if probe.corrupt:
        return ScannedFile(**base, kind="unreadable", reason=probe.reason)
    if not probe.is_video:
        reason = probe.reason or "not a video"
        if path.suffix.lower() in VIDEO_EXTENSIONS:
            reason = f"has a video extension but is not video: {reason}"
        return ScannedFile(**base, kind="not_video", reason=reason)
    try:
        metadata_only = decode_check(path)  # bounded: one frame, or a few MB of packets that decode to none
    except ValueError as exc:
        return ScannedFile(**base, kind="unreadable", reason=str(exc))
    try:
        fingerprint = sampled_fingerprint(path, size)
    except OSError as exc:
        return ScannedFile(**base, kind="unreadable", reason=f"cannot read: {exc.strerror or exc}")
    return ScannedFile(**base, kind="video", fingerprint=fingerprint, metadata_only=metadata_only)


VIDEO_EXTENSIONS = {
    ".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mts", ".m2ts", ".mxf", ".mpg", ".mpeg", ".ts", ".wmv",
    ".flv", ".3gp", ".lrf", ".insv", ".braw", ".r3d", ".dv", ".vob", ".ogv",
}


def scan(
    roots: list[Path],
    store: CatalogQueries,
    *,
    settle_seconds: float = 0.0,
    max_probes: int | None = None,
    on_file: Callable[[ScannedFile], None] | None = None,
    record: bool = True,
) -> ScanReport:
    """Scan roots (folders or single files); record new answers in the cache (unless `record` is
    False, as for --dry-run); report every file."""
    started = time.monotonic()
    report = ScanReport()
    roots = [Path(os.path.abspath(root)) for root in roots]
    present = []
    for root in roots:
        if root.exists():
            present.append(root)
        else:
            report.missing_roots.append(str(root))
    cache = store.scanned_under(present)
    seen: set[str] = set()
    fresh: list[ScannedFile] = []
    now_ns = time.time_ns()
    budget_left = max_probes
    for root in present:
        files = [(root, root.stat())] if root.is_file() else walk_files(root, report.skipped_loops)
        for path, st in files:
            key = str(path)
            if key in seen:
                continue
            seen.add(key)
            cached = cache.get(key)
            if cached is not None and cached.size_bytes == st.st_size and cached.mtime_ns == st.st_mtime_ns:
                item = cached
            elif settle_seconds and (now_ns - st.st_mtime_ns) < settle_seconds * 1e9:
                report.settling.append(key)
                continue
            elif budget_left is not None and budget_left <= 0:
                continue  # bounded work: the next scan picks it up
            else:
                item = classify(path, st.st_size, st.st_mtime_ns)
                report.probed += 1
                fresh.append(item)
                if budget_left is not None:
                    budget_left -= 1
            report.files.append(item)
            if on_file is not None:
                on_file(item)
    if not record:
        report.seconds = time.monotonic() - started
        return report
    store.record_scanned(fresh)
    vanished = [
        path
        for path in cache
        if path not in seen and path not in report.settling and not os.path.exists(path)
    ]
    store.forget_scanned(vanished)
    report.seconds = time.monotonic() - started
    return report
