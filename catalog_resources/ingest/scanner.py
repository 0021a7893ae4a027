"""Discovery shared by the CLI and the sensor: walk folders, recognise video by probing, remember what was seen.

A re-scan of an unchanged tree reads no file: (path, size, mtime) already in `scanned_files` means the
earlier answer stands. Only new or changed files are probed and fingerprinted.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from catalog_resources.store.catalog import CatalogQueries
from catalog_resources.media.fingerprint import sampled_fingerprint
from catalog_resources.models.clips import ScannedFile, ScanReport, ScanSkip
from catalog_resources.media.container import probe_container
from catalog_resources.media.decode_check import decode_check
from catalog_resources.media.signature import VIDEO_EXTENSIONS

SYSTEM_NAMES = {
    "thumbs.db", "desktop.ini", "ehthumbs.db", "$recycle.bin", "system volume information", "@eadir",
    "lost+found", "__macosx",
}


def _skipped(name: str) -> bool:
    return name.startswith(".") or name.lower() in SYSTEM_NAMES


DirKey = tuple[int, int]

SPECIAL_KINDS = (
    (stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)


def special_file_reason(path: Path, mode: int) -> str:
    """Why a FIFO, socket or device is not scanned. Decided from stat alone: opening a FIFO blocks."""
    kind = next((name for is_kind, name in SPECIAL_KINDS if is_kind(mode)), "special file")
    reason = f"{kind}, not a regular file: skipped without reading"
    if path.suffix.lower() in VIDEO_EXTENSIONS:  # flagged like a text file named .mp4 (see classify)
        reason = f"has a video extension but is not video: {reason}"
    return reason


def unstattable(path: Path, exc: OSError) -> ScanSkip | None:
    """Why stat failed on a path the walk met: a dangling symlink, a cycle of links, or permissions.
    None for a plain file that vanished between listing and stat: there is nothing left to name."""
    if not os.path.islink(path):
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        return ScanSkip(path=str(path), outcome="failed", reason=f"cannot read: {exc.strerror or exc}")
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    if exc.errno == errno.ELOOP:
        reason = f"broken symlink: {path} -> {target} is a cycle of links that never resolves"
    elif exc.errno in (errno.ENOENT, errno.ENOTDIR):
        reason = f"dangling symlink to {target}"
    else:
        reason = f"cannot follow symlink to {target}: {exc.strerror or exc}"
    return ScanSkip(path=str(path), outcome="failed", reason=reason)


def _revisit(folder: Path, first: str, is_loop: bool) -> ScanSkip:
    """A folder reached a second time through a symlink: its files were scanned at `first`, so nothing
    is missed and this is no failure, but it is named all the same."""
    if is_loop:
        reason = f"symlink loop: {folder} leads back to {first}, already scanned"
    else:
        reason = f"same folder as {first} (reached through a symlink), scanned there once"
    return ScanSkip(path=str(folder), outcome="not_video", reason=reason)


def walk_files(root: Path, skipped: list[ScanSkip]) -> Iterator[tuple[Path, os.stat_result]]:
    """Regular files under root, following directory symlinks but never into the same directory twice.

    Everything else the walk meets goes into `skipped` with its reason (FIFOs, sockets and devices,
    dangling or cyclic links, loops, unreadable folders): nothing is dropped in silence. Only stat decides,
    so no special file is ever opened. Hidden and system names are left out on purpose."""
    first_path: dict[DirKey, str] = {}
    seen_files: set[DirKey] = set()
    stack: list[tuple[Path, tuple[DirKey, ...]]] = [(root, ())]
    while stack:
        folder, ancestors = stack.pop()
        try:
            st = folder.stat()
        except OSError as exc:
            note = unstattable(folder, exc)
            if note is not None:
                skipped.append(note)
            continue
        key = (st.st_dev, st.st_ino)
        if key in first_path:
            skipped.append(_revisit(folder, first_path[key], key in ancestors))
            continue
        first_path[key] = str(folder)
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            skipped.append(
                ScanSkip(path=str(folder), outcome="failed", reason=f"cannot read folder: {exc.strerror or exc}"))
            continue
        subdirs = []
        for entry in entries:
            if _skipped(entry.name):
                continue
            path = Path(entry.path)
            try:
                entry_stat = entry.stat(follow_symlinks=True)
            except OSError as exc:
                note = unstattable(path, exc)
                if note is not None:
                    skipped.append(note)
                continue
            if stat.S_ISDIR(entry_stat.st_mode):
                subdirs.append(path)
            elif stat.S_ISREG(entry_stat.st_mode):
                file_key = (entry_stat.st_dev, entry_stat.st_ino)
                if file_key in seen_files:
                    continue  # the same file reached again through a link
                seen_files.add(file_key)
                yield path, entry_stat
            else:
                skipped.append(
                    ScanSkip(path=str(path), outcome="not_video", reason=special_file_reason(path, entry_stat.st_mode)))
        chain = (*ancestors, key)
        stack.extend((subdir, chain) for subdir in reversed(subdirs))


def stat_root(root: Path, report: ScanReport) -> os.stat_result | None:
    """A path named by the caller: the stat of a folder or regular file to scan, or None with the reason
    recorded. Named on purpose, so anything here that cannot be scanned (a FIFO too) is a failure."""
    try:
        st = root.stat()
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR) and not os.path.islink(root):
            report.missing_roots.append(str(root))
        else:
            report.skipped.append(unstattable(root, exc) or ScanSkip(
                path=str(root), outcome="failed", reason=f"cannot read: {exc.strerror or exc}"))
        return None
    if stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode):
        return st
    report.skipped.append(ScanSkip(path=str(root), outcome="failed", reason=special_file_reason(root, st.st_mode)))
    return None


def classify(path: Path, size: int, mtime_ns: int, key: bytes = b"") -> ScannedFile:
    """Probe one new or changed file: empty, unreadable, not video, or video with its fingerprint (and, when no
    frame decodes here or ffmpeg cannot open a file MediaInfo reads as video, the reason it can be cataloged
    by its metadata only)."""
    base = {"path": str(path), "size_bytes": size, "mtime_ns": mtime_ns}
    if size == 0:
        return ScannedFile(**base, kind="not_video", reason="empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        return ScannedFile(**base, kind="unreadable", reason="permission denied")
    probe = probe_container(path)  # PyAV, and MediaInfo when PyAV cannot open the file
    if probe.corrupt:
        return ScannedFile(**base, kind="unreadable", reason=probe.reason)
    if not probe.is_video:
        reason = probe.reason or "not a video"
        if path.suffix.lower() in VIDEO_EXTENSIONS:
            reason = f"has a video extension but is not video: {reason}"
        return ScannedFile(**base, kind="not_video", reason=reason)
    metadata_only = probe.metadata_only  # ffmpeg cannot open it, MediaInfo reads a video: nothing to decode
    if metadata_only is None:
        try:
            metadata_only = decode_check(path)  # bounded: one frame, or a few MB of packets that decode to none
        except ValueError as exc:
            return ScannedFile(**base, kind="unreadable", reason=str(exc))
    try:
        fingerprint = sampled_fingerprint(path, size, key)
    except OSError as exc:
        return ScannedFile(**base, kind="unreadable", reason=f"cannot read: {exc.strerror or exc}")
    return ScannedFile(**base, kind="video", fingerprint=fingerprint, metadata_only=metadata_only)




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
    present = [(root, st) for root in roots if (st := stat_root(root, report)) is not None]
    cache = store.scanned_under([root for root, _ in present])
    id_key = store.fingerprint_key()  # the user's own ids in a shared catalog
    seen: set[str] = set()
    fresh: list[ScannedFile] = []
    now_ns = time.time_ns()
    budget_left = max_probes
    for root, root_stat in present:
        files = [(root, root_stat)] if stat.S_ISREG(root_stat.st_mode) else walk_files(root, report.skipped)
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
                item = classify(path, st.st_size, st.st_mtime_ns, id_key)
                report.probed += 1
                fresh.append(item)
                if budget_left is not None:
                    budget_left -= 1
            report.files.append(item)
            if on_file is not None:
                on_file(item)
    report.skipped = list({skip.path: skip for skip in report.skipped}.values())  # overlapping roots meet them twice
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
