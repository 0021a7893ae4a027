"""SQL for segments as answers (spec 7.1.7): a clip's segments in a time range, segments of a length across the
catalog, what is said and shown around a moment, and segment-level search (each hit a segment, not a clip).
A mixin of CatalogQueries.

Time ranges are exact comparisons on indexed columns: a clip's range reads segments_clip_time_idx (clip_id,
start_seconds, end_seconds; sql/001), a length across the catalog the expression indexes of sql/008. The clip
filters are the same SQL as `list` (search.filters.filter_sql over clip_facts x), the vectors the same partial
HNSW expression index as `search` (store/search.py). Segment ids are the rows' own: stable until the step that
made the segment (frame_analysis, ai_analysis) runs again for that clip.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import psycopg

from catalog_resources.store.search import CLIP_JOINS, _with_vectors

SEGMENT_COLUMNS = """s.segment_id, s.clip_id, c.file_name, coalesce(r.path, c.path) AS path, s.segment_index,
                     s.segment_type, s.start_seconds, s.end_seconds, s.end_seconds - s.start_seconds AS duration_seconds,
                     s.text, s.keyframe_path, s.description AS note"""
SEGMENT_JOINS = "JOIN clips c ON c.clip_id = s.clip_id LEFT JOIN catalog_records r ON r.clip_id = s.clip_id"
SEGMENT_FROM = f"segments s {SEGMENT_JOINS}"


class SegmentQueries:
    def connect(self) -> AbstractContextManager[psycopg.Connection]:  # provided by CatalogQueries
        raise NotImplementedError

    def segment_rows(self, clip_id: str | None = None, *, start: float | None = None, end: float | None = None,
                     inside: bool = False, types: list[str] | None = None, duration_min: float | None = None,
                     duration_max: float | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Segments of one clip (or all), in time order. With a range, those that overlap it (`inside`: that lie
        wholly within it); with durations, those whose length is within them (seconds, inclusive)."""
        where, args = ["TRUE"], {"limit": limit}
        if clip_id is not None:
            where.append("s.clip_id = %(clip)s")
            args["clip"] = clip_id
        moment = start is not None and start == end  # a moment: the segments that cover it, edges included
        if start is not None:
            where.append("s.start_seconds >= %(start)s" if inside else
                         "s.end_seconds >= %(start)s" if moment else "s.end_seconds > %(start)s")
            args["start"] = start
        if end is not None:
            where.append("s.end_seconds <= %(end)s" if inside else
                         "s.start_seconds <= %(end)s" if moment else "s.start_seconds < %(end)s")
            args["end"] = end
        if types:
            where.append("s.segment_type = ANY(%(types)s)")
            args["types"] = types
        if duration_min is not None:
            where.append("s.end_seconds - s.start_seconds >= %(dmin)s")
            args["dmin"] = duration_min
        if duration_max is not None:
            where.append("s.end_seconds - s.start_seconds <= %(dmax)s")
            args["dmax"] = duration_max
        with self.connect() as conn:
            return conn.execute(
                f"""SELECT {SEGMENT_COLUMNS} FROM {SEGMENT_FROM} WHERE {' AND '.join(where)}
                    ORDER BY {'' if clip_id else 'c.file_name, s.clip_id, '}s.start_seconds, s.segment_index
                    LIMIT %(limit)s""", args).fetchall()

    def segment_row(self, segment_id: int) -> dict[str, Any] | None:
        with self.connect() as conn:
            return conn.execute(f"SELECT {SEGMENT_COLUMNS} FROM {SEGMENT_FROM} WHERE s.segment_id = %s",
                                (segment_id,)).fetchone()

    def timed_events(self, clip_id: str, start: float, end: float) -> list[dict[str, Any]]:
        """Sound events and on-screen text of the clip's analysis that overlap [start, end], in time order: what a
        moment holds besides its segments."""
        with self.connect() as conn:
            return conn.execute(
                """SELECT * FROM (
                       SELECT 'sound' AS kind, (e->>'start_seconds')::float8 AS start_seconds,
                              (e->>'end_seconds')::float8 AS end_seconds, e->>'label' AS text
                       FROM transcripts t, jsonb_array_elements(t.non_speech_events) e WHERE t.clip_id = %(clip)s
                       UNION ALL
                       SELECT 'on-screen text', (i->>'start_seconds')::float8, (i->>'end_seconds')::float8, i->>'text'
                       FROM analysis a,
                            jsonb_array_elements(coalesce(a.raw->'visual_analysis'->'text_and_graphics'->'items', '[]')) i
                       WHERE a.clip_id = %(clip)s) ev
                   WHERE ev.end_seconds >= %(start)s AND ev.start_seconds <= %(end)s
                   ORDER BY start_seconds, kind""", {"clip": clip_id, "start": start, "end": end}).fetchall()

    def segment_vector(self, segment_id: int, model: str) -> tuple[Any, int | None]:
        with self.connect() as conn:
            _with_vectors(conn)
            row = conn.execute("SELECT embedding, dimension FROM embeddings WHERE segment_id = %s AND model = %s",
                               (segment_id, model)).fetchone()
            return (row["embedding"], row["dimension"]) if row else (None, None)

    def semantic_segment_matches(self, vector: Any, model: str, dimension: int, where: str, params: dict[str, Any],
                                 limit: int, *, min_similarity: float = -1.0, types: list[str] | None = None,
                                 exclude_clip: str | None = None) -> list[dict[str, Any]]:
        """The nearest segment vectors (not one per clip: each is its own hit), filtered by the clip filters and
        segment types, best first. The HNSW index answers first with pgvector's iterative scan; when a filter
        leaves fewer than `limit`, the exact filtered query runs, so a filter never hides a match."""
        dim = int(dimension)
        distance = f"e.embedding::vector({dim}) <=> %(q)s::vector({dim})"
        keep = f"""{where} AND n.distance <= %(max_distance)s
                   AND (%(types)s::text[] IS NULL OR s.segment_type = ANY(%(types)s))
                   AND (%(exclude)s::text IS NULL OR n.clip_id <> %(exclude)s)"""
        nearest = f"""SELECT e.clip_id, e.segment_id, {distance} AS distance FROM embeddings e
                      WHERE e.model = %(model)s AND e.dimension = {dim} AND e.scope = 'segment'"""
        tail = f"""SELECT {SEGMENT_COLUMNS}, 1 - n.distance AS similarity FROM n
                   JOIN segments s ON s.segment_id = n.segment_id {SEGMENT_JOINS} {CLIP_JOINS.format(alias='n')}
                   WHERE {keep} ORDER BY n.distance, s.segment_id LIMIT %(limit)s"""
        args = {**params, "q": vector, "model": model, "types": types, "exclude": exclude_clip, "limit": limit,
                "max_distance": 1.0 - min_similarity, "candidates": max(limit * 20, 200)}
        with self.connect() as conn:
            _with_vectors(conn).execute(
                "SELECT set_config('hnsw.ef_search', '200', true), set_config('hnsw.iterative_scan', 'relaxed_order', true)")
            rows = conn.execute(f"WITH n AS MATERIALIZED ({nearest} ORDER BY {distance} LIMIT %(candidates)s) {tail}",
                                args).fetchall()
            if len(rows) < limit and (where.strip() != "TRUE" or types or exclude_clip):
                rows = conn.execute(f"WITH n AS ({nearest}) {tail}", args).fetchall()
            return rows

    def text_segment_matches(self, query: str, where: str, params: dict[str, Any], limit: int,
                             types: list[str] | None = None) -> list[dict[str, Any]]:
        """Segments whose own words match (the GIN index of sql/003), highlighted, best first."""
        with self.connect() as conn:
            return conn.execute(
                f"""SELECT {SEGMENT_COLUMNS}, ts_rank_cd(to_tsvector('simple', coalesce(s.text, '')), q) AS rank,
                           ts_headline('simple', s.text, q, 'StartSel=[, StopSel=], HighlightAll=true') AS snippet
                    FROM {SEGMENT_FROM} CROSS JOIN websearch_to_tsquery('simple', %(text)s) AS q
                    {CLIP_JOINS.format(alias='s')}
                    WHERE to_tsvector('simple', coalesce(s.text, '')) @@ q AND {where}
                      AND (%(types)s::text[] IS NULL OR s.segment_type = ANY(%(types)s))
                    ORDER BY rank DESC, s.clip_id, s.start_seconds LIMIT %(limit)s""",
                {**params, "text": query, "limit": limit, "types": types}).fetchall()
