"""Faces and people at the boundaries: what the `faces` asset makes per clip, what `people` commands show.

Face data is personal data: the catalog stores it only while the `faces` step is on (VIDEO_CATALOG_FACES),
and `people forget` removes a person's tracks, vectors and face crops.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class FaceSighting(BaseModel):
    """One face on one decoded frame (a thumbnail), in fractions of the frame."""

    pts_seconds: float
    x: float
    y: float
    width: float
    height: float
    confidence: float


class FaceTrack(BaseModel):
    """One person within one clip: the frames they are seen on, when, and one 128-d face vector (the mean of
    the embedded sightings, unit length)."""

    track_index: int
    start_seconds: float
    end_seconds: float
    ranges: list[tuple[float, float]] = Field(default_factory=list, description="On-screen time ranges (s).")
    sightings: list[FaceSighting] = Field(default_factory=list)
    embedded: int = Field(default=0, description="Sightings embedded (the rest joined by position).")
    embedding: list[float] = Field(default_factory=list)
    crop_path: str | None = Field(default=None, description="A face thumbnail (JPEG) of the track's best sighting.")

    @property
    def screen_seconds(self) -> float:
        return sum(b - a for a, b in self.ranges)


class FaceSet(BaseModel):
    """One clip's faces: its tracks, or nothing when the step is turned off (VIDEO_CATALOG_FACES=0)."""

    clip_id: str
    enabled: bool = True
    model: str = ""
    frames_read: int = 0
    frames_probed: int = Field(default=0, description="Frames decoded and looked at around face track edges.")
    frames_decoded: int = Field(default=0, description="Frames the decoder went through to reach those.")
    faces_found: int = Field(default=0, description="Confident faces on the thumbnails and probed frames.")
    tracks: list[FaceTrack] = Field(default_factory=list)
    seconds: float = 0.0


class PersonSummary(BaseModel):
    """One person across the catalog, as `people list` and `people show` print it."""

    person_id: int
    name: str | None = None
    clips: int = 0
    tracks: int = 0
    screen_seconds: float = 0.0
    crop_path: str | None = None
    voice_tracks: int = Field(default=0, description="Clips' speakers with this person's voice (sql/013).")
    speech_seconds: float = 0.0


class PersonAppearance(BaseModel):
    """One track of a person: which clip, when, and the face thumbnail."""

    track_id: int
    clip_id: str
    file_name: str | None = None
    path: str | None = None
    start_seconds: float
    end_seconds: float
    ranges: list[tuple[float, float]] = Field(default_factory=list)
    distance: float | None = Field(default=None, description="From the person's centroid (dlib: same person < 0.6).")
    crop_path: str | None = None
