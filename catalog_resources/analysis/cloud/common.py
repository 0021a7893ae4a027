"""What the cloud analyzers share: the request they get, the answer they return, their errors, the
answer schema they ask for, and turning a model's JSON into the catalog's analysis model.

The answer schema is the analysis schema minus the fields the catalog fills itself (clip id, backend,
code version, timings, per-section sources), so a model is never asked to invent them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from catalog_resources.errors import AnalysisError, SetupError, UsageError
from catalog_resources.models import analysis as am


class AnalyzerError(AnalysisError, RuntimeError):
    """An analysis backend failed; the message names the clip or file and the fix."""


class MissingKeyError(SetupError, AnalyzerError):
    """No API key (or model) configured: raised before any work starts."""


class MalformedAnswerError(AnalyzerError):
    """The model answered, but not with JSON that fits the schema; `raw` is what it said."""

    def __init__(self, message: str, raw: str) -> None:
        super().__init__(message)
        self.raw = raw


class BlockedAnswerError(AnalyzerError):
    """The service refused to answer (safety filter); `reason` is its stated reason."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class CostLimitExceeded(UsageError, RuntimeError):
    """The estimated cloud analysis cost of a batch is above --max-cost; nothing was run."""


class Usage(BaseModel):
    prompt_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0
    estimated_cost_usd: float = 0.0

    def add(self, other: Usage) -> Usage:
        return Usage(prompt_tokens=self.prompt_tokens + other.prompt_tokens,
                     output_tokens=self.output_tokens + other.output_tokens,
                     requests=self.requests + other.requests,
                     estimated_cost_usd=round(self.estimated_cost_usd + other.estimated_cost_usd, 6))


class CloudRequest(BaseModel):
    """One clip's analysis request, as a cloud backend gets it."""

    clip_id: str
    prompt: str = Field(description="The rendered prompt template.")
    proxy_path: str | None = Field(default=None, description="The small H.264 proxy (Gemini sends the video).")
    duration: float | None = None
    frames: list[tuple[float, str]] = Field(default_factory=list, description="(seconds, image) keyframes, in time order.")
    transcript: str | None = Field(default=None, description="Local transcript with timestamps, for image-only backends.")
    technical_context: str = ""


class CloudAnswer(BaseModel):
    """A parsed answer plus what it cost."""

    answer: dict[str, Any]
    raw: str
    model: str
    usage: Usage = Field(default_factory=Usage)


# -- the schema a model is asked to fill ---------------------------------------------------------------

class AnswerSummary(BaseModel):
    overall: str | None = Field(default=None, description="3-5 sentences on what the clip shows and what is said.")
    keywords: list[str] = Field(default_factory=list, description="5-10 topical tags, lower case.")
    scene_classification: list[str] = Field(default_factory=list, description="indoor/outdoor, day/night, quiet/noisy...")
    sentiment: str | None = None


class AnswerTranscript(BaseModel):
    language: str | None = Field(default=None, description="ISO 639-1 code")
    segments: list[am.TranscriptSegment] = Field(default_factory=list)


class AnswerAudio(BaseModel):
    transcript: AnswerTranscript | None = None
    sound_events: list[am.SoundEvent] = Field(default_factory=list)
    speakers: list[am.Speaker] = Field(default_factory=list)
    audio_quality: str | None = Field(default=None, description="clear, muffled, noisy, clipped...")


class AnswerVisual(BaseModel):
    shot_types: list[am.ShotTypeSpan] = Field(default_factory=list)
    focal_length_category: str | None = Field(default=None, description="wide, normal or telephoto")
    technical_quality: str | None = Field(default=None, description="excellent, good, fair or poor, with issues")
    text_and_graphics: list[am.ScreenText] = Field(default_factory=list)
    keyframe_recommendations: list[am.KeyframeRecommendation] = Field(default_factory=list)


class AnswerContent(BaseModel):
    people: list[str] = Field(default_factory=list)
    organizations: list[str] = Field(default_factory=list)
    locations: list[str] = Field(default_factory=list)
    activity_summary: list[am.Activity] = Field(default_factory=list)
    content_warnings: list[am.ContentWarning] = Field(default_factory=list)


class AnalysisAnswer(BaseModel):
    """The JSON a cloud model returns; every time is seconds from the clip's start."""

    summary: AnswerSummary = Field(default_factory=AnswerSummary)
    audio_analysis: AnswerAudio = Field(default_factory=AnswerAudio)
    visual_analysis: AnswerVisual = Field(default_factory=AnswerVisual)
    content_analysis: AnswerContent = Field(default_factory=AnswerContent)


def one_line(text: Any, limit: int | None = None) -> str:
    """A server's message on one line (an error line names it), cut to `limit` characters if given."""
    flat = " ".join(str(text).split())
    return flat if limit is None or len(flat) <= limit else flat[: limit - 1] + "…"


def answer_schema() -> dict[str, Any]:
    """JSON schema of AnalysisAnswer with $refs inlined: what structured-output APIs accept most widely."""
    schema = AnalysisAnswer.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].split("/")[-1]])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(schema)


_CLOCK = re.compile(r"^\s*(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)\s*$")


def to_seconds(value: Any) -> Any:
    """MM:SS, HH:MM:SS, "12.5s" or "12.5" to seconds; anything else unchanged (validation names it)."""
    if isinstance(value, str):
        text = value.strip().rstrip("s").strip()
        match = _CLOCK.match(text)
        if match:
            hours, minutes, seconds = match.groups()
            return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
        try:
            return float(text)
        except ValueError:
            return value
    return value


def normalise_times(node: Any, offset: float = 0.0) -> Any:
    """Every `*_seconds` / `seconds` value to float seconds, shifted by `offset` (for windowed analysis)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if (key.endswith("_seconds") or key == "seconds") and value is not None:
                converted = to_seconds(value)
                out[key] = converted + offset if isinstance(converted, (int, float)) else converted
            else:
                out[key] = normalise_times(value, offset)
        return out
    if isinstance(node, list):
        return [normalise_times(v, offset) for v in node]
    return node


def parse_answer(raw: str, clip_id: str) -> dict[str, Any]:
    """The model's text as a dict that validates as AnalysisAnswer (times normalised), else MalformedAnswerError."""
    text = raw.strip()
    fenced = re.match(r"^```(?:json)?\s*(.*?)\s*```$", text, re.S)  # JSON-mode servers sometimes fence it
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedAnswerError(f"clip {clip_id}: the analyzer's answer is not JSON ({exc.msg} at char {exc.pos})", raw) from exc
    if not isinstance(data, dict):
        raise MalformedAnswerError(f"clip {clip_id}: the analyzer's answer is JSON but not an object", raw)
    data = normalise_times(data)
    try:
        AnalysisAnswer.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MalformedAnswerError(f"clip {clip_id}: the analyzer's answer does not fit the schema at {where}: {first['msg']}", raw) from exc
    return data


def merge_windows(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Answers for consecutive windows of one clip (times already shifted) merged into one answer."""
    answers = [AnalysisAnswer.model_validate(p) for p in parts]
    if len(answers) == 1:
        return parts[0]
    merged = AnalysisAnswer()
    overall = [a.summary.overall for a in answers if a.summary.overall]
    merged.summary.overall = " ".join(overall) or None
    merged.summary.sentiment = next((a.summary.sentiment for a in answers if a.summary.sentiment), None)
    for field in ("keywords", "scene_classification"):
        setattr(merged.summary, field, list(dict.fromkeys(v for a in answers for v in getattr(a.summary, field))))
    segments = [s for a in answers if a.audio_analysis.transcript for s in a.audio_analysis.transcript.segments]
    language = next((a.audio_analysis.transcript.language for a in answers if a.audio_analysis.transcript), None)
    merged.audio_analysis.transcript = AnswerTranscript(language=language, segments=segments) if segments or language else None
    for section, fields in (("audio_analysis", ("sound_events", "speakers")),
                            ("visual_analysis", ("shot_types", "text_and_graphics", "keyframe_recommendations")),
                            ("content_analysis", ("activity_summary", "content_warnings"))):
        for field in fields:
            setattr(getattr(merged, section), field, [v for a in answers for v in getattr(getattr(a, section), field)])
    for field in ("people", "organizations", "locations"):
        setattr(merged.content_analysis, field,
                list(dict.fromkeys(v for a in answers for v in getattr(a.content_analysis, field))))
    merged.visual_analysis.focal_length_category = next(
        (a.visual_analysis.focal_length_category for a in answers if a.visual_analysis.focal_length_category), None)
    merged.visual_analysis.technical_quality = next(
        (a.visual_analysis.technical_quality for a in answers if a.visual_analysis.technical_quality), None)
    return merged.model_dump(mode="json")


def to_analysis(answer: dict[str, Any], *, clip_id: str, backend: str, model: str, code_version: str) -> am.ComprehensiveAIAnalysis:
    """A validated answer as the catalog's analysis model, each section marked with its source."""
    a = AnalysisAnswer.model_validate(answer)
    source = f"{backend}/{model}"
    transcript = None
    if a.audio_analysis.transcript is not None:
        segs = a.audio_analysis.transcript.segments
        transcript = am.Transcript(source=source, language=a.audio_analysis.transcript.language,
                                   full_text=" ".join(s.text.strip() for s in segs), segments=segs)
    speakers = a.audio_analysis.speakers
    focal = a.visual_analysis.focal_length_category
    return am.ComprehensiveAIAnalysis(
        clip_id=clip_id, backend=backend, model=model, code_version=code_version,
        summary=am.AnalysisSummary(source=source, **a.summary.model_dump()),
        audio_analysis=am.AudioAnalysis(
            source=source, transcript=transcript, sound_events=a.audio_analysis.sound_events,
            speaker_analysis=am.SpeakerAnalysis(source=source, speaker_count=len(speakers), speakers=speakers) if speakers else None,
            audio_quality=am.AudioQuality(source=source, clarity=a.audio_analysis.audio_quality) if a.audio_analysis.audio_quality else None,
        ),
        visual_analysis=am.VisualAnalysis(
            source=source, shot_types=a.visual_analysis.shot_types,
            focal_length_category=focal if focal in ("wide", "normal", "telephoto") else None,
            technical_quality=am.TechnicalQuality(source=source, issues=[a.visual_analysis.technical_quality])
            if a.visual_analysis.technical_quality else None,
            text_and_graphics=am.TextAndGraphics(source=source, items=a.visual_analysis.text_and_graphics),
            keyframe_recommendations=a.visual_analysis.keyframe_recommendations,
        ),
        content_analysis=am.ContentAnalysis(
            source=source,
            entities=am.Entities(source=source, people=a.content_analysis.people,
                                 organizations=a.content_analysis.organizations, locations=a.content_analysis.locations),
            activity_summary=a.content_analysis.activity_summary, content_warnings=a.content_analysis.content_warnings,
        ),
    )


def save_raw_answer(media_dir: Path, clip_id: str, raw: str) -> Path:
    """The answer that failed validation, next to the clip's other products, for inspection."""
    path = Path(media_dir) / clip_id / "ai_analysis.raw.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(raw, encoding="utf-8")
    return path
