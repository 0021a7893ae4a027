"""What the offline visual analysis sees in a scene: labels and their general terms, people, light, camera motion.

A VisualSegment is one scene (a `scene_change` segment) described from its frames; its `text` is the line the
search indexes (full text, segment embedding, tags with source = visual).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

PeopleBucket = Literal["no people", "one person", "a few people", "a crowd"]
LightLevel = Literal["day", "night", "low light"]
ColourTemperature = Literal["warm", "neutral", "cool"]
MotionKind = Literal[
    "static", "pan left", "pan right", "tilt up", "tilt down", "zoom in", "zoom out", "handheld",
]


class VisualLabel(BaseModel):
    """One ImageNet-1k class seen in the frames, with the general terms its WordNet hypernyms roll up to."""

    name: str = Field(description="The class's first WordNet lemma, e.g. 'golden retriever'.")
    wnid: str = Field(description="WordNet 3.0 noun id, n + 8-digit offset.")
    confidence: float = Field(ge=0, le=1, description="Mean softmax probability over the frames.")
    terms: list[str] = Field(default_factory=list, description="General terms, nearest first: ['dog', 'animal'].")


class GeneralTerm(BaseModel):
    """A general term (dog, coast, vehicle...) with the summed probability of every class under it."""

    term: str
    confidence: float = Field(ge=0, le=1)


class People(BaseModel):
    faces: int = Field(ge=0, description="Faces in a typical frame of the scene (upper quartile over frames).")
    bucket: PeopleBucket


class Light(BaseModel):
    level: LightLevel
    brightness: float = Field(ge=0, le=1, description="Mean luma (BT.709, display-referred), 0-1.")
    temperature: ColourTemperature
    kelvin: int = Field(description="Correlated colour temperature of the grey-world average (McCamy), clamped 1500-15000.")
    colours: list[str] = Field(default_factory=list, description="Named colours covering a large share of the frame, most first.")


class MotionSpan(BaseModel):
    """A stretch of one camera motion, in source presentation seconds."""

    start_seconds: float
    end_seconds: float
    kinds: list[MotionKind] = Field(description="E.g. ['pan right'], ['zoom in', 'handheld'], ['static'].")
    pan_per_second: float = Field(description="Horizontal image motion, frame widths per second; + = camera turns right.")
    tilt_per_second: float = Field(description="Vertical image motion, frame heights per second; + = camera tilts up.")
    zoom_per_second: float = Field(description="log2 scale change per second; + = zoom in.")
    shake: float = Field(ge=0, description="Jitter of the frame-to-frame motion, frame widths (RMS).")


class VisualFrame(BaseModel):
    """One analysed frame: what the scene summary is made from."""

    pts_seconds: float
    labels: list[VisualLabel] = Field(default_factory=list)
    faces: int = 0
    light: Light | None = None


class VisualSegment(BaseModel):
    start_seconds: float
    end_seconds: float
    scene_index: int | None = Field(default=None, description="The scene_change segment it describes, when wired.")
    keyframe_path: str | None = Field(default=None, description="The scene's keyframe (smallest thumbnail size).")
    labels: list[VisualLabel] = Field(default_factory=list, description="Top classes, best first.")
    terms: list[GeneralTerm] = Field(default_factory=list, description="General terms, best first.")
    people: People
    light: Light | None = None
    motion: list[MotionSpan] = Field(default_factory=list)
    frames: list[VisualFrame] = Field(default_factory=list)
    text: str = Field(default="", description="What search indexes: 'dog, beach, coast; one person; day, warm; static'.")
    seconds: float = Field(default=0.0, description="Wall time the analysis took.")
    look: list[float] | None = Field(
        default=None, description="The scene's look for look-alike search: the classifier's pooled features, mean over "
        "the labelled frames, L2-normalised (1280 values); stored in scene_looks, not in the details JSON.")
