"""What a file's own bytes say, without libav: the container its first bytes claim, whether it carries a seek
index, and the names footage goes by.

libavformat guesses generously and rebuilds what is missing silently, so these checks read the bytes
themselves: a damaged video is told apart from a non-video, and a missing index is reported.
"""

from __future__ import annotations

from pathlib import Path

TS_PACKET = 188
# What footage is named; a file PyAV cannot open is worth asking MediaInfo about only with one of these names
# or a video container's signature (asking it about every other file made the first scan 7x slower).
VIDEO_EXTENSIONS = {
    ".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mts", ".m2ts", ".mxf", ".mpg", ".mpeg", ".ts", ".wmv",
    ".flv", ".3gp", ".lrf", ".insv", ".braw", ".r3d", ".dv", ".vob", ".ogv",
}

MKV_CUES_ID = b"\x1c\x53\xbb\x6b"
INDEX_WINDOW = 1024 * 1024


def container_signature(path: Path) -> str | None:
    """Name the container a file's first bytes claim, so a damaged video is told apart from a non-video."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return None
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
        return "MP4/QuickTime"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "Matroska/WebM"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    if head[:4] == b"\x06\x0e\x2b\x34":
        return "MXF"
    if _ts_sync(path):
        return "MPEG-TS"
    return None


def looks_like_video(path: Path) -> bool:
    """A video's name or a video container's signature: worth asking MediaInfo about when PyAV cannot open it."""
    return path.suffix.lower() in VIDEO_EXTENSIONS or container_signature(path) is not None


def has_seek_index(path: Path, container: str | None) -> bool | None:
    """Does the file carry its seek index (Matroska Cues, AVI idx1/indx)? None when not applicable.

    libavformat rebuilds a missing index silently by reading the file, so this looks at the bytes:
    the element or chunk id in the first 64 KiB or the last MiB, where muxers put it.
    """
    if container not in ("matroska", "webm", "avi"):
        return None
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(64 * 1024)
            handle.seek(max(0, size - INDEX_WINDOW))
            tail = handle.read(INDEX_WINDOW)
    except OSError:
        return None
    if container == "avi":
        return b"idx1" in tail or b"indx" in head
    return MKV_CUES_ID in tail or MKV_CUES_ID in head[64:]  # past the EBML header and SeekHead


def short_container(format_name: str, path: Path) -> str:
    """libavformat's first format name, with WebM told from Matroska by the extension ('matroska,webm')."""
    first = format_name.split(",")[0]
    return "webm" if first == "matroska" and path.suffix.lower() == ".webm" else first


def _ts_sync(path: Path) -> bool:
    """MPEG-TS (188-byte packets) or M2TS (192): the sync byte 0x47 at the start of three packets."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(3 * 192 + 8)
    except OSError:
        return False
    for offset, step in ((0, TS_PACKET), (4, 192)):
        if len(head) >= offset + 2 * step + 1 and all(head[offset + i * step] == 0x47 for i in range(3)):
            return True
    return False
