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
    if head[:1] == b"\x47" or head[4:5] == b"\x47":
        return "MPEG-TS"
    return None


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
