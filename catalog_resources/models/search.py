"""Embeddings and search results at the boundaries: what the embeddings asset stores, what search returns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class EmbeddedText(BaseModel):
    scope: Literal["full_clip", "segment"]
    segment_id: int | None = None
    text: str
    token_count: int
    vector: list[float]


class EmbeddingSet(BaseModel):
    """One clip's vectors for one model: the full-clip text and one per searchable segment."""

    clip_id: str
    model: str
    dimension: int
    items: list[EmbeddedText] = Field(default_factory=list)
    seconds: float = 0.0


class MatchReason(BaseModel):
    """One piece of evidence for a hit: where it is (transcript, scene, on-screen text, visual, tag, description,
    words), its text and time range, the query words it holds, and its cosine similarity when it is a vector."""

    source: str
    text: str | None = None
    start_seconds: float | None = None
    end_seconds: float | None = None
    words: list[str] = Field(default_factory=list)
    similarity: float | None = None


class SearchHit(BaseModel):
    clip_id: str
    path: str
    file_name: str
    score: float = Field(description="Fused (hybrid) or single-mode relevance; higher is better. Orders the hits; "
                                     "not a percentage (see strength).")
    strength: int | None = Field(default=None, description="Match strength 0-100 %, from the best similarity through "
                                 "the model's calibration and the query words found (search/evidence.py).")
    similarity: float | None = Field(default=None, description="Best cosine similarity of the clip or a segment.")
    matched_words: list[str] = Field(default_factory=list, description="Query words found in the clip's text.")
    why: str | None = Field(default=None, description="The first reason in one line, as the table shows it.")
    reasons: list[MatchReason] = Field(default_factory=list)
    matched_by: list[str] = Field(default_factory=list, description="semantic, text, look")
    start_seconds: float | None = None
    end_seconds: float | None = None
    query_start_seconds: float | None = Field(default=None, description="`similar --by look`: the time range of the "
                                              "asked-about clip's scene that looks like this hit's.")
    query_end_seconds: float | None = None
    snippet: str | None = None
    thumbnail_path: str | None = None
    duration_seconds: float | None = None
    video_codec: str | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    shot_type: str | None = None
    quality_score: float | None = None


class SegmentHit(BaseModel):
    """One segment as an answer (`search --segment-level`, `similar --segment-id`): where it is, what it holds, and
    how strongly it matched."""

    segment_id: int
    clip_id: str
    path: str
    file_name: str
    segment_type: str
    start_seconds: float
    end_seconds: float
    duration_seconds: float
    text: str | None = None
    snippet: str | None = Field(default=None, description="The text with the query's words [marked], when words matched.")
    keyframe_path: str | None = None
    score: float = Field(description="Fused (hybrid) or single-mode relevance; orders the hits.")
    strength: int | None = Field(default=None, description="Match strength 0-100 %, as for clip hits.")
    similarity: float | None = None
    matched_words: list[str] = Field(default_factory=list)
    matched_by: list[str] = Field(default_factory=list)
