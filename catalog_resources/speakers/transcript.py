"""Transcript lines with their speaker: the voice that speaks most of each line's time.

The label is the person's name once they are named (`people name`), else the clip's own S1, S2... A line no
voice turn overlaps keeps what the analyzer said (a cloud model's own speaker label) or none. One function for
`show`, `transcript` (text, SRT, WebVTT, JSON) and the web clip page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from catalog_resources.models.analysis import Transcript


def _overlap(a: float, b: float, turns: Iterable[Sequence[float]]) -> float:
    return sum(max(0.0, min(b, e) - max(a, s)) for s, e in turns)


def speaker_of(start: float, end: float, voices: Sequence[Mapping[str, Any]]) -> str | None:
    """The name (or S-label) of the voice with the most time inside [start, end]; None when none overlaps."""
    best, label = 0.0, None
    for voice in voices:
        shared = _overlap(start, max(end, start + 0.01), voice["turns"])
        if shared > best:
            best, label = shared, voice.get("name") or voice["label"]
    return label


def label_segments(segments: Iterable[dict[str, Any]], voices: Sequence[Mapping[str, Any]]) -> None:
    """Sets `speaker` on transcript segment dicts (start_seconds, end_seconds) that a voice turn overlaps."""
    for segment in segments:
        found = speaker_of(segment["start_seconds"], segment["end_seconds"], voices) if voices else None
        if found:
            segment["speaker"] = found


def label_transcript(transcript: Transcript, voices: Sequence[Mapping[str, Any]]) -> Transcript:
    """A copy of the transcript whose lines carry their speaker."""
    if not voices:
        return transcript
    lines = [line.model_dump() for line in transcript.segments]
    label_segments(lines, voices)
    return transcript.model_copy(update={"segments": [type(s).model_validate(d) for s, d in zip(transcript.segments, lines, strict=True)]})
