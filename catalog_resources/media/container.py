"""Is this file a video? Decided by opening the container with PyAV, not by its extension."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
from pydantic import BaseModel, Field

from catalog_resources.media.mediainfo import MediaInfoVideo, read_video
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
TS_PACKET = 188
# What footage is named; a file PyAV cannot open is worth asking MediaInfo about only with one of these names
# or a video container's signature (asking it about every other file made the first scan 7x slower).
VIDEO_EXTENSIONS = {
    ".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mts", ".m2ts", ".mxf", ".mpg", ".mpeg", ".ts", ".wmv",
    ".flv", ".3gp", ".lrf", ".insv", ".braw", ".r3d", ".dv", ".vob", ".ogv",
}


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


def metadata_only_reason(video: MediaInfoVideo) -> str:
    """Why a video ffmpeg cannot open is cataloged by its metadata: camera raw with no decoder here, or a
    container whose headers MediaInfo reads and libavformat does not (a header whose packets were cut off)."""
    if video.camera_raw:
        return f"metadata-only: no decoder for {video.camera_raw} here (ffmpeg cannot open it)"
    size = f" {video.width}x{video.height}" if video.width and video.height else ""
    return (f"metadata-only: ffmpeg cannot open this {video.container} file ({video.video_format}{size} video); "
            "MediaInfo read its headers")


def _looks_like_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS or container_signature(path) is not None


def mediainfo_fallback(path: Path) -> ProbeResult | None:
    """For a file PyAV cannot open (or finds corrupt): a metadata-only video when MediaInfo reads a video in it
    (see mediainfo_probe.video_from_tracks), else None. Random bytes, text and files cut before their
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
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        fallback = mediainfo_fallback(path) if _looks_like_video(path) else None
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
    videos = [s for s in container.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)]
    if not videos:
        kind = "audio only" if container.streams.audio else "no video stream"
        return ProbeResult(is_video=False, container=format_name, reason=kind)
    video = videos[0]
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


def claimed_duration(container: av.container.InputContainer, video: av.VideoStream) -> float | None:
    """What the headers say: the container's duration, else the video stream's (None when both are absent)."""
    if container.duration:
        return container.duration / 1_000_000
    if video.duration and video.time_base:
        return float(video.duration * video.time_base)
    return None


# ---- what is really there: packet timestamps against the headers' claims ------------------------------

HEAD_PACKETS = 300  # video packets read from the start (10 s at 30 fps)
PACKETS_PER_VIDEO_PACKET = 40  # all-stream budget per video packet (20 audio tracks of AAC still fit)
TAIL_PACKETS = 300  # video packets read after seeking near the end
FAR_FUTURE_SECONDS = 1e9  # seek target when no sane claim says where the end is
SEEKABLE_TAILS = {"matroska", "webm", "mpegts", "mxf", "avi"}  # seek by their index or a bounded binary search


class PacketScan(BaseModel):
    """Video packets read from the start of the file (no decode), and where audio and video really start and end."""

    pts: list[int] = Field(default_factory=list, description="video packet pts, in stream time base")
    keyframes: list[int] = Field(default_factory=list)
    timestamps_backwards: bool = False
    complete: bool = True  # the demuxer reached the end of the file within the budget
    demux_error: str | None = None
    video_start: float | None = None  # seconds
    video_end: float | None = None  # seconds: last pts + its duration
    media_start: float | None = None  # over audio and video streams
    media_end: float | None = None


class MeasuredExtent(BaseModel):
    """How much audio/video the file really holds, read from packets or the sample index; never from a header."""

    video_seconds: float
    media_seconds: float | None = None  # audio and video together; None when only video was measured
    frames: int | None = None
    method: str

    @property
    def seconds(self) -> float:
        return self.media_seconds if self.media_seconds is not None else self.video_seconds


def _av_streams(container: av.container.InputContainer) -> list:
    return [s for s in container.streams if s.type in ("video", "audio")
            and not (s.disposition & av.stream.Disposition.attached_pic)]


class _Ends:
    """Earliest start and latest end of packets, per kind, in seconds."""

    def __init__(self) -> None:
        self.start: dict[str, float] = {}
        self.end: dict[str, float] = {}

    def add(self, kind: str, packet: av.Packet, fallback_ticks: int = 0) -> None:
        tb = packet.time_base
        ts = packet.pts if packet.pts is not None else packet.dts
        if ts is None or not tb:
            return
        start = float(ts * tb)
        end = float((ts + (packet.duration or fallback_ticks)) * tb)
        for key in (kind, "media"):
            self.start[key] = min(self.start.get(key, start), start)
            self.end[key] = max(self.end.get(key, end), end)


def scan_packets(container: av.container.InputContainer, video: av.VideoStream,
                 max_packets: int = HEAD_PACKETS) -> PacketScan:
    """Read packets of every audio/video stream from where the container stands (the start), no decode."""
    scan = PacketScan()
    ends = _Ends()
    last_dts = None
    total = 0
    try:
        for packet in container.demux(_av_streams(container)):
            if packet.size == 0:
                continue
            total += 1
            if packet.stream.index != video.index:
                ends.add("audio", packet)
                if total >= max_packets * PACKETS_PER_VIDEO_PACKET:
                    scan.complete = False
                    break
                continue
            ends.add("video", packet)
            if packet.dts is not None:
                if last_dts is not None and packet.dts < last_dts:
                    scan.timestamps_backwards = True
                last_dts = packet.dts
            if packet.pts is not None:
                scan.pts.append(packet.pts)
                if packet.is_keyframe:
                    scan.keyframes.append(packet.pts)
            if len(scan.pts) >= max_packets:
                scan.complete = False
                break
    except av.error.FFmpegError as exc:  # damaged data: what was read so far is what there is
        scan.demux_error = str(exc)
    scan.video_start, scan.video_end = ends.start.get("video"), ends.end.get("video")
    scan.media_start, scan.media_end = ends.start.get("media"), ends.end.get("media")
    if scan.video_end is not None and len(scan.pts) > 1:  # a packet without duration (MPEG-TS) lasts one step
        ordered = sorted(scan.pts)
        steps = sorted(b - a for a, b in zip(ordered, ordered[1:]) if b > a)
        if steps and video.time_base:
            typical = float(steps[len(steps) // 2] * video.time_base)
            last = float(ordered[-1] * video.time_base)
            scan.video_end = max(scan.video_end, last + typical)
            scan.media_end = max(scan.media_end or scan.video_end, scan.video_end)
    return scan


def measure_extent(container: av.container.InputContainer, video: av.VideoStream, head: PacketScan,
                   path: Path, claimed: float | None) -> MeasuredExtent | None:
    """What the file really holds. A head scan that reached the end says it exactly; for a longer clip the
    sample index (MP4/MOV: which samples lie inside the file) or a seek near the end and a bounded read
    to the end of file says where the media stops. None when nothing cheap can tell (the claim stands)."""
    if head.complete:
        video_seconds = 0.0 if head.video_start is None else head.video_end - head.video_start
        media = None if head.media_end is None else head.media_end - (head.media_start or 0.0)
        return MeasuredExtent(video_seconds=video_seconds, media_seconds=media, frames=len(head.pts),
                              method="all packets read")
    try:
        size = path.stat().st_size
    except OSError:
        return None
    kind = container.format.name.split(",")[0]
    if kind == "mov":
        return _extent_from_index(container, video, head, size)
    if kind in SEEKABLE_TAILS and has_seek_index(path, _short(kind, path)) is not False:
        return _extent_from_tail(container, video, head, claimed)
    return None


def _short(kind: str, path: Path) -> str:
    return "webm" if kind == "matroska" and path.suffix.lower() == ".webm" else kind


def _present_end(stream, size: int) -> tuple[int, float] | None:
    """(samples inside the file, end seconds) from a complete MP4/MOV sample index: a binary search on
    byte positions (a track's samples are stored in order), so a 2-hour clip costs ~20 lookups."""
    entries = stream.index_entries
    count = len(entries)
    if not count or not stream.time_base or (stream.frames and count < stream.frames):
        return None  # fragmented MP4: the index grows while reading, it does not say what is missing
    lo, hi = 0, count  # entries[:lo] are inside the file, entries[hi:] are not
    while lo < hi:
        mid = (lo + hi) // 2
        entry = entries[mid]
        if entry.pos + entry.size <= size:
            lo = mid + 1
        else:
            hi = mid
    if lo == 0:
        return 0, 0.0
    last = entries[lo - 1]
    step = (entries[lo - 1].timestamp - entries[lo - 2].timestamp) if lo > 1 else 0
    first = entries[0].timestamp
    return lo, float((last.timestamp + max(step, 0) - first) * stream.time_base)


def _extent_from_index(container, video, head: PacketScan, size: int) -> MeasuredExtent | None:
    found = _present_end(video, size)
    if found is None:
        return None
    frames, video_seconds = found
    others = [_present_end(s, size) for s in _av_streams(container) if s.index != video.index]
    media = max([video_seconds, *(o[1] for o in others if o is not None)])
    return MeasuredExtent(video_seconds=video_seconds, media_seconds=media, frames=frames,
                          method="sample index against the file size")


def _extent_from_tail(container, video, head: PacketScan, claimed: float | None) -> MeasuredExtent | None:
    """Seek to the claimed end (or far beyond it when there is no claim) and read to the end of file."""
    target = claimed if claimed and 0 < claimed < FAR_FUTURE_SECONDS else FAR_FUTURE_SECONDS
    try:
        container.seek(int(target / video.time_base), stream=video, backward=True, any_frame=False)
        tail = scan_packets(container, video, TAIL_PACKETS)
    except (av.error.FFmpegError, OverflowError, ZeroDivisionError):
        return None
    if not tail.complete or tail.video_end is None or head.video_start is None:
        return None
    start = head.media_start if head.media_start is not None else head.video_start
    return MeasuredExtent(video_seconds=tail.video_end - head.video_start,
                          media_seconds=(tail.media_end or tail.video_end) - start,
                          method="seek near the end, packets read to end of file")


def trusted_duration(claimed: float | None, measured: MeasuredExtent | None) -> tuple[float | None, str | None]:
    """Measured over claimed: (duration to believe, a message naming both figures when they disagree).

    No claim (or a zero one) is no disagreement: the measured figure is simply used.

    Small gaps (priming, edit lists, the last frame's length) are not disagreements: 0.5 s or 2 %, unless the
    claim is off by more than half (a one-frame clip claiming 1.2 ms for its 40 ms).
    """
    if measured is None:
        return claimed, None
    present = round(measured.seconds, 6)
    if claimed is None or claimed <= 0:  # absent (a muxer writing to a pipe) or zeroed: nothing to contradict
        return present, None
    close = abs(claimed - present) <= max(0.5, 0.02 * present)
    if close and (present <= 0 or 0.5 <= claimed / present <= 2):  # a 1-frame DV claiming 1.2 ms is not close
        return claimed, None
    verdict = "truncated?" if claimed > present else "duration field too short"
    return present, f"claims {_seconds(claimed)}, {measured.video_seconds:.1f} s of video present: {verdict}"


# Below this many bits per second of claimed duration a file cannot hold that much video: a few-KB header
# fragment claiming 94 s (ExifTool's ASF sample) would otherwise match `--min-duration 60`.
MIN_PLAUSIBLE_BITS_PER_SECOND = 4_000


def plausible_claim(claimed: float | None, size_bytes: int) -> tuple[float | None, str | None]:
    """A claimed duration nothing could measure, kept only if the file is big enough to hold it."""
    if not claimed or claimed <= 0 or size_bytes * 8 / claimed >= MIN_PLAUSIBLE_BITS_PER_SECOND:
        return claimed, None
    return None, (f"claims {_seconds(claimed)} in {size_bytes:,} bytes, too few for that much video; "
                  "no duration recorded")


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 1e6 else f"{value:.4g} s ({value / 3600:,.0f} hours)"


def measured_duration(path: Path) -> tuple[float | None, str | None]:
    """The duration to believe for a file and the disagreement found, if any (see trusted_duration)."""
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError, ValueError):
        return None, None
    with container:
        video = next((s for s in container.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)), None)
        if video is None:
            return None, None
        claimed = claimed_duration(container, video)
        head = scan_packets(container, video)
        return trusted_duration(claimed, measure_extent(container, video, head, path, claimed))


def first_frame_pts(path: Path) -> float:
    """Decode the first video frame and return its presentation time: proves the stream decodes."""
    pts, reason = first_decodable_frame(path)
    if pts is None:
        raise ValueError(f"{path}: {reason}")
    return pts


DECODE_CHECK_PACKETS = 240  # 8 s at 30 fps: past the first keyframe of any sane stream
DECODE_CHECK_BYTES = 48 * 1024 * 1024  # a few intra frames of 8K RAW-like codecs


def decode_check(path: Path) -> str | None:
    """None when a video frame decodes here; else why the clip can only be cataloged by its metadata.

    'metadata-only: no decoder for <codec>' (RED, BRAW, an unknown fourcc) or 'metadata-only: no decodable
    video frame' (a fragment, a stream of garbage), or mediainfo_fallback's reason for a file libavformat cannot
    open in which MediaInfo reads a video. Bounded: gives up after DECODE_CHECK_PACKETS packets or
    DECODE_CHECK_BYTES bytes. Raises ValueError when the container does not open and MediaInfo sees no video.
    """
    return first_decodable_frame(path)[1]


def first_decodable_frame(path: Path) -> tuple[float | None, str | None]:
    """(pts of the first decoded video frame, None) or (None, the metadata-only reason). A file libavformat
    cannot open in which MediaInfo reads a video (a cut-off header, camera raw) is metadata-only too."""
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        fallback = mediainfo_fallback(path)
        if fallback is not None:
            return None, fallback.metadata_only
        raise ValueError(f"{path}: cannot open ({exc})") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: cannot open ({exc})") from exc
    with container:
        stream = next((s for s in container.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)), None)
        if stream is None:
            raise ValueError(f"{path}: no video stream to decode")
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
