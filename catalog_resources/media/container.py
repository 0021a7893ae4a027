"""Is this file a video? Decided by opening the container with PyAV (media.pyav), not by its extension.

A file libavformat cannot open is asked about with MediaInfo when its name or signature says video, so a
header whose packets were cut off, or camera raw, is still cataloged by its metadata.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

from catalog_resources.media.mediainfo import MediaInfoVideo, read_video
from catalog_resources.media.pyav import claimed_duration, main_video, open_container
from catalog_resources.media.signature import container_signature, looks_like_video
from catalog_resources.models.clips import ProbeResult

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


def _fraction(value: Fraction | None) -> float | None:
    return float(value) if value else None


def metadata_only_reason(video: MediaInfoVideo) -> str:
    """Why a video ffmpeg cannot open is cataloged by its metadata: camera raw with no decoder here, or a
    container whose headers MediaInfo reads and libavformat does not (a header whose packets were cut off)."""
    if video.camera_raw:
        return f"metadata-only: no decoder for {video.camera_raw} here (ffmpeg cannot open it)"
    size = f" {video.width}x{video.height}" if video.width and video.height else ""
    return (f"metadata-only: ffmpeg cannot open this {video.container} file ({video.video_format}{size} video); "
            "MediaInfo read its headers")


def mediainfo_fallback(path: Path) -> ProbeResult | None:
    """For a file PyAV cannot open (or finds corrupt): a metadata-only video when MediaInfo reads a video in it
    (see media.mediainfo.video_from_tracks), else None. Random bytes, text and files cut before their
    header carry no such video, so they stay what PyAV said."""
    video = read_video(path)
    if video is None:
        return None
    return ProbeResult(
        is_video=True, container=video.container, duration_seconds=video.duration_seconds,
        video_codec=None, width=video.width, height=video.height, frame_rate=video.frame_rate,
        has_audio=video.has_audio, metadata_only=metadata_only_reason(video),
    )


def probe_container(path: Path) -> ProbeResult:
    """Open the container and read stream headers only (no decode): milliseconds per file. When libavformat
    cannot open it, MediaInfo gets a say (mediainfo_fallback)."""
    try:
        container = open_container(path)
    except av.error.FFmpegError as exc:
        fallback = mediainfo_fallback(path) if looks_like_video(path) else None
        if fallback is not None:
            return fallback
        return _unopened(path, exc)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return ProbeResult(is_video=False, reason=f"cannot open: {exc}")
    with container:
        return _probe_open(container, path)


def _unopened(path: Path, exc: av.error.FFmpegError) -> ProbeResult:
    """What a file libavformat cannot open is, MediaInfo having found no video in it either."""
    if isinstance(exc, av.error.InvalidDataError):
        signature = container_signature(path)
        if signature:
            return ProbeResult(
                is_video=False, corrupt=True, container=signature,
                reason=f"corrupt or truncated {signature} file (its header is there, ffmpeg cannot read the rest)",
            )
        return ProbeResult(is_video=False, reason="not a media container (ffmpeg found no known format)")
    return ProbeResult(is_video=False, reason=f"cannot open: {exc}")


def _probe_open(container: av.container.InputContainer, path: Path) -> ProbeResult:
    """Video or not, from the streams libavformat found (stills, raw-data guesses and audio are not)."""
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
    video = main_video(container)
    if video is None:
        kind = "audio only" if container.streams.audio else "no video stream"
        return ProbeResult(is_video=False, container=format_name, reason=kind)
    cc = video.codec_context  # None when libavcodec has no decoder for it (RED, BRAW, unknown fourcc)
    rate = video.guessed_rate or video.average_rate or video.base_rate
    return ProbeResult(
        is_video=True,
        container=format_name,
        duration_seconds=claimed_duration(container, video),
        video_codec=cc.name if cc else None,
        width=(cc.width or None) if cc else None,
        height=(cc.height or None) if cc else None,
        frame_rate=_fraction(rate),
        has_audio=bool(container.streams.audio),
    )
