"""The one analysis schema every analyzer fills: the spec's ComprehensiveAIAnalysis (section 6.1.1).

Every section records which backend produced it (`source`), every timed item carries start/end seconds,
and a field a backend cannot measure stays empty: nothing is invented to fill it. The cloud analyzers
fill the same models from a JSON answer, so the descriptions below are also what the prompt's schema says.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ANALYSIS_SCHEMA_VERSION = 1  # bump when a field changes meaning; part of ai_analysis' code version


class Sourced(BaseModel):
    source: str | None = Field(default=None, description="Backend and model that produced this section.")


class TimedText(BaseModel):
    start_seconds: float
    end_seconds: float
    text: str


class TranscriptWord(BaseModel):
    start_seconds: float
    end_seconds: float
    word: str
    probability: float | None = None


class TranscriptSegment(TimedText):
    speaker: str | None = None
    confidence: float | None = Field(default=None, description="Mean token log-probability mapped to 0-1.")
    words: list[TranscriptWord] = Field(default_factory=list)


class Transcript(Sourced):
    language: str | None = None
    language_probability: float | None = None
    language_trusted: bool = Field(default=True, description="False when detection was too unsure to rely on.")
    full_text: str = ""
    segments: list[TranscriptSegment] = Field(default_factory=list)


class Speaker(BaseModel):
    speaker_id: str
    speaking_seconds: float
    description: str | None = None


class SpeakerAnalysis(Sourced):
    speaker_count: int | None = None
    speakers: list[Speaker] = Field(default_factory=list)


class SoundEvent(BaseModel):
    start_seconds: float
    end_seconds: float
    label: str
    category: str = Field(description="speech, music, applause, crowd, laughter, silence, vehicle, animal, nature, other")
    confidence: float | None = None


class AudioQuality(Sourced):
    clarity: str | None = None
    issues: list[str] = Field(default_factory=list)


class AudioAnalysis(Sourced):
    transcript: Transcript | None = None
    speaker_analysis: SpeakerAnalysis | None = None
    sound_events: list[SoundEvent] = Field(default_factory=list)
    audio_quality: AudioQuality | None = None


class ShotTypeSpan(BaseModel):
    start_seconds: float
    end_seconds: float
    shot_type: str = Field(description="extreme close-up, close-up, medium, wide, no people")
    description: str | None = None
    confidence: float | None = None


class TechnicalQuality(Sourced):
    overall_score: float | None = Field(default=None, description="0-100")
    usability: Literal["excellent", "good", "fair", "poor"] | None = None
    issues: list[str] = Field(default_factory=list)


class ScreenText(BaseModel):
    start_seconds: float
    end_seconds: float
    text: str
    kind: Literal["text", "graphic", "logo"] = "text"
    confidence: float | None = None


class TextAndGraphics(Sourced):
    items: list[ScreenText] = Field(default_factory=list)


class KeyframeRecommendation(BaseModel):
    seconds: float
    reason: str
    thumbnail_path: str | None = None


class VisualAnalysis(Sourced):
    shot_types: list[ShotTypeSpan] = Field(default_factory=list)
    technical_quality: TechnicalQuality | None = None
    text_and_graphics: TextAndGraphics | None = None
    keyframe_recommendations: list[KeyframeRecommendation] = Field(default_factory=list)
    focal_length_category: Literal["wide", "normal", "telephoto"] | None = None
    face_counts: list[int] = Field(default_factory=list, description="Faces per analysed frame, in frame order.")


class Entities(Sourced):
    # Named entities; the local text mining (analysis/local/text_mining.py) fills this too, de-duplicated.
    # A comment, not a docstring: a docstring is part of the JSON schema, which ai_analysis' code version hashes.
    people: list[str] = Field(default_factory=list)
    organizations: list[str] = Field(default_factory=list)
    locations: list[str] = Field(default_factory=list)


class Activity(BaseModel):
    start_seconds: float
    end_seconds: float
    activity: str
    importance: Literal["high", "medium", "low"] | None = None


class ContentWarning(BaseModel):
    category: str
    description: str
    start_seconds: float | None = None
    end_seconds: float | None = None


class ContentAnalysis(Sourced):
    entities: Entities | None = None
    activity_summary: list[Activity] = Field(default_factory=list)
    content_warnings: list[ContentWarning] = Field(default_factory=list)


class AnalysisSummary(Sourced):
    overall: str | None = Field(default=None, description="3-5 sentences on what the clip shows and says.")
    extractive: bool = Field(default=False, description="True when the summary is picked sentences, not written.")
    keywords: list[str] = Field(default_factory=list, description="5-10 topical tags.")
    scene_classification: list[str] = Field(default_factory=list, description="indoor/outdoor, quiet/noisy, music...")
    sentiment: str | None = None


class ComprehensiveAIAnalysis(BaseModel):
    """Complete analysis of one clip, whichever backend produced it."""

    clip_id: str
    backend: str
    model: str
    code_version: str
    summary: AnalysisSummary | None = None
    visual_analysis: VisualAnalysis | None = None
    audio_analysis: AudioAnalysis | None = None
    content_analysis: ContentAnalysis | None = None
    analysis_file_path: str | None = None
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds spent per part.")
    usage: dict[str, float] = Field(default_factory=dict, description="Cloud tokens, requests and estimated USD.")
    notes: list[str] = Field(default_factory=list, description="What could not be measured, and why.")

    @property
    def transcript(self) -> Transcript | None:
        return self.audio_analysis.transcript if self.audio_analysis else None

    @property
    def on_screen_text(self) -> list[str]:
        items = self.visual_analysis.text_and_graphics.items if self.visual_analysis and self.visual_analysis.text_and_graphics else []
        return [item.text for item in items]
