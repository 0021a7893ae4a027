"""SQL for look-alike shots (sql/007 scene_looks): a mixin of CatalogQueries (which provides `connect`).

Every scene frame_analysis described has one 1280-d look vector; a query (another clip's scenes, or an image)
asks the HNSW index for its nearest scenes and keeps each clip's best one. Filters are the `list` filters over
clip_facts x, as in search.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import numpy as np
import psycopg

from catalog_resources.models.media import FrameAnalysis
from catalog_resources.store.search import CLIP_JOINS, _with_vectors

_SETTINGS = ("SELECT set_config('hnsw.ef_search', '100', true), set_config('hnsw.iterative_scan', 'relaxed_order', true),"
             " set_config('max_parallel_workers_per_gather', '0', true)")


class LookQueries:
    def connect(self) -> AbstractContextManager[psycopg.Connection]:  # provided by CatalogQueries
        raise NotImplementedError

    @staticmethod
    def write_scene_looks(conn: psycopg.Connection, fa: FrameAnalysis) -> int:
        """The clip's scene vectors replaced by those of these scenes, under the model that made them (a scene
        without a vector has none; a clip analysed without the classifier keeps none)."""
        _with_vectors(conn)
        conn.execute("DELETE FROM scene_looks WHERE clip_id = %s", (fa.clip_id,))
        model = fa.look_model
        if model is None:
            return 0
        rows = [(fa.clip_id, v.scene_index if v.scene_index is not None else n, v.start_seconds, v.end_seconds,
                 v.keyframe_path, model, np.asarray(v.look, dtype=np.float32))
                for n, v in enumerate(fa.visual) if v.look is not None]
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO scene_looks (clip_id, scene_index, start_seconds, end_seconds, keyframe_path,"
                            " model, embedding) VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)
        return len(rows)

    def scene_look_count(self, clip_id: str | None, model: str) -> int:
        """Scenes with a look vector: of one clip, or of the whole catalog (clip_id None)."""
        with self.connect() as conn:
            return conn.execute("SELECT count(*) AS n FROM scene_looks WHERE model = %s"
                                " AND (%s::text IS NULL OR clip_id = %s)", (model, clip_id, clip_id)).fetchone()["n"]

    def looks_like_image(self, vector: Any, model: str, where: str, params: dict[str, Any], clips: int,
                         min_similarity: float) -> list[dict[str, Any]]:
        """Each clip's nearest scene to `vector`, up to `clips` clips, best first, filtered, cut off at
        `min_similarity`. The index answers the nearest scenes first (a materialized CTE, so the planner keeps
        the index). Only when all of them were within the cut-off (so more may be) and the filter or repeated
        clips left too few, ten times as many are read, then the exact filtered query answers; an image like
        nothing stops at the first read."""
        select = """SELECT l.clip_id, l.scene_index, l.start_seconds, l.end_seconds, l.keyframe_path,
                           l.embedding <=> %(q)s AS distance FROM scene_looks l WHERE l.model = %(model)s"""
        best = f"""f AS (SELECT n.* FROM n {CLIP_JOINS.format(alias='n')} WHERE {where} AND n.distance <= %(max_distance)s),
                   b AS (SELECT DISTINCT ON (f.clip_id) f.* FROM f ORDER BY f.clip_id, f.distance),
                   h AS (SELECT *, 1 - distance AS similarity FROM b ORDER BY distance LIMIT %(clips)s)"""
        args = {**params, "q": np.asarray(vector, dtype=np.float32), "model": model, "clips": clips,
                "max_distance": 1.0 - min_similarity}
        with self.connect() as conn:
            _with_vectors(conn).execute(_SETTINGS)
            for candidates in (clips * 10, clips * 100):  # a narrow filter: read ten times further once
                found = conn.execute(
                    f"""WITH n AS MATERIALIZED ({select} ORDER BY distance LIMIT %(candidates)s), {best}
                        SELECT st.frontier, h.* FROM (SELECT max(distance) AS frontier FROM n) st
                        LEFT JOIN h ON TRUE ORDER BY h.distance""", {**args, "candidates": candidates}).fetchall()
                rows = [r for r in found if r["clip_id"] is not None]
                frontier = found[0]["frontier"] if found else None
                if len(rows) >= clips or frontier is None or frontier > args["max_distance"]:
                    return rows
            # every candidate was within the cut-off: more may be, exactly over the clips the filter leaves
            return conn.execute(f"WITH n AS ({select}), {best} SELECT * FROM h ORDER BY distance", args).fetchall()

    def looks_like_clip(self, clip_id: str, model: str, clips: int, min_similarity: float) -> list[dict[str, Any]]:
        """Other clips whose scenes look most like this clip's: per other clip its best pair of scenes (own scene
        -> their scene), best first. One index probe per own scene (a LATERAL nearest-neighbour query)."""
        with self.connect() as conn:
            _with_vectors(conn).execute(_SETTINGS)
            return conn.execute(
                """WITH pairs AS (
                       SELECT q.scene_index AS query_scene, q.start_seconds AS query_start_seconds,
                              q.end_seconds AS query_end_seconds, m.*
                       FROM scene_looks q CROSS JOIN LATERAL (
                           SELECT o.clip_id, o.scene_index, o.start_seconds, o.end_seconds, o.keyframe_path,
                                  o.embedding <=> q.embedding AS distance
                           FROM scene_looks o WHERE o.model = q.model AND o.clip_id <> q.clip_id
                           ORDER BY o.embedding <=> q.embedding LIMIT %(candidates)s) m
                       WHERE q.clip_id = %(clip)s AND q.model = %(model)s AND m.distance <= %(max_distance)s),
                   b AS (SELECT DISTINCT ON (clip_id) * FROM pairs ORDER BY clip_id, distance)
                   SELECT *, 1 - distance AS similarity FROM b ORDER BY distance, clip_id LIMIT %(clips)s""",
                {"clip": clip_id, "model": model, "clips": clips, "candidates": clips * 5,
                 "max_distance": 1.0 - min_similarity}).fetchall()
