"""Hybrid search: semantic (clip and segment vectors) and full-text (the catalog_record document) ranked
lists fused by reciprocal rank fusion, with the technical filters applied in SQL.

A clip is returned only when it passes the semantic cut-off or matches the words, so an unrelated
query answers "no good matches" instead of the whole catalog ranked. The fused number orders the hits; what a
person reads is each hit's strength (0-100 %) and its reasons, made from the evidence (search/evidence.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from catalog_resources.store.catalog import CatalogQueries
from catalog_resources.embeddings.service import SURE_SIMILARITY, EmbeddingService
from catalog_resources.models.clips import ClipFilter
from catalog_resources.models.search import MatchReason, SearchHit
from catalog_resources.search import evidence
from catalog_resources.search.filters import filter_sql

Mode = Literal["hybrid", "semantic", "text"]
RRF_K = 60  # the usual constant: rank 1 scores 1/61, rank 10 1/70; robust to the two lists' score scales


class SearchResult(BaseModel):
    query: str
    mode: Mode
    model: str | None = None
    cutoff: float | None = None
    hits: list[SearchHit] = Field(default_factory=list)


class _Match(BaseModel):
    clip_id: str
    rank: int
    score: float
    start_seconds: float | None = None
    end_seconds: float | None = None
    snippet: str | None = None
    thumbnail_path: str | None = None
    segment_type: str | None = None


def semantic_ranking(store: CatalogQueries, embedder: EmbeddingService, query: str, where: str, params: dict,
                     limit: int) -> list[_Match]:
    vector, dimension = embedder.embed_query(query)
    rows = store.semantic_matches(vector, embedder.model, dimension, where, params, limit,
                                  min_similarity=embedder.cutoff)
    best: dict[str, _Match] = {}
    for row in rows:  # one row per clip, nearest first: its best full-clip or segment match
        segment = row["scope"] == "segment"
        best[row["clip_id"]] = _Match(
            clip_id=row["clip_id"], rank=len(best) + 1, score=round(float(row["similarity"]), 4),
            start_seconds=row["start_seconds"] if segment else None, end_seconds=row["end_seconds"] if segment else None,
            snippet=row["segment_text"] if segment else None, thumbnail_path=row["keyframe_path"] if segment else None,
            segment_type=row.get("segment_type") if segment else None,
        )
    return list(best.values())[:limit]


def text_ranking(store: CatalogQueries, query: str, where: str, params: dict, limit: int) -> list[_Match]:
    rows = store.text_matches(query, where, params, limit)
    segments: dict[str, dict] = {}
    for seg in store.segment_text_matches(query, [r["clip_id"] for r in rows]):
        segments.setdefault(seg["clip_id"], seg)  # best-ranked segment of each clip
    matches = []
    for rank, row in enumerate(rows, start=1):
        seg = segments.get(row["clip_id"])
        matches.append(_Match(
            clip_id=row["clip_id"], rank=rank, score=round(float(row["rank"]), 4),
            start_seconds=seg["start_seconds"] if seg else None, end_seconds=seg["end_seconds"] if seg else None,
            snippet=(seg["snippet"] if seg else row["snippet"]), thumbnail_path=seg["keyframe_path"] if seg else None,
            segment_type=seg.get("segment_type") if seg else None,
        ))
    return matches


def calibration(embedder: EmbeddingService | None) -> evidence.Calibration | None:
    """The embedder's cut-off (50 %) and its measured "sure" similarity (100 %)."""
    if embedder is None:
        return None
    cutoff = embedder.cutoff
    return evidence.Calibration(cutoff=cutoff, sure=max(SURE_SIMILARITY.get(embedder.model, cutoff + 0.1), cutoff + 0.01))


def explain(by: dict[str, _Match], found: dict | None, words: list[str], scale: evidence.Calibration | None,
            summary: str | None = None) -> tuple[int, list[MatchReason], list[str]]:
    """(strength %, reasons strongest first, query words found) of one hit, from its matches in each list."""
    found = found or {"words": [], "tags": []}
    matched = list(found["words"])
    sem, txt = by.get("semantic"), by.get("text")
    semantic = scale.strength(sem.score) if sem and scale else 0.0
    coverage = len(matched) / len(words) if words else 0.0
    worded = evidence.text_strength(txt is not None, bool(txt and txt.start_seconds is not None), coverage)
    reasons: list[MatchReason] = []
    same_line = bool(sem and txt and sem.start_seconds is not None
                     and (sem.start_seconds, sem.end_seconds) == (txt.start_seconds, txt.end_seconds))
    if sem is not None:  # a segment's own text, or for the whole clip its summary
        timed = sem.start_seconds is not None
        source = evidence.segment_source(sem.segment_type, sem.snippet) if timed else "description"
        text = (txt.snippet if same_line else sem.snippet) if timed else (summary or "the clip's description as a whole")
        reasons.append(evidence.reason(source, text, sem.start_seconds, sem.end_seconds,
                                       matched if same_line else [w for w in matched if w in (text or "").lower()],
                                       sem.score))
    if txt is not None and not same_line:  # the same line found by meaning and by words is one reason
        source = evidence.segment_source(txt.segment_type, txt.snippet) if txt.start_seconds is not None else "catalog text"
        reasons.insert(0 if worded > semantic else len(reasons),
                       evidence.reason(source, txt.snippet, txt.start_seconds, txt.end_seconds, matched))
    for name, origin in found["tags"]:
        tagged = [w for w in words if w in name.lower().split()]
        reasons.append(evidence.reason("tag" if origin == "user" else f"{origin} tag", name, words=tagged))
    if txt is None and matched:
        reasons.append(evidence.reason("words", ", ".join(matched), words=matched))
    return evidence.combine(semantic, worded), reasons, matched


def search(store: CatalogQueries, embedder: EmbeddingService | None, query: str, filters: ClipFilter | None = None, *,
           mode: Mode = "hybrid", limit: int = 10) -> SearchResult:
    where, params = filter_sql(filters)
    subject = evidence.search_subject(query)  # "clips mentioning X" searches for X
    result = SearchResult(query=query, mode=mode, model=embedder.model if embedder else None,
                          cutoff=embedder.cutoff if embedder else None)
    lists: dict[str, list[_Match]] = {}
    if mode in ("hybrid", "semantic") and embedder is not None:
        lists["semantic"] = semantic_ranking(store, embedder, subject, where, params, limit * 3)
    if mode in ("hybrid", "text"):
        lists["text"] = text_ranking(store, subject, where, params, limit * 3)
    fused: dict[str, float] = {}
    for matches in lists.values():
        for match in matches:
            fused[match.clip_id] = fused.get(match.clip_id, 0.0) + 1.0 / (RRF_K + match.rank)
    if len(lists) == 1:  # one list: its own score is more telling than 1/(k + rank)
        fused = {m.clip_id: m.score for m in next(iter(lists.values()))}
    order = sorted(fused, key=lambda c: (-fused[c], c))[:limit]
    facts = store.hit_facts(order)
    words = evidence.content_words(subject)
    found = store.words_found(order, words)
    scale = calibration(embedder)
    for clip_id in order:
        by = {name: next(m for m in matches if m.clip_id == clip_id)
              for name, matches in lists.items() if any(m.clip_id == clip_id for m in matches)}
        timed = next((m for m in (by.get("text"), by.get("semantic")) if m and m.start_seconds is not None), None)
        snippet = next((m.snippet for m in (by.get("text"), by.get("semantic")) if m and m.snippet), None)
        row = facts[clip_id]
        strength, reasons, matched = explain(by, found.get(clip_id), words, scale, row.get("summary"))
        result.hits.append(SearchHit(
            clip_id=clip_id, path=row["path"], file_name=row["file_name"], score=round(fused[clip_id], 5),
            strength=strength, similarity=by["semantic"].score if "semantic" in by else None, matched_words=matched,
            why=evidence.summary_line(reasons), reasons=reasons,
            matched_by=sorted(by), start_seconds=timed.start_seconds if timed else None,
            end_seconds=timed.end_seconds if timed else None, snippet=snippet,
            thumbnail_path=(timed.thumbnail_path if timed and timed.thumbnail_path else row["poster_path"]),
            **{k: row[k] for k in ("duration_seconds", "video_codec", "width", "height", "frame_rate", "shot_type",
                                   "quality_score")},
        ))
    keep = evidence.drop_weak_tail([h.strength for h in result.hits])
    result.hits = [hit for hit, kept in zip(result.hits, keep) if kept]
    return result


def similar(store: CatalogQueries, embedder: EmbeddingService, clip_id: str, limit: int = 10) -> list[SearchHit]:
    """Nearest clips by their full-clip vectors, the clip itself excluded."""
    vector, dimension = store.clip_vector(clip_id, embedder.model)
    if vector is None:
        return []
    rows = store.semantic_matches(vector, embedder.model, dimension, "x.clip_id <> %(self)s", {"self": clip_id}, limit,
                                  scope="full_clip")
    facts = store.hit_facts([r["clip_id"] for r in rows])
    return [SearchHit(clip_id=r["clip_id"], path=facts[r["clip_id"]]["path"], file_name=facts[r["clip_id"]]["file_name"],
                      score=round(float(r["similarity"]), 4), matched_by=["semantic"],
                      thumbnail_path=facts[r["clip_id"]]["poster_path"],
                      **{k: facts[r["clip_id"]][k] for k in ("duration_seconds", "video_codec", "width", "height",
                                                             "frame_rate", "shot_type", "quality_score")})
            for r in rows]
