"""Speakers at the boundaries: what the `speakers` asset makes per clip.

A voice is personal data like a face: the catalog stores voice vectors only while the speakers step is on
(VIDEO_CATALOG_SPEAKERS), and `people forget` removes a person's voice tracks with their faces.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class SpeakerTurn(BaseModel):
    """One stretch of one speaker's speech, in seconds of the clip (PTS)."""

    speaker_index: int
    start_seconds: float
    end_seconds: float

    @property
    def label(self) -> str:
        return f"S{self.speaker_index + 1}"


class VoiceTrack(BaseModel):
    """One speaker within one clip: their turns and one 256-d voice vector (the mean of their windows, unit
    length), which the catalog uses to find the same voice in other clips."""

    speaker_index: int
    turns: list[tuple[float, float]] = Field(default_factory=list)
    speech_seconds: float = 0.0
    windows: int = Field(default=0, description="1.6 s windows the vector is the mean of.")
    embedding: list[float] = Field(default_factory=list)

    @property
    def label(self) -> str:
        return f"S{self.speaker_index + 1}"


class SpeakerSet(BaseModel):
    """One clip's speakers, or nothing when the step is off (VIDEO_CATALOG_SPEAKERS=0) or nobody speaks."""

    clip_id: str
    enabled: bool = True
    model: str = ""
    speech_seconds: float = Field(default=0.0, description="Speech the VAD heard.")
    windows: int = 0
    turns: list[SpeakerTurn] = Field(default_factory=list)
    tracks: list[VoiceTrack] = Field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0
