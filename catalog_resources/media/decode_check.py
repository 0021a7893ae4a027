"""Does a video frame decode here? Bounded: one frame, or a few MB of packets that decode to none.

A video with no frame that decodes (camera raw with no decoder here, a fragment, a stream of garbage) is not
rejected: it is cataloged by its metadata, and this names the reason.
"""

from __future__ import annotations

from pathlib import Path

import av

from catalog_resources.errors import MediaError
from catalog_resources.media.container import mediainfo_fallback
from catalog_resources.media.pyav import main_video, open_container


class UndecodableMedia(MediaError, ValueError):
    """The container does not open (and MediaInfo reads no video in it), or it holds no video stream."""


DECODE_CHECK_PACKETS = 240  # 8 s at 30 fps: past the first keyframe of any sane stream
DECODE_CHECK_BYTES = 48 * 1024 * 1024  # a few intra frames of 8K RAW-like codecs


def decode_check(path: Path) -> str | None:
    """None when a video frame decodes here; else why the clip can only be cataloged by its metadata.

    'metadata-only: no decoder for <codec>' (RED, BRAW, an unknown fourcc) or 'metadata-only: no decodable
    video frame' (a fragment, a stream of garbage), or mediainfo_fallback's reason for a file libavformat cannot
    open in which MediaInfo reads a video. Bounded: gives up after DECODE_CHECK_PACKETS packets or
    DECODE_CHECK_BYTES bytes. Raises UndecodableMedia (a ValueError) when the container does not open and
    MediaInfo sees no video.
    """
    return first_decodable_frame(path)[1]


def first_decodable_frame(path: Path) -> tuple[float | None, str | None]:
    """(pts of the first decoded video frame, None) or (None, the metadata-only reason). A file libavformat
    cannot open in which MediaInfo reads a video (a cut-off header, camera raw) is metadata-only too."""
    try:
        container = open_container(path)
    except av.error.FFmpegError as exc:
        fallback = mediainfo_fallback(path)
        if fallback is not None:
            return None, fallback.metadata_only
        raise UndecodableMedia(f"{path}: cannot open ({exc})") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UndecodableMedia(f"{path}: cannot open ({exc})") from exc
    with container:
        stream = main_video(container)
        if stream is None:
            raise UndecodableMedia(f"{path}: no video stream to decode")
        if stream.codec_context is None:
            return None, f"metadata-only: no decoder for {undecodable_codec_name(path, stream.index)}"
        frame = _first_frame_bounded(container, stream)
    if frame is None:
        return None, "metadata-only: no decodable video frame"
    return (float(frame.time) if frame.time is not None else 0.0), None


def _first_frame_bounded(container: av.container.InputContainer, stream: av.VideoStream) -> av.VideoFrame | None:
    """Feed packets to the decoder until a frame comes out or the budget is spent; a bad packet is skipped."""
    cc = stream.codec_context
    packets = size = 0
    try:
        for packet in container.demux(stream):
            try:
                frames = cc.decode(packet)
            except av.error.FFmpegError:
                frames = []
            if frames:
                return frames[0]
            packets += 1
            size += packet.size
            if packets >= DECODE_CHECK_PACKETS or size >= DECODE_CHECK_BYTES:
                break
        frames = cc.decode(None)  # drain: a decoder with delay holds the only frame of a short clip
    except av.error.FFmpegError:
        return None
    return frames[0] if frames else None


def undecodable_codec_name(path: Path, index: int) -> str:
    """libavcodec's name or the fourcc of a stream PyAV has no decoder for (PyAV exposes neither then)."""
    import json
    import subprocess

    try:
        out = subprocess.run(
            ["ffprobe", "-v", "quiet", "-of", "json", "-show_entries", "stream=index,codec_name,codec_tag_string", str(path)],
            capture_output=True, text=True, timeout=20,
        ).stdout
        streams = json.loads(out or "{}").get("streams") or []
    except (OSError, subprocess.TimeoutExpired, ValueError):
        streams = []
    info = next((s for s in streams if s.get("index") == index), {})
    name = info.get("codec_name")
    if name and name != "unknown":
        return name
    tag = (info.get("codec_tag_string") or "").strip()
    return tag if tag and not tag.startswith("[") else "an unknown codec"
