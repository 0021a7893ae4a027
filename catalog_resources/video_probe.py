"""Is this file a video? Decided by opening the container with PyAV, not by its extension."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

from catalog_resources.models import ProbeResult

# Demuxers that open still images as a one-frame "video" stream.
IMAGE_FORMATS = {
    "image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "gif", "tiff_pipe", "psd_pipe", "svg_pipe",
    "jpegxl_pipe", "j2k_pipe", "dpx_pipe", "exr_pipe", "pam_pipe", "pgm_pipe", "ppm_pipe", "qdraw_pipe",
    "sgi_pipe", "xpm_pipe", "pictor_pipe", "gem_pipe", "pcx_pipe", "pbm_pipe", "pgmyuv_pipe", "photocd_pipe",
    "xbm_pipe", "xwd_pipe", "hdr_pipe", "qoi_pipe", "dds_pipe", "tiff", "apng", "webp",
}
# Demuxers that accept almost any bytes as raw data.
RAW_FORMATS = {"data", "bin", "tty", "txt"}
# Raw elementary-stream demuxers: they also "recognise" random bytes (a 5 KB random file probes as
# H.261), so they count as video only when the extension says so.
ELEMENTARY_FORMATS = {
    "h261": {".h261"}, "h263": {".h263"}, "m4v": {".m4v", ".cmp"}, "mjpeg": {".mjpeg", ".mjpg"},
    "mpegvideo": {".mpv", ".m1v", ".m2v", ".mpg"}, "h264": {".h264", ".264", ".avc"},
    "hevc": {".hevc", ".265", ".h265"}, "vvc": {".vvc", ".266"}, "cavsvideo": {".cavs"}, "vc1": {".vc1"},
    "dirac": {".drc"}, "ivf": {".ivf"}, "rawvideo": {".yuv", ".rgb"}, "obu": {".obu"},
}
TS_PACKET = 188


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


MKV_CUES_ID = b"\x1c\x53\xbb\x6b"
INDEX_WINDOW = 1024 * 1024


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


def _fraction(value: Fraction | None) -> float | None:
    return float(value) if value else None


def probe_container(path: Path) -> ProbeResult:
    """Open the container and read stream headers only (no decode): milliseconds per file."""
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.InvalidDataError:
        signature = container_signature(path)
        if signature:
            return ProbeResult(
                is_video=False, corrupt=True, container=signature,
                reason=f"corrupt or truncated {signature} file (its header is there, ffmpeg cannot read the rest)",
            )
        return ProbeResult(is_video=False, reason="not a media container (ffmpeg found no known format)")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
        return ProbeResult(is_video=False, reason=f"cannot open: {exc}")
    with container:
        format_name = container.format.name
        if format_name in IMAGE_FORMATS or format_name.split(",")[0] in IMAGE_FORMATS:
            return ProbeResult(is_video=False, container=format_name, reason=f"still image ({format_name})")
        if format_name in RAW_FORMATS:
            return ProbeResult(is_video=False, container=format_name, reason=f"not a media container ({format_name})")
        if format_name in ELEMENTARY_FORMATS and path.suffix.lower() not in ELEMENTARY_FORMATS[format_name]:
            return ProbeResult(
                is_video=False, container=format_name,
                reason=f"not a media container (only a guess of raw {format_name} data)",
            )
        videos = [s for s in container.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)]
        if not videos:
            kind = "audio only" if container.streams.audio else "no video stream"
            return ProbeResult(is_video=False, container=format_name, reason=kind)
        video = videos[0]
        duration = container.duration / 1_000_000 if container.duration else None
        if duration is None and video.duration and video.time_base:
            duration = float(video.duration * video.time_base)
        rate = video.guessed_rate or video.average_rate or video.base_rate
        return ProbeResult(
            is_video=True,
            container=format_name,
            duration_seconds=duration,
            video_codec=video.codec_context.name if video.codec_context else None,
            width=video.codec_context.width or None,
            height=video.codec_context.height or None,
            frame_rate=_fraction(rate),
            has_audio=bool(container.streams.audio),
        )


def first_frame_pts(path: Path) -> float:
    """Decode the first video frame and return its presentation time: proves the stream decodes."""
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            stream = next(s for s in container.streams.video if not (s.disposition & av.stream.Disposition.attached_pic))
            for frame in container.decode(stream):
                return float(frame.time) if frame.time is not None else 0.0
    except StopIteration:
        raise ValueError(f"{path}: no video stream to decode") from None
    except av.error.FFmpegError as exc:
        raise ValueError(f"{path}: video does not decode ({exc})") from exc
    raise ValueError(f"{path}: video stream has no decodable frame (truncated or corrupt)")
