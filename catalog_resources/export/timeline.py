"""Subclips as an OpenTimelineIO timeline, and that timeline as an EDL, an FCPXML or an .otio file.

Times are frames of each clip's own rate. A clip with a timecode track starts at that timecode (its media's
available range begins there, so an editor relinks the subclip to the right frames of the camera original);
without one it starts at 0. NTSC rates are the exact 24000/1001, 30000/1001, 60000/1001, and a timecode
written with `;` is drop-frame, as OTIO reads it. The formats are written by OpenTimelineIO's adapters; where
one of them is wrong for a case the catalog meets (see `_ExactRateFcpx`), the fix is here and says so.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Literal

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange
from pydantic import BaseModel, Field

from catalog_resources.errors import UsageError

Format = Literal["edl", "fcpxml", "otio"]
FORMATS: tuple[Format, ...] = ("edl", "fcpxml", "otio")
ADAPTERS = {"edl": "cmx_3600", "fcpxml": "fcpx_xml", "otio": "otio_json"}
EXTENSIONS = {"edl": ".edl", "fcpxml": ".fcpxml", "otio": ".otio"}
DEFAULT_RATE = 25.0  # a clip whose frame rate is unknown (metadata-only footage) is laid out at 25
_TIMECODE = re.compile(r"^\d{1,2}:\d{2}:\d{2}[:;.]\d{2,3}$")
_EPSILON = 1e-6  # a time a hair past a frame boundary (float seconds) still starts on that frame


class Mark(BaseModel):
    """A labelled range of a clip (a manual segment, `segments add`), written as a marker on the subclip."""

    name: str
    start_seconds: float
    end_seconds: float
    note: str | None = None
    segment_id: int | None = None


class Subclip(BaseModel):
    """One clip's time range to export: the whole clip when start/end are None. Its marks become markers where
    they overlap what is exported."""

    clip_id: str
    name: str
    path: str
    frame_rate: float | None = None
    duration_seconds: float | None = None
    frame_count: int | None = None
    timecode: str | None = None
    reel: str | None = None
    start_seconds: float | None = None
    end_seconds: float | None = None
    note: str | None = None
    marks: list[Mark] = Field(default_factory=list)


class SubclipFrames(BaseModel):
    """Where a subclip lands, in frames of its clip's rate: what the tests compare a read-back export with."""

    rate: float
    origin: int  # the clip's first frame as a frame count at `rate` (its start timecode; 0 without one)
    drop_frame: bool
    total: int  # frames in the clip
    first: int  # first frame of the subclip, handles included, from the clip's start
    count: int


def clip_rate(frame_rate: float | None) -> float:
    """The rate to count a clip's frames at: the nearest SMPTE rate when the measured one is within 3 % of it
    (29.97 is 30000/1001; a phone's variable rate averaging 29.6 is edited as 29.97), else the measured rate."""
    if not frame_rate or frame_rate <= 0:
        return DEFAULT_RATE
    smpte = RationalTime.nearest_smpte_timecode_rate(frame_rate)
    return smpte if abs(smpte - frame_rate) <= 0.03 * frame_rate else frame_rate


def is_drop_frame(timecode: str | None, rate: float) -> bool:
    """Drop-frame at 29.97 and 59.94 when the timecode says so (`;`), or when there is no timecode to say."""
    ntsc = any(abs(rate - r) < 0.01 for r in (30000 / 1001, 60000 / 1001))
    if not ntsc:
        return False
    return timecode is None or not _TIMECODE.match(timecode) or ";" in timecode or "." in timecode


def timecode_origin(timecode: str | None, rate: float) -> int:
    """The clip's start timecode as a frame count at its rate; 0 without a (readable) timecode."""
    if not timecode or not _TIMECODE.match(timecode.strip()) or not RationalTime.is_valid_timecode_rate(rate):
        return 0
    try:
        return int(round(RationalTime.from_timecode(timecode.strip().replace(".", ";"), rate).value))
    except ValueError:  # 25:61:00:00 and friends: a tag that is not a timecode
        return 0


def subclip_frames(sub: Subclip, handles_seconds: float = 0.0) -> SubclipFrames:
    """The subclip's frames: its time range widened by the handles on both sides, clamped to the clip."""
    rate = clip_rate(sub.frame_rate)
    if sub.frame_count:
        total = sub.frame_count
    else:
        total = max(1, int(round((sub.duration_seconds or 0.0) * rate)))
    handle = int(round(max(handles_seconds, 0.0) * rate))
    if sub.start_seconds is None or sub.end_seconds is None:
        first, last = 0, total
    else:
        first = max(0, math.floor(sub.start_seconds * rate + _EPSILON) - handle)
        last = min(total, math.ceil(sub.end_seconds * rate - _EPSILON) + handle)
        first = min(first, total - 1)
        last = max(last, first + 1)
    return SubclipFrames(rate=rate, origin=timecode_origin(sub.timecode, rate),
                         drop_frame=is_drop_frame(sub.timecode, rate), total=total, first=first, count=last - first)


def _markers(sub: Subclip, frames: SubclipFrames) -> list[otio.schema.Marker]:
    """The subclip's marks as markers in its media's time (source timecode + frame), each cut to the frames the
    subclip holds; a mark wholly outside them is left out. An EDL writes a marker as a `* LOC:` line at its first
    frame, FCPXML as a `<marker>` with its start and duration, OTIO as it is. Blue: in FCPXML red and green make
    to-do markers, blue a plain one."""
    markers = []
    for mark in sub.marks:
        first = max(math.floor(mark.start_seconds * frames.rate + _EPSILON), frames.first)
        last = min(math.ceil(mark.end_seconds * frames.rate - _EPSILON), frames.first + frames.count)
        if last <= first:
            continue
        markers.append(otio.schema.Marker(
            name=mark.name, color=otio.schema.MarkerColor.BLUE,
            marked_range=TimeRange(RationalTime(frames.origin + first, frames.rate),
                                   RationalTime(last - first, frames.rate)),
            metadata={"video_catalog": mark.model_dump()}))
    return markers


def _otio_clip(sub: Subclip, frames: SubclipFrames) -> otio.schema.Clip:
    rate = frames.rate
    reference = otio.schema.ExternalReference(
        target_url=Path(sub.path).as_uri(),
        available_range=TimeRange(RationalTime(frames.origin, rate), RationalTime(frames.total, rate)),
    )
    metadata = {"video_catalog": {"clip_id": sub.clip_id, "path": sub.path, "start_seconds": sub.start_seconds,
                                  "end_seconds": sub.end_seconds, "note": sub.note, "timecode": sub.timecode,
                                  "drop_frame": frames.drop_frame}}
    if sub.reel:
        metadata["cmx_3600"] = {"reel": sub.reel}
    return otio.schema.Clip(
        name=sub.name, media_reference=reference, metadata=metadata, markers=_markers(sub, frames),
        source_range=TimeRange(RationalTime(frames.origin + frames.first, rate), RationalTime(frames.count, rate)),
    )


def build_timeline(name: str, subclips: list[Subclip], handles_seconds: float = 0.0) -> otio.schema.Timeline:
    """One video track of the subclips end to end, at the first clip's rate."""
    if not subclips:
        raise UsageError("nothing to export: no clips were selected")
    timeline = otio.schema.Timeline(name=name)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    for sub in subclips:
        track.append(_otio_clip(sub, subclip_frames(sub, handles_seconds)))
    first_rate = clip_rate(subclips[0].frame_rate)
    timeline.global_start_time = RationalTime(0, first_rate)
    return timeline


def _frame_duration(rate: float) -> str:
    """One frame as an FCPXML rational time: 1001/30000s at 29.97, 1/25s at 25."""
    exact = 1 / Fraction(rate).limit_denominator(1001)
    return f"{exact.numerator}/{exact.denominator}s"


def _fcpx_writer():
    from otio_fcpx_xml_adapter.fcpx_xml import FcpxOtio  # the adapter's writer class (not a documented API)

    class _ExactRateFcpx(FcpxOtio):
        """The adapter's writer looks frame durations up in a table keyed by int(rate) or 23.98/29.97/59.94, so
        23.976023976 and 29.97002997 (the real NTSC rates) got an empty frameDuration that Final Cut rejects
        (OpenTimelineIO issue #903). The exact fraction of the rate instead; everything else is the adapter's."""

        @staticmethod
        def _framerate_to_frame_duration(framerate):
            return _frame_duration(framerate)

    return _ExactRateFcpx


def _edl(timeline: otio.schema.Timeline) -> str:
    """CMX 3600 holds one frame rate; a mix is refused rather than written with some clips at the wrong rate.
    The adapter writes no FCM line (its own TODO), so the drop-frame mode is added under the title."""
    clips = list(timeline.find_clips())
    rates = sorted({round(c.source_range.duration.rate, 3) for c in clips})
    if len(rates) > 1:
        raise UsageError(f"an EDL holds one frame rate, these clips have {', '.join(f'{r:g}' for r in rates)} fps; "
                         "export fcpxml or otio, or one rate at a time (add --fps to the search)")
    rate = clips[0].source_range.duration.rate
    if not RationalTime.is_valid_timecode_rate(rate):
        raise UsageError(f"an EDL counts timecode, and {rate:g} fps is no timecode rate; export fcpxml or otio")
    text = otio.adapters.write_to_string(timeline, "cmx_3600", rate=rate)
    drop = ";" in RationalTime(0, rate).to_timecode(rate)
    fcm = "FCM: DROP FRAME" if drop else "FCM: NON-DROP FRAME"
    lines = text.split("\n")
    at = 1 if lines and lines[0].startswith("TITLE:") else 0
    return "\n".join([*lines[:at], fcm, *lines[at:]])


def render(timeline: otio.schema.Timeline, fmt: Format) -> str:
    """The timeline in one of the formats, as text."""
    if fmt == "edl":
        return _edl(timeline)
    if fmt == "fcpxml":
        return _fcpx_writer()(timeline).to_xml()
    if fmt == "otio":
        return otio.adapters.write_to_string(timeline, "otio_json")
    raise UsageError(f"unknown export format {fmt!r}: choose {', '.join(FORMATS)}")
