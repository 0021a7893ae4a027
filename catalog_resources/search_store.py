"""SQL for embeddings and search: a mixin of CatalogQueries (which provides `connect`).

Filters are the same SQL as `list` (`_filter_sql` over clips c / technical_metadata t / frame_analysis fa),
so a search filter and a list filter can never mean different things.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import psycopg
from pgvector.psycopg import register_vector

from catalog_resources.search_models import EmbeddingSet

CLIP_JOINS = """JOIN clips c ON c.clip_id = {alias}.clip_id
                LEFT JOIN technical_metadata t ON t.clip_id = c.clip_id
                LEFT JOIN frame_analysis fa ON fa.clip_id = c.clip_id"""


class SearchQueries:
    def connect(self) -> AbstractContextManager[psycopg.Connection]:  # provided by CatalogQueries
        raise NotImplementedError

    def embedding_inputs(self, clip_id: str) -> dict[str, Any] | None:
        """Everything the embedding texts are made of, for one clip."""
        with self.connect() as conn:
            row = conn.execute("SELECT clip_id, file_name FROM clips WHERE clip_id = %s", (clip_id,)).fetchone()
            if row is None:
                return None
            analysis = conn.execute(
                "SELECT summary, keywords, entities, scene_classification, on_screen_text,"
                " raw->'visual_analysis'->'text_and_graphics'->'items' AS screen_items FROM analysis WHERE clip_id = %s",
                (clip_id,)).fetchone()
            row["analysis"] = analysis
            row["screen_items"] = (analysis or {}).get("screen_items") or []
            transcript = conn.execute("SELECT full_text FROM transcripts WHERE clip_id = %s", (clip_id,)).fetchone()
            row["transcript"] = transcript["full_text"] if transcript else None
            row["technical"] = conn.execute(
                "SELECT video_codec, width, height, frame_rate, hdr_format, camera_make, camera_model"
                " FROM technical_metadata WHERE clip_id = %s", (clip_id,)).fetchone()
            shot = conn.execute("SELECT dominant_shot_type FROM frame_analysis WHERE clip_id = %s", (clip_id,)).fetchone()
            row["shot_type"] = shot["dominant_shot_type"] if shot else None
            row["segments"] = conn.execute(
                "SELECT segment_id, segment_type, start_seconds, end_seconds, text FROM segments"
                " WHERE clip_id = %s ORDER BY start_seconds, segment_index", (clip_id,)).fetchall()
            return row

    @staticmethod
    def write_embeddings(conn: psycopg.Connection, e: EmbeddingSet) -> int:
        register_vector(conn)
        conn.execute("DELETE FROM embeddings WHERE clip_id = %s AND model = %s", (e.clip_id, e.model))
        import numpy as np

        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO embeddings (clip_id, segment_id, scope, model, dimension, source_text, token_count, embedding)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [(e.clip_id, item.segment_id, item.scope, e.model, e.dimension, item.text, item.token_count,
                  np.asarray(item.vector, dtype=np.float32)) for item in e.items],
            )
        return len(e.items)

    def semantic_matches(self, vector: Any, model: str, dimension: int, where: str, params: dict[str, Any],
                         limit: int) -> list[dict[str, Any]]:
        """Nearest full-clip and segment vectors of `model`, filtered in SQL, best first.

        The cast to vector(N) under `dimension = N` is the partial HNSW index's own expression. The index
        answers the nearest candidates first (a materialized CTE, so the planner cannot trade it for a
        sequential scan because of the filter joins), then the filters apply; when a narrow filter leaves
        too few, the exact filtered query runs instead, so a filter never hides a match.
        """
        dim = int(dimension)
        select = f"""SELECT n.clip_id, n.scope, n.segment_id, s.start_seconds, s.end_seconds, s.text AS segment_text,
                           s.keyframe_path, 1 - n.distance AS similarity"""
        approximate = f"""WITH n AS MATERIALIZED (
                    SELECT e.clip_id, e.scope, e.segment_id, e.embedding::vector({dim}) <=> %(q)s::vector({dim}) AS distance
                    FROM embeddings e WHERE e.model = %(model)s AND e.dimension = {dim}
                    ORDER BY e.embedding::vector({dim}) <=> %(q)s::vector({dim}) LIMIT %(candidates)s)
                {select}
                FROM n LEFT JOIN segments s ON s.segment_id = n.segment_id
                {CLIP_JOINS.format(alias='n')}
                WHERE {where} ORDER BY n.distance LIMIT %(limit)s"""
        exact = f"""WITH n AS (
                    SELECT e.clip_id, e.scope, e.segment_id, e.embedding::vector({dim}) <=> %(q)s::vector({dim}) AS distance
                    FROM embeddings e WHERE e.model = %(model)s AND e.dimension = {dim})
                {select}
                FROM n LEFT JOIN segments s ON s.segment_id = n.segment_id
                {CLIP_JOINS.format(alias='n')}
                WHERE {where} ORDER BY n.distance LIMIT %(limit)s"""
        args = {**params, "q": vector, "model": model, "limit": limit, "candidates": max(200, limit * 8)}
        with self.connect() as conn, conn.transaction():
            register_vector(conn)
            conn.execute("SET LOCAL hnsw.ef_search = 100")
            conn.execute("SET LOCAL hnsw.iterative_scan = 'relaxed_order'")
            rows = conn.execute(approximate, args).fetchall()
            if len(rows) < limit and where.strip() not in ("TRUE", ""):
                rows = conn.execute(exact, args).fetchall()
            return rows

    def text_matches(self, query: str, where: str, params: dict[str, Any], limit: int) -> list[dict[str, Any]]:
        """Full-text matches over the clips' search documents, with a highlighted snippet, best first."""
        with self.connect() as conn:
            return conn.execute(
                f"""SELECT r.clip_id, ts_rank_cd(r.search_vector, q) AS rank,
                           ts_headline('simple', r.document, q,
                                       'StartSel=[, StopSel=], MaxWords=20, MinWords=8, MaxFragments=2') AS snippet
                    FROM catalog_records r CROSS JOIN websearch_to_tsquery('simple', %(text)s) AS q
                    {CLIP_JOINS.format(alias='r')}
                    WHERE r.search_vector @@ q AND {where}
                    ORDER BY rank DESC, r.clip_id LIMIT %(limit)s""",
                {**params, "text": query, "limit": limit},
            ).fetchall()

    def segment_text_matches(self, query: str, clip_ids: list[str]) -> list[dict[str, Any]]:
        """The transcript segments of these clips whose words match, for a text hit's time range."""
        if not clip_ids:
            return []
        with self.connect() as conn:
            return conn.execute(
                """SELECT s.clip_id, s.segment_id, s.start_seconds, s.end_seconds, s.keyframe_path,
                          ts_headline('simple', s.text, q, 'StartSel=[, StopSel=], HighlightAll=true') AS snippet,
                          ts_rank_cd(to_tsvector('simple', coalesce(s.text, '')), q) AS rank
                   FROM segments s CROSS JOIN websearch_to_tsquery('simple', %s) AS q
                   WHERE s.clip_id = ANY(%s) AND to_tsvector('simple', coalesce(s.text, '')) @@ q
                   ORDER BY s.clip_id, rank DESC, s.start_seconds""",
                (query, clip_ids),
            ).fetchall()

    def hit_facts(self, clip_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Path, name and technical facts of the clips a search returns."""
        if not clip_ids:
            return {}
        with self.connect() as conn:
            rows = conn.execute(
                """SELECT c.clip_id, coalesce(r.path, c.path) AS path, c.file_name,
                          coalesce(t.duration_seconds, c.duration_seconds) AS duration_seconds,
                          coalesce(t.video_codec, c.video_codec) AS video_codec, coalesce(t.width, c.width) AS width,
                          coalesce(t.height, c.height) AS height, coalesce(t.frame_rate, c.frame_rate) AS frame_rate,
                          fa.dominant_shot_type AS shot_type, fa.quality_score, r.poster_path
                   FROM clips c LEFT JOIN catalog_records r USING (clip_id)
                   LEFT JOIN technical_metadata t USING (clip_id) LEFT JOIN frame_analysis fa USING (clip_id)
                   WHERE c.clip_id = ANY(%s)""", (clip_ids,)).fetchall()
        return {r["clip_id"]: r for r in rows}

    def clip_vector(self, clip_id: str, model: str) -> Any:
        with self.connect() as conn:
            register_vector(conn)
            row = conn.execute("SELECT embedding, dimension FROM embeddings WHERE clip_id = %s AND model = %s"
                               " AND scope = 'full_clip'", (clip_id, model)).fetchone()
            return (row["embedding"], row["dimension"]) if row else (None, None)

    def embedded_clip_count(self, model: str) -> int:
        with self.connect() as conn:
            return conn.execute("SELECT count(*) AS n FROM embeddings WHERE model = %s AND scope = 'full_clip'",
                                (model,)).fetchone()["n"]
