"""What is really in a file, against what its headers claim: packet timestamps (no decode), the MP4 sample
index against the file size, or a seek near the end; and the rule for which figure to believe.

Works on a container the caller opened (media.pyav.open_container): it never opens a file itself.
"""

from __future__ import annotations

from pathlib import Path

import av
from pydantic import BaseModel, Field

from catalog_resources.media.signature import has_seek_index, short_container

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
    if kind in SEEKABLE_TAILS and has_seek_index(path, short_container(kind, path)) is not False:
        return _extent_from_tail(container, video, head, claimed)
    return None


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
