"""PyAV (libav*): the one way the catalog opens a file to probe it, and what PyAV reads there.

Every probe opens the file through `open_container` (the same options, the same errors): the scan's "is it a
video" (media.container), the decode check (media.decode_check), the measured duration, the header duration
the cost estimate uses (`header_seconds`), and `PyAVReader.probe`, which returns a raw dict shaped like
ffprobe's JSON plus what only reading packets tells: variable frame rate from the timestamps themselves,
keyframe interval, timestamps going backwards, decodability. The reconcile step turns the three tools' raw
dicts into one model.
"""

from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from pydantic import BaseModel, Field

from catalog_resources.media.extent import HEAD_PACKETS, measure_extent, scan_packets, trusted_duration
from catalog_resources.media.signature import has_seek_index, short_container

# What opening a file can raise: libav's errors, the file system's, and bytes PyAV cannot even name.
OPEN_ERRORS = (av.error.FFmpegError, OSError, UnicodeDecodeError, ValueError)
AUDIO_CHECK_SECONDS = 3.0


def open_container(path: Path) -> av.container.InputContainer:
    """Open a file for reading with PyAV (use as a context manager). Tags in a broken encoding are skipped
    rather than failing the open. Raises one of OPEN_ERRORS."""
    return av.open(str(path), mode="r", metadata_errors="ignore")


def main_video(container: av.container.InputContainer) -> av.VideoStream | None:
    """The first video stream that is footage (not a cover picture), or None."""
    return next((s for s in container.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)), None)


def claimed_duration(container: av.container.InputContainer, video: av.VideoStream) -> float | None:
    """What the headers say: the container's duration, else the video stream's (None when both are absent)."""
    if container.duration:
        return container.duration / 1_000_000
    if video.duration and video.time_base:
        return float(video.duration * video.time_base)
    return None


def header_seconds(path: Path) -> float:
    """The container's duration from its header (milliseconds per file, nothing measured); 0 when it cannot be
    read. Good enough for a cost estimate before anything is cataloged."""
    try:
        with open_container(path) as container:
            return float(container.duration or 0) / 1_000_000
    except OPEN_ERRORS:
        return 0.0


def measured_duration(path: Path) -> tuple[float | None, str | None]:
    """The duration to believe for a file and the disagreement found, if any (see extent.trusted_duration)."""
    try:
        container = open_container(path)
    except OPEN_ERRORS:
        return None, None
    with container:
        video = main_video(container)
        if video is None:
            return None, None
        claimed = claimed_duration(container, video)
        head = scan_packets(container, video)
        return trusted_duration(claimed, measure_extent(container, video, head, path, claimed))


# libavutil enum values -> ffprobe's names
PRIMARIES = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film", 9: "bt2020",
             10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "ebu3213"}
TRANSFER = {1: "bt709", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear", 9: "log100",
            10: "log316", 11: "iec61966-2-4", 12: "bt1361e", 13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12",
            16: "smpte2084", 17: "smpte428", 18: "arib-std-b67"}
MATRIX = {0: "gbr", 1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "ycgco", 9: "bt2020nc",
          10: "bt2020c", 11: "smpte2085", 12: "chroma-derived-nc", 13: "chroma-derived-c", 14: "ictcp"}
RANGE = {1: "tv", 2: "pc"}
# decoder names that differ from ffprobe's codec names
CODEC_ALIASES = {"srt": "subrip", "libdav1d": "av1", "libaom-av1": "av1", "libvpx-vp9": "vp9", "libvpx": "vp8",
                 "libopus": "opus"}
FIELD_ORDER = {1: "progressive", 2: "tt", 3: "bb", 4: "tb", 5: "bt"}


def _ratio(value: Fraction | None) -> str | None:
    return f"{value.numerator}:{value.denominator}" if value else None


def _float(value: Fraction | int | float | None) -> float | None:
    return float(value) if value else None


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    return float(value * time_base) if value is not None and time_base else None


def _stream(stream: av.stream.Stream) -> dict[str, Any]:
    cc = stream.codec_context
    disposition = int(stream.disposition)
    info: dict[str, Any] = {
        "index": stream.index,
        "type": stream.type,
        "codec": CODEC_ALIASES.get(cc.name, cc.name) if cc else None,
        "codec_long": cc.codec.long_name if cc else None,
        "profile": getattr(cc, "profile", None) if cc else None,
        "bit_rate": cc.bit_rate or None if cc else None,
        "time_base": _ratio(stream.time_base),
        "start_time": _seconds(stream.start_time, stream.time_base),
        "duration": _seconds(stream.duration, stream.time_base),
        "frames": stream.frames or None,
        "language": stream.language if stream.language not in (None, "und") else None,
        "tags": dict(stream.metadata),
        "default": bool(disposition & av.stream.Disposition.default),
        "forced": bool(disposition & av.stream.Disposition.forced),
        "attached_pic": bool(disposition & av.stream.Disposition.attached_pic),
    }
    if cc is None:  # libavcodec has no decoder for it: the reconcile step reports unsupported_codec
        return info
    if stream.type == "video":
        info.update(
            width=cc.width or None,
            height=cc.height or None,
            level=cc.level if cc.level and cc.level > 0 else None,
            pix_fmt=cc.pix_fmt,
            sample_aspect_ratio=_ratio(stream.sample_aspect_ratio),
            display_aspect_ratio=_ratio(stream.display_aspect_ratio),
            r_frame_rate=_float(stream.guessed_rate or stream.base_rate),
            avg_frame_rate=_float(stream.average_rate),
            color_primaries=PRIMARIES.get(cc.color_primaries),
            color_transfer=TRANSFER.get(cc.color_trc),
            color_space=MATRIX.get(cc.colorspace),
            color_range=RANGE.get(cc.color_range),
            field_order=FIELD_ORDER.get(int(cc.field_order or 0)),
        )
    elif stream.type == "audio":
        info.update(
            channels=cc.channels or None,
            channel_layout=cc.layout.name if cc.layout else None,
            sample_rate=cc.sample_rate or None,
            sample_format=cc.format.name if cc.format else None,
        )
    return info


def _scan_video_packets(container: av.container.InputContainer, stream, max_packets: int, path: Path) -> dict[str, Any]:
    """Timestamps of the first packets (no decode): VFR, keyframe interval, backwards timestamps; and what the
    file really holds (packets to the end of file, or the sample index / a seek near the end for long clips)."""
    claimed = claimed_duration(container, stream)
    head = scan_packets(container, stream, max_packets)
    pts, keyframes, complete = head.pts, head.keyframes, head.complete
    tb = stream.time_base
    ordered = sorted(pts)
    deltas = [b - a for a, b in zip(ordered, ordered[1:]) if b > a]
    if complete and len(deltas) > 2:
        deltas = deltas[:-1]  # the last frame of a cut file is often longer: not a frame-rate change
    result: dict[str, Any] = {"packets": len(pts), "complete": complete, "timestamps_backwards": head.timestamps_backwards}
    if head.demux_error:
        result["demux_error"] = head.demux_error
    if deltas and tb:
        steps = sorted(deltas)
        typical = steps[len(steps) // 2]
        result["min_frame_seconds"] = float(steps[0] * tb)
        result["max_frame_seconds"] = float(steps[-1] * tb)
        # VFR: frame durations that really differ, not jitter of a tick or rounding of the time base.
        distinct = {round(float(d * tb), 3) for d in deltas}
        spread = (steps[-1] - steps[0]) / typical if typical else 0
        result["is_vfr"] = len(distinct) > 1 and spread > 0.1
        result["measured_fps"] = float(1 / (typical * tb)) if typical else None
    if len(keyframes) > 1 and tb:
        gaps = [float((b - a) * tb) for a, b in zip(keyframes, keyframes[1:])]
        result["keyframe_interval_seconds"] = round(sum(gaps) / len(gaps), 4)
    if complete:
        result["frame_count"] = len(pts)
        if ordered and tb:
            result["first_pts_seconds"] = float(ordered[0] * tb)
    extent = measure_extent(container, stream, head, path, claimed)
    if extent is not None:
        result["measured"] = extent.model_dump()
        result["measured"]["seconds"] = extent.seconds
    return result


def _first_frame(path: Path, stream_index: int) -> dict[str, Any]:
    try:
        with open_container(path) as container:
            stream = container.streams[stream_index]
            for frame in container.decode(stream):
                return {
                    "pts_seconds": float(frame.time) if frame.time is not None else None,
                    "rotation": int(frame.rotation or 0),
                    "interlaced": bool(frame.interlaced_frame),
                    "side_data": sorted(str(sd.type).split(".")[-1] for sd in frame.side_data),
                    "width": frame.width,
                    "height": frame.height,
                }
    except av.error.FFmpegError as exc:
        return {"error": str(exc)}
    return {"error": "no frame decoded (truncated or corrupt stream)"}


def _audio_peak(path: Path, stream_index: int, seconds: float) -> float | None:
    """Peak absolute sample value over the first seconds of an audio track (0 means silence)."""
    import numpy as np

    peak = 0.0
    try:
        with open_container(path) as container:
            stream = container.streams[stream_index]
            for frame in container.decode(stream):
                samples = frame.to_ndarray()
                if samples.size:
                    scale = float(np.iinfo(samples.dtype).max) if samples.dtype.kind == "i" else 1.0
                    peak = max(peak, float(np.abs(samples.astype(np.float64)).max()) / scale)
                if frame.time is not None and frame.time >= seconds:
                    break
    except av.error.FFmpegError:
        return None
    return peak


class PyAVReader(BaseModel):
    """Reads containers with PyAV; never decodes more than the first video frame and a few seconds of audio."""

    max_scan_packets: int = Field(default=HEAD_PACKETS, description="Video packets read for VFR / GOP / frame count (10 s at 30 fps).")
    audio_check_seconds: float = Field(default=AUDIO_CHECK_SECONDS, description="Audio decoded to tell silence.")

    def probe(self, path: Path) -> dict[str, Any]:
        started = time.perf_counter()
        raw: dict[str, Any] = {"tool": "pyav", "version": av.__version__}
        try:
            container = open_container(path)
        except OPEN_ERRORS as exc:
            # a header whose packets were cut off, camera raw: reconcile takes MediaInfo's reading instead
            raw["open_error"] = str(exc)
            raw["seconds"] = time.perf_counter() - started
            return raw
        with container:
            raw["format"] = {
                "name": container.format.name,
                "long_name": container.format.long_name,
                "duration": container.duration / 1_000_000 if container.duration else None,
                "start_time": container.start_time / 1_000_000 if container.start_time else None,
                "bit_rate": container.bit_rate or None,
                "tags": dict(container.metadata),
            }
            raw["streams"] = [_stream(s) for s in container.streams]
            video = main_video(container)
            video_index = video.index if video is not None else None
            if video is not None:
                raw["video_scan"] = _scan_video_packets(container, video, self.max_scan_packets, path)
        if video_index is not None:
            raw["first_frame"] = _first_frame(path, video_index)
        audio = [s for s in raw["streams"] if s["type"] == "audio"]
        if audio:
            raw["audio_peak"] = _audio_peak(path, audio[0]["index"], self.audio_check_seconds)
        raw["seek_index"] = has_seek_index(path, short_container(raw["format"]["name"], path))
        raw["seconds"] = time.perf_counter() - started
        return raw
