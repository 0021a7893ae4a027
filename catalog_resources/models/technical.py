"""The technical metadata model: what the three probes agree a clip is. None means truly absent."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ValidationIssue(BaseModel):
    code: Literal[
        "unreadable", "no_video_stream", "decode_error", "duration_mismatch", "timestamps_backwards",
        "silent_audio", "zero_length_audio", "unsupported_codec", "missing_index",
        "truncated",  # the headers claim more than the file holds (measured duration replaces the claim)
        "duration_claim",  # the headers claim no duration, or less than the file holds
    ]
    severity: Literal["error", "warning"]
    message: str


class AudioTrack(BaseModel):
    index: int
    codec: str | None = None
    channels: int | None = None
    channel_layout: str | None = None
    sample_rate: int | None = None
    bit_depth: int | None = None
    bitrate: int | None = None
    language: str | None = None
    duration_seconds: float | None = None
    title: str | None = None
    is_default: bool = False


class SubtitleTrack(BaseModel):
    index: int
    codec: str | None = None
    language: str | None = None
    title: str | None = None
    embedded: bool = True
    is_default: bool = False
    is_forced: bool = False


class MasteringDisplay(BaseModel):
    primaries: str | None = None  # e.g. "Display P3", "BT.2020"
    min_luminance: float | None = None  # cd/m²
    max_luminance: float | None = None


class TechnicalMetadata(BaseModel):
    clip_id: str
    # file
    file_name: str
    extension: str
    size_bytes: int
    container_format: str | None = None  # mp4, mov, matroska, webm, mpegts, avi, mxf, ...
    container_brand: str | None = None
    compatible_brands: list[str] = Field(default_factory=list)
    file_modified_at: datetime | None = None
    recorded_at: datetime | None = None
    timecode: str | None = None
    reel_name: str | None = None
    # where it came from
    source_workflow: str | None = None
    source_workflow_evidence: list[str] = Field(default_factory=list)
    encoder: str | None = None
    # video
    video_codec: str | None = None
    video_codec_long: str | None = None
    video_profile: str | None = None
    video_level: str | None = None
    bit_depth: int | None = None
    chroma_subsampling: str | None = None
    pixel_format: str | None = None
    scan_type: Literal["progressive", "interlaced"] | None = None
    field_order: Literal["tff", "bff"] | None = None
    width: int | None = None
    height: int | None = None
    display_width: int | None = None
    display_height: int | None = None
    sample_aspect_ratio: str | None = None
    display_aspect_ratio: str | None = None
    rotation: int = 0
    frame_rate: float | None = None
    avg_frame_rate: float | None = None
    is_vfr: bool | None = None
    frame_count: int | None = None
    duration_seconds: float | None = None
    start_time_seconds: float | None = None
    bitrate: int | None = None
    video_bitrate: int | None = None
    bits_per_pixel: float | None = None
    keyframe_interval_seconds: float | None = None
    # colour and HDR
    color_primaries: str | None = None
    transfer_characteristics: str | None = None
    matrix_coefficients: str | None = None
    color_range: Literal["tv", "pc"] | None = None
    hdr_format: str | None = None  # HDR10, HDR10+, HLG, Dolby Vision
    dolby_vision_profile: str | None = None
    mastering_display: MasteringDisplay | None = None
    max_cll: int | None = None
    max_fall: int | None = None
    # tracks
    audio_tracks: list[AudioTrack] = Field(default_factory=list)
    subtitle_tracks: list[SubtitleTrack] = Field(default_factory=list)
    # camera
    camera_make: str | None = None
    camera_model: str | None = None
    camera_serial: str | None = None
    lens: str | None = None
    focal_length_mm: float | None = None
    focal_length_35mm: float | None = None
    iso: int | None = None
    shutter_speed: str | None = None
    aperture: float | None = None
    white_balance: str | None = None
    gps_latitude: float | None = None
    gps_longitude: float | None = None
    gps_altitude: float | None = None
    software: str | None = None
    # how it was measured
    validation_issues: list[ValidationIssue] = Field(default_factory=list)
    sources: dict[str, str] = Field(default_factory=dict, description="field -> which tool decided, and conflicts")
    probe_ms: dict[str, float] = Field(default_factory=dict)

    @property
    def is_hdr(self) -> bool:
        return self.hdr_format is not None

    @property
    def camera(self) -> str | None:
        parts = [p for p in (self.camera_make, self.camera_model) if p]
        return " ".join(parts) or None
