"""Segments as answers (spec 7.1.7): segment-level search (each hit one segment: a transcript line, a scene, what
the offline analyzer saw), what is said and shown around a moment of a clip, and segments like a segment.

The pieces are the clip search's: the same filters (filter_sql over clip_facts), the same embedder and cut-off,
the same strength scale and weak-tail rule (search/evidence.py), the same full-text configuration; only the unit
ranked is the segment instead of the clip, so the SQL is store/segments.py's.
"""

from __future__ import annotations

import re
from typing import Any

from catalog_resources.embeddings.service import EmbeddingService
from catalog_resources.errors import UsageError
from catalog_resources.models.clips import ClipFilter
from catalog_resources.models.search import SegmentHit
from catalog_resources.search import evidence
from catalog_resources.search.filters import filter_sql
from catalog_resources.search.ranking import RRF_K, calibration
from catalog_resources.store.catalog import CatalogQueries

SEGMENT_TYPES = ("scene_change", "transcript", "visual", "speaker_change", "manual")  # manual: `segments add`
_TIME = re.compile(r"^(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d*)?)$")


def parse_time(text: str, option: str) -> float:
    """Seconds from `00:05:30`, `5:30`, `330` or `330.5` (HH:MM:SS, MM:SS or seconds; fractions allowed)."""
    found = _TIME.match(text.strip())
    if not found:
        raise UsageError(f"{option} {text!r}: expected a time like 00:05:30, 5:30 or 330 (seconds)")
    hours, minutes, seconds = found.groups()
    if minutes is None and hours is not None:  # two parts: MM:SS
        hours, minutes = None, hours
    if (minutes is not None and hours is not None and int(minutes) >= 60) or (
            (minutes is not None or hours is not None) and float(seconds) >= 60):
        raise UsageError(f"{option} {text!r}: minutes and seconds go up to 59")
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds)


def check_types(types: list[str]) -> list[str] | None:
    bad = [t for t in types if t not in SEGMENT_TYPES]
    if bad:
        raise UsageError(f"--type {bad[0]!r}: choose one of {', '.join(SEGMENT_TYPES)}")
    return types or None


def check_range(start: float | None, end: float | None, low: str = "--start", high: str = "--end") -> None:
    if start is not None and end is not None and end < start:
        raise UsageError(f"{high} is before {low}: give a range that ends after it starts")


def _hit(row: dict[str, Any], **extra: Any) -> SegmentHit:
    fields = ("segment_id", "clip_id", "path", "file_name", "segment_type", "start_seconds", "end_seconds",
              "duration_seconds", "text", "keyframe_path")
    return SegmentHit(**{k: row[k] for k in fields}, **extra)


def segment_search(store: CatalogQueries, embedder: EmbeddingService | None, query: str,
                   filters: ClipFilter | None = None, *, types: list[str] | None = None, mode: str = "hybrid",
                   limit: int = 10) -> list[SegmentHit]:
    """Segments by meaning (their own vectors, above the model's cut-off) and by their own words, fused by
    reciprocal rank as clip search fuses its lists; strength from the same evidence scale."""
    where, params = filter_sql(filters)
    subject = evidence.search_subject(query)
    lists: dict[str, list[dict[str, Any]]] = {}
    if mode in ("hybrid", "semantic") and embedder is not None:
        vector, dimension = embedder.embed_query(subject)
        lists["semantic"] = store.semantic_segment_matches(vector, embedder.model, dimension, where, params, limit * 3,
                                                           min_similarity=embedder.cutoff, types=types)
    if mode in ("hybrid", "text"):
        lists["text"] = store.text_segment_matches(subject, where, params, limit * 3, types)
    fused: dict[int, float] = {}
    found: dict[int, dict[str, dict[str, Any]]] = {}
    for name, matches in lists.items():
        for rank, row in enumerate(matches, start=1):
            fused[row["segment_id"]] = fused.get(row["segment_id"], 0.0) + 1.0 / (RRF_K + rank)
            found.setdefault(row["segment_id"], {})[name] = row
    words, scale = evidence.content_words(subject), calibration(embedder)
    hits = []
    for segment_id in sorted(fused, key=lambda s: (-fused[s], s))[:limit]:
        by = found[segment_id]
        row = by.get("text") or by["semantic"]
        similarity = float(by["semantic"]["similarity"]) if "semantic" in by else None
        matched = [w for w in words if re.search(rf"\b{re.escape(w)}\b", (row["text"] or "").lower())]
        semantic = scale.strength(similarity) if similarity is not None and scale else 0.0
        worded = evidence.text_strength("text" in by, True, len(matched) / len(words) if words else 0.0)
        hits.append(_hit(row, score=round(fused[segment_id], 5), strength=evidence.combine(semantic, worded),
                         similarity=round(similarity, 4) if similarity is not None else None, matched_words=matched,
                         matched_by=sorted(by), snippet=by["text"]["snippet"] if "text" in by else None))
    keep = evidence.drop_weak_tail([h.strength or 0 for h in hits])
    return [hit for hit, kept in zip(hits, keep) if kept]


def similar_segments(store: CatalogQueries, embedder: EmbeddingService, segment_id: int, limit: int = 10,
                     filters: ClipFilter | None = None, types: list[str] | None = None) -> list[SegmentHit]:
    """Segments of other clips nearest to this segment's vector, nearest first (no cut-off, like `similar`)."""
    source = store.segment_row(segment_id)
    if source is None:
        raise UsageError(f"no segment {segment_id}; see `video-catalog segments CLIP` for a clip's segment ids")
    vector, dimension = store.segment_vector(segment_id, embedder.model)
    if vector is None:
        raise UsageError(f"segment {segment_id} ({source['segment_type']}) has no {embedder.model} vector: only "
                         "segments with words are embedded (transcript lines, described scenes); run "
                         "`video-catalog refresh --missing embeddings` if it has words")
    where, params = filter_sql(filters)
    rows = store.semantic_segment_matches(vector, embedder.model, dimension, where, params, limit, types=types,
                                          exclude_clip=source["clip_id"])
    return [_hit(r, score=round(float(r["similarity"]), 4), similarity=round(float(r["similarity"]), 4),
                 matched_by=["semantic"]) for r in rows]


def moment(store: CatalogQueries, clip_id: str, at: float, context: float) -> dict[str, Any]:
    """What a clip says and shows from `at - context` to `at + context`: its transcript lines, scenes and what they
    show, sound events and on-screen text that overlap the window, in time order."""
    if context < 0:
        raise UsageError("--context-seconds must be 0 or more")
    start, end = max(0.0, at - context), at + context
    segments = store.segment_rows(clip_id, start=start, end=end)
    items = [{"kind": evidence.segment_source(s["segment_type"], s["text"]), "segment_id": s["segment_id"],
              "segment_type": s["segment_type"], "start_seconds": s["start_seconds"], "end_seconds": s["end_seconds"],
              "text": s["text"]} for s in segments if s["text"] or s["segment_type"] == "scene_change"]
    items += [{"kind": e["kind"], "segment_id": None, "segment_type": None, "start_seconds": e["start_seconds"],
               "end_seconds": e["end_seconds"], "text": e["text"]} for e in store.timed_events(clip_id, start, end)]
    items.sort(key=lambda i: (i["start_seconds"], i["end_seconds"]))
    return {"clip_id": clip_id, "at_seconds": at, "context_seconds": context, "start_seconds": start,
            "end_seconds": end, "items": items}
