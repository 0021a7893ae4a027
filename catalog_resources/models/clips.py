"""Pydantic models spoken at the boundaries: what scanning finds and what each asset produces."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, Field

FileKind = Literal["video", "not_video", "unreadable"]


class ProbeResult(BaseModel):
    """A container probe: is this a video, and the few facts the listing needs before full metadata."""

    is_video: bool
    corrupt: bool = False  # a video container's header with unreadable contents
    reason: str | None = None
    container: str | None = None
    duration_seconds: float | None = None
    video_codec: str | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    has_audio: bool = False
    metadata_only: str | None = None  # a video ffmpeg cannot open, known from MediaInfo: why it is metadata-only


class ScannedFile(BaseModel):
    path: str
    size_bytes: int
    mtime_ns: int
    kind: FileKind
    fingerprint: str | None = None
    reason: str | None = None
    metadata_only: str | None = Field(
        default=None, description="A video whose frames do not decode here: why ('metadata-only: no decoder for X').")
    cached: bool = Field(default=False, description="True when size and mtime matched the cache: nothing was read.")


class ScanSkip(BaseModel):
    """A path the scan did not read as a file, and why: every one is named in the ingest summary, none is
    dropped in silence. `outcome` is the summary bucket: `not_video` when there is nothing to catalog there
    (a FIFO, socket or device inside a folder; a folder symlink leading back to one already scanned),
    `failed` when footage may be there and a fix plus a re-run would catalog it (unreadable folder or file,
    dangling symlink, a path named on the command line that cannot be scanned)."""

    path: str
    outcome: Literal["not_video", "failed"]
    reason: str


class ScanReport(BaseModel):
    files: list[ScannedFile] = Field(default_factory=list)
    missing_roots: list[str] = Field(default_factory=list)
    settling: list[str] = Field(default_factory=list, description="Files modified within the settle period.")
    skipped: list[ScanSkip] = Field(
        default_factory=list, description="Special files, broken links, loops, unreadable folders: with reasons.")
    probed: int = 0
    seconds: float = 0.0


class SourcePath(BaseModel):
    path: str
    size_bytes: int
    mtime: datetime
    md5: str | None = None
    first_seen: datetime
    last_seen: datetime
    online: bool = True


class FingerprintCollision(BaseModel):
    path: str
    md5: str
    reason: str


class ClipFacts(BaseModel):
    """What every per-clip row says about the original: identity, size, checksum, container facts."""

    clip_id: str
    file_name: str
    path: str
    size_bytes: int
    md5: str
    container: str | None = None
    duration_seconds: float | None = None
    video_codec: str | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None


class ClipSource(ClipFacts):
    """The verified original: full checksums, the container facts, and every path it was seen at."""

    fast_hash: str
    fingerprint: str
    has_audio: bool = False
    first_frame_pts: float | None = None
    metadata_only: str | None = Field(
        default=None, description="Why no frame decodes here (cataloged by its metadata only); None when frames decode.")
    duration_note: str | None = Field(
        default=None, description="The headers' duration disagreed with the packets: both figures (the measured one is kept).")
    sources: list[SourcePath] = Field(default_factory=list)
    collisions: list[FingerprintCollision] = Field(default_factory=list)
    hash_seconds: float = 0.0


class CatalogRecord(ClipFacts):
    """The clip's denormalized search row."""

    paths: list[str] = Field(default_factory=list)
    status: str
    camera: str | None = None
    hdr_format: str | None = None
    recorded_at: datetime | None = None
    shot_type: str | None = None
    quality_score: float | None = None
    summary: str | None = None
    keywords: list[str] = Field(default_factory=list)
    poster_path: str | None = None
    document: str = ""


class IngestItem(BaseModel):
    path: str
    clip_id: str | None = None
    reason: str | None = None


class IngestSummary(BaseModel):
    """What an ingest did, in the keys scripts read from `ingest --json`."""

    new: list[IngestItem] = Field(default_factory=list)
    existing: list[IngestItem] = Field(default_factory=list)
    duplicates: list[IngestItem] = Field(default_factory=list)
    moved: list[IngestItem] = Field(default_factory=list)
    resumed: list[IngestItem] = Field(
        default_factory=list, description="Known clips an earlier run left incomplete (killed, failed); finished now.")
    in_progress: list[IngestItem] = Field(
        default_factory=list, description="Clips another running ingest has in flight: left to it.")
    not_video: list[IngestItem] = Field(default_factory=list)
    failed: list[IngestItem] = Field(default_factory=list)
    analysis_estimate: dict[str, float] | None = Field(
        default=None, description="Cloud analyzer only: clips, footage seconds, tokens, usd estimated before the runs.")
    analysis_usage: dict[str, float] | None = Field(
        default=None, description="Cloud analyzer only: prompt/output tokens, requests and estimated USD actually used.")


RESOLUTIONS: dict[str, tuple[int, int | None]] = {
    # class -> (min, max) of the picture's short side, so vertical phone video counts the same
    "sd": (0, 719), "720p": (720, 1079), "1080p": (1080, 1439), "1440p": (1440, 2159), "4k": (2160, 4319),
    "8k": (4320, None),
}
ShotType = Literal["extreme close-up", "close-up", "medium", "wide", "no people"]
SHOT_TYPES: tuple[str, ...] = get_args(ShotType)
SORT_KEYS = ("cataloged", "name", "duration", "size", "recorded", "resolution", "fps", "quality")


class ClipFilter(BaseModel):
    """The filters of `list` and `search` (AND-ed, applied in SQL). Each field's SQL, option, query syntax and
    checks are declared once in catalog_resources/search/filters.py, which has one entry per field."""

    codec: str | None = None
    resolution: Literal["sd", "720p", "1080p", "1440p", "4k", "8k"] | None = None
    min_height: int | None = None
    fps: float | None = None
    min_fps: float | None = None
    camera: str | None = None
    hdr: bool | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    after: datetime | None = None
    before: datetime | None = None
    min_quality: float | None = None
    exposure_warning: bool | None = None
    shot_type: ShotType | None = None
    tag: str | None = None
    collection: str | None = None
    person: str | None = None
    speaker: str | None = None
    owner: str | None = None
