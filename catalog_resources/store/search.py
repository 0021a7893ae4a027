"""SQL for embeddings and search: a mixin of CatalogQueries (which provides `connect`).

Filters are the same SQL as `list` (`search.filters.filter_sql` over clip_facts x),
so a search filter and a list filter can never mean different things.
"""

from __future__ import annotations

import weakref
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from pgvector.psycopg import register_vector

from catalog_resources.models.search import EmbeddingSet

_vector_ready: weakref.WeakSet[psycopg.Connection] = weakref.WeakSet()


def _with_vectors(conn: psycopg.Connection) -> psycopg.Connection:
    """pgvector's adapters, registered once per kept-open connection (registering looks the type up: a round trip)."""
    if conn not in _vector_ready:
        register_vector(conn)
        _vector_ready.add(conn)
    return conn


# A timed segment almost as near as the clip's best vector answers with its own time range and words; the clip
# keeps its best score. A spoken line is preferred (the best is often a scene whose text is the whole
# transcript), else the nearest scene, e.g. a silent shot's visual description when the whole-clip text, which
# says the same, is a hair nearer.
SEGMENT_MARGIN = 0.03

CLIP_JOINS = "JOIN clip_facts x ON x.clip_id = {alias}.clip_id"  # what the filters read (sql/004)

# A filter the planner expects to leave at most this many vectors goes straight to the exact query: reading the
# index first would find too few of its clips and end there anyway, after two rounds. At 100k clips / 1.1M
# vectors a filter that leaves 1 clip in 48 (~23k vectors) took the index rounds and then the exact query.
EXACT_FIRST_VECTORS = 60_000


def _filtered_vectors(conn: psycopg.Connection, where: str, params: dict[str, Any]) -> float:
    """The planner's estimate (no query runs) of how many vectors the clips passing `where` have."""
    plan = conn.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM clip_facts x WHERE {where}", params).fetchone()
    passing = float(next(iter(plan.values()))[0]["Plan"]["Plan Rows"])
    sizes = conn.execute("SELECT (SELECT reltuples FROM pg_class WHERE oid = 'embeddings'::regclass) AS vectors,"
                         " (SELECT reltuples FROM pg_class WHERE oid = 'clip_facts'::regclass) AS clips").fetchone()
    if sizes["clips"] is None or sizes["clips"] <= 0 or sizes["vectors"] is None or sizes["vectors"] < 0:
        return float("inf")  # never analysed: no estimate, so the index first as before
    return passing / sizes["clips"] * sizes["vectors"]


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
                "SELECT segment_id, segment_type, start_seconds, end_seconds, text, description FROM segments"
                " WHERE clip_id = %s ORDER BY start_seconds, segment_index", (clip_id,)).fetchall()
            return row

    @staticmethod
    def write_embeddings(conn: psycopg.Connection, e: EmbeddingSet) -> int:
        _with_vectors(conn)
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

    def semantic_matches(self, vector: Any, model: str, dimension: int, where: str, params: dict[str, Any], clips: int,
                         *, min_similarity: float = -1.0, scope: str | None = None) -> list[dict[str, Any]]:
        """The nearest vector of each clip (full-clip or segment, or only `scope`), up to `clips` clips, best first,
        filtered in SQL and cut off at `min_similarity`; a timed segment within SEGMENT_MARGIN of it (a transcript
        line first) stands in for it, so the hit carries that segment's time range.

        The cast to vector(N) under `dimension = N` is the partial HNSW index's own expression. The index
        answers the nearest candidates first (a materialized CTE, so the planner cannot trade it for a
        sequential scan because of the filter joins; `scope` is inside it, where pgvector's iterative scan
        keeps reading until enough rows match), then the clip filters apply. When a filter leaves too few
        clips and the candidates did not yet reach the cut-off, either more candidates are read or the exact
        filtered query runs, whichever the share of rows that passed says is cheaper; so a filter never hides a
        match. Measured at 100k clips / 1.1M vectors: about 12 ms for 200 candidates, 52 ms for 1,800, and the
        exact query ~30 ms for a filter that leaves 2,000 clips (3 s without a filter).

        Each clip's best vector comes from a grouped minimum (a hash over the rows read) and only the chosen
        clips' rows are ordered, not a sort of every row read: the exact query over a filter that leaves 2,127
        clips (23k vectors) sorted all 23k rows by clip and distance, ~4 ms of its ~46.
        """
        dim = int(dimension)
        distance = f"e.embedding::vector({dim}) <=> %(q)s::vector({dim})"
        nearest = f"""SELECT e.clip_id, e.scope, e.segment_id, {distance} AS distance FROM embeddings e
                      WHERE e.model = %(model)s AND e.dimension = {dim} {"AND e.scope = %(scope)s" if scope else ""}"""
        best = f"""f AS (SELECT n.* FROM n {CLIP_JOINS.format(alias='n')} WHERE {where} AND n.distance <= %(max_distance)s),
                   top AS (SELECT f.clip_id, min(f.distance) AS distance FROM f GROUP BY f.clip_id
                           ORDER BY 2 LIMIT %(clips)s),
                   g AS (SELECT DISTINCT ON (f.clip_id) f.* FROM f JOIN top ON top.clip_id = f.clip_id
                         AND f.distance = top.distance ORDER BY f.clip_id, f.distance),
                   timed AS (SELECT DISTINCT ON (f.clip_id) f.clip_id, f.segment_id FROM f
                             JOIN g ON g.clip_id = f.clip_id AND f.distance <= g.distance + {SEGMENT_MARGIN}
                             JOIN segments s ON s.segment_id = f.segment_id
                             ORDER BY f.clip_id, s.segment_type <> 'transcript', f.distance),
                   h AS (SELECT g.clip_id, CASE WHEN sp.segment_id IS NULL THEN g.scope ELSE 'segment' END AS scope,
                                coalesce(sp.segment_id, g.segment_id) AS segment_id, s.segment_type, s.start_seconds, s.end_seconds,
                                s.text AS segment_text, s.keyframe_path, 1 - g.distance AS similarity, g.distance
                         FROM g LEFT JOIN timed sp ON sp.clip_id = g.clip_id
                         LEFT JOIN segments s ON s.segment_id = coalesce(sp.segment_id, g.segment_id))"""
        approximate = f"""WITH n AS MATERIALIZED ({nearest} ORDER BY {distance} LIMIT %(candidates)s), {best}
                SELECT st.*, h.* FROM (SELECT max(distance) AS frontier, count(*) AS read, (SELECT count(*) FROM f) AS passed,
                                              (SELECT reltuples FROM pg_class WHERE oid = 'embeddings'::regclass) AS vectors
                                       FROM n) st
                LEFT JOIN h ON TRUE ORDER BY h.distance"""
        exact = f"WITH n AS ({nearest}), {best} SELECT * FROM h ORDER BY distance"
        args = {**params, "q": vector, "model": model, "scope": scope, "clips": clips, "max_distance": 1.0 - min_similarity}
        filtered = where.strip() not in ("TRUE", "")
        with self.connect() as conn:  # one transaction: the settings are LOCAL to it
            _with_vectors(conn).execute(  # no parallel workers: they would ship whole vectors through a queue
                "SELECT set_config('hnsw.ef_search', '100', true), set_config('hnsw.iterative_scan', 'relaxed_order', true),"
                " set_config('max_parallel_workers_per_gather', '0', true)")
            if filtered and _filtered_vectors(conn, where, params) <= EXACT_FIRST_VECTORS:
                return conn.execute(exact, args).fetchall()
            candidates, most = clips * (10 if filtered else 7), clips * 60  # a clip has about ten segment vectors
            for _attempt in range(2):
                found = conn.execute(approximate, {**args, "candidates": candidates}).fetchall()
                rows = [row for row in found if row["clip_id"] is not None]
                stats = found[0] if found else None
                more_within_cutoff = (stats is not None and stats["read"] == candidates and stats["frontier"] is not None
                                      and stats["frontier"] <= args["max_distance"])
                if len(rows) >= clips or not more_within_cutoff:
                    return rows
                # as many more as the share of clips that passed suggests, with room to spare
                candidates *= max(2, -(-clips * 3 // (2 * max(len(rows), 1))))
                # an index candidate costs about 20 exact rows (29 against 1.4 us measured): read the index further
                # only while that is cheaper than the exact query over the vectors of the clips the filter leaves
                exact_rows = stats["passed"] / stats["read"] * max(stats["vectors"], stats["read"])
                if filtered and (not rows or candidates > most or exact_rows < 20 * candidates):
                    break
                if candidates > most:
                    return rows
            # unfiltered, the nearest rows only repeated clips: what was read is the answer; filtered, the exact
            # query, which starts from the clips the filter leaves (clip_facts), so a filter never hides a match
            return conn.execute(exact, args).fetchall() if filtered else rows

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
                """SELECT s.clip_id, s.segment_id, s.segment_type, s.start_seconds, s.end_seconds, s.keyframe_path,
                          ts_headline('simple', s.text, q, 'StartSel=[, StopSel=], HighlightAll=true') AS snippet,
                          ts_rank_cd(to_tsvector('simple', coalesce(s.text, '')), q) AS rank
                   FROM segments s CROSS JOIN websearch_to_tsquery('simple', %s) AS q
                   WHERE s.clip_id = ANY(%s) AND to_tsvector('simple', coalesce(s.text, '')) @@ q
                   ORDER BY s.clip_id, rank DESC, s.start_seconds""",
                (query, clip_ids),
            ).fetchall()

    def words_found(self, clip_ids: list[str], words: list[str]) -> dict[str, dict[str, Any]]:
        """Per clip, which of these (lower-case) words its search document holds and which of its tags name one:
        the "which words matched" of a hit, also when the full-text list did not match every word."""
        if not clip_ids or not words:
            return {}
        with self.connect() as conn:
            rows = conn.execute(
                """SELECT r.clip_id, ARRAY(SELECT unnest(tsvector_to_array(r.search_vector))
                                           INTERSECT SELECT unnest(%(words)s::text[])) AS words,
                          ARRAY(SELECT t.name || '|' || ct.source FROM clip_tags ct JOIN tags t USING (tag_id)
                                WHERE ct.clip_id = r.clip_id AND ct.review IS DISTINCT FROM 'rejected' AND EXISTS (
                                    SELECT 1 FROM unnest(%(words)s::text[]) w
                                    WHERE lower(t.name) ~ ('\\m' || w || '\\M')) ORDER BY t.name) AS tags
                   FROM catalog_records r WHERE r.clip_id = ANY(%(ids)s)""",
                {"ids": clip_ids, "words": words}).fetchall()
        return {r["clip_id"]: {"words": [w for w in words if w in r["words"]],
                               "tags": [tuple(t.rsplit("|", 1)) for t in r["tags"]]} for r in rows}

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
                          fa.dominant_shot_type AS shot_type, fa.quality_score, r.poster_path, a.summary
                   FROM clips c LEFT JOIN catalog_records r USING (clip_id) LEFT JOIN analysis a USING (clip_id)
                   LEFT JOIN technical_metadata t USING (clip_id) LEFT JOIN frame_analysis fa USING (clip_id)
                   WHERE c.clip_id = ANY(%s)""", (clip_ids,)).fetchall()
        return {r["clip_id"]: r for r in rows}

    def clip_vector(self, clip_id: str, model: str) -> Any:
        with self.connect() as conn:
            _with_vectors(conn)
            row = conn.execute("SELECT embedding, dimension FROM embeddings WHERE clip_id = %s AND model = %s"
                               " AND scope = 'full_clip'", (clip_id, model)).fetchone()
            return (row["embedding"], row["dimension"]) if row else (None, None)

    def embedded_clip_count(self, model: str) -> int:
        with self.connect() as conn:
            return conn.execute("SELECT count(*) AS n FROM embeddings WHERE model = %s AND scope = 'full_clip'",
                                (model,)).fetchone()["n"]

    def has_clip_embeddings(self, model: str) -> bool:
        """Whether any clip has a full-clip vector from this model: stops at the first row, where a count read
        every one (~1.1M rows at 100k clips, on every search)."""
        with self.connect() as conn:
            return conn.execute("SELECT EXISTS (SELECT 1 FROM embeddings WHERE model = %s AND scope = 'full_clip')"
                                " AS found", (model,)).fetchone()["found"]
