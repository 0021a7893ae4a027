"""Transcript exports (SRT, WebVTT, JSON) and the one timecode format the catalog prints."""

from __future__ import annotations

import json

from catalog_resources.models.analysis import Transcript


def timecode(seconds: float, *, millis_sep: str | None = None, tenths: bool = False) -> str:
    """00:01:23 for display (00:01:23.4 with tenths); 00:01:23,400 (SRT) or 00:01:23.400 (VTT) when a
    millisecond separator is given."""
    total_ms = max(0, round(seconds * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    if millis_sep:
        return f"{text}{millis_sep}{ms:03d}"
    return f"{text}.{ms // 100}" if tenths else text


def to_srt(transcript: Transcript) -> str:
    blocks = []
    for i, seg in enumerate(transcript.segments, start=1):
        speaker = f"{seg.speaker}: " if seg.speaker else ""
        blocks.append(f"{i}\n{timecode(seg.start_seconds, millis_sep=',')} --> "
                      f"{timecode(seg.end_seconds, millis_sep=',')}\n{speaker}{seg.text}\n")
    return "\n".join(blocks)


def to_vtt(transcript: Transcript) -> str:
    cues = ["WEBVTT", ""]
    for seg in transcript.segments:
        voice = f"<v {seg.speaker}>" if seg.speaker else ""
        cues += [f"{timecode(seg.start_seconds, millis_sep='.')} --> {timecode(seg.end_seconds, millis_sep='.')}",
                 f"{voice}{seg.text}", ""]
    return "\n".join(cues)


def to_json(transcript: Transcript, clip_id: str) -> str:
    return json.dumps({"clip_id": clip_id, **transcript.model_dump(mode="json")}, indent=2, ensure_ascii=False)
