"""Models of the binary products made from a clip (files under <home>/media/<clip id>/)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from catalog_resources.models.visual import VisualSegment


class ProxySettings(BaseModel):
    """The spec's compression defaults for the proxy the AI analyzers watch."""

    fps: float = Field(default=5.0, gt=0)
    max_dimension: int = Field(default=1280, ge=64)
    crf: int = Field(default=23, ge=0, le=51)
    preset: str = Field(default="superfast", description="libx264 preset: the proxy is for viewing and AI at 5 fps.")
    max_bitrate: str = Field(default="1000k", pattern=r"^\d+(\.\d+)?[kKmM]?$")
    audio_bitrate: str = Field(default="128k", pattern=r"^\d+[kK]$")
    analysis_width: int = Field(default=64, ge=16, le=320, description="Gray analysis frames, at source rate.")


class DerivedMedia(BaseModel):
    """What one decode pass made: proxy, speech audio, analysis stream."""

    clip_id: str
    proxy_path: str
    proxy_width: int
    proxy_height: int
    proxy_fps: float
    proxy_codec: str
    proxy_bytes: int
    encoder: str
    audio_path: str | None = None  # 16 kHz mono WAV for speech models; None when the clip has no audio
    audio_sample_rate: int | None = None
    analysis_path: str
    analysis_width: int
    analysis_height: int
    analysis_frames: int
    analysis_time_offset: float = Field(
        default=0.0, description="ffmpeg starts outputs at 0: add this to an analysis frame's time to get its source PTS."
    )
    tone_mapped: bool = False
    settings: ProxySettings
    seconds: float
    speed: float | None = Field(default=None, description="Seconds of footage per second of work.")


class Thumbnail(BaseModel):
    index: int
    pts_seconds: float
    frame_number: int | None = None
    paths: dict[str, str] = Field(default_factory=dict, description="size label (e.g. '320') -> file")
    width: int  # of the largest size written
    height: int
    score: float
    sharpness: float
    entropy: float
    brightness: float
    is_poster: bool = False


class ThumbnailSet(BaseModel):
    clip_id: str
    thumbnails: list[Thumbnail] = Field(default_factory=list)
    poster_path: str | None = None
    contact_sheet_path: str | None = None
    contact_sheet_size: tuple[int, int] | None = None
    candidates: int = 0
    frames_decoded: int = 0
    rejected: dict[str, int] = Field(default_factory=dict, description="reason -> candidate count")
    tone_mapped: bool = False
    seconds: float = 0.0


class Face(BaseModel):
    """One face, in fractions of the frame so sizes compare across resolutions."""

    x: float
    y: float
    width: float
    height: float
    confidence: float


class FrameStats(BaseModel):
    pts_seconds: float
    overexposed_percent: float
    underexposed_percent: float
    mean_luma: float
    sharpness: float
    noise: float
    blockiness: float
    edge_density: float
    entropy: float
    quality: float
    faces: list[Face] = Field(default_factory=list)
    shot_type: str | None = None


class SceneSegment(BaseModel):
    index: int
    start_seconds: float
    end_seconds: float
    keyframe_path: str | None = None


class FrameAnalysis(BaseModel):
    """Exposure, quality, complexity and scene cuts of one clip; every time is a PTS in seconds."""

    clip_id: str
    frames: list[FrameStats] = Field(default_factory=list)
    overexposed_percent: float | None = None
    underexposed_percent: float | None = None
    histogram: dict[str, float] = Field(default_factory=dict, description="p5 / p50 / p95 / mean luma, 0-255")
    exposure_warning: bool = False
    exposure_stops: float | None = Field(default=None, description="Only when clearly off: + under, - over exposed.")
    blur_score: float | None = None
    is_blurry: bool = False
    noise_score: float | None = None
    blockiness: float | None = None
    quality_score: float | None = None
    quality_parts: dict[str, float] = Field(default_factory=dict)
    edge_density: float | None = None
    entropy: float | None = None
    shot_type: str | None = Field(default=None, description="Dominant framing from face size; see face_detector.")
    focal_length_category: str | None = None
    scene_cuts: list[float] = Field(default_factory=list)
    segments: list[SceneSegment] = Field(default_factory=list)
    visual: list[VisualSegment] = Field(
        default_factory=list, description="What each scene shows (offline classifier, faces, light, camera motion).")
    look_model: str | None = Field(default=None, description="The image model of the scenes' look vectors.")
    analysis_frames: int = 0
    seconds: float = 0.0
