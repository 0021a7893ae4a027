"""SQL for `video-catalog report`: what a set of clips holds (content summary) and what it costs on disk (the
database's share of storage usage). A mixin of CatalogQueries.

The set of clips is chosen by the same filters as `list` (search.filters.filter_sql over clip_facts x), so
`report content-summary --collection NAME` covers exactly the clips `list --collection NAME` shows.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import psycopg

TOP = 10
QUALITY_BANDS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 101))


def _counts(conn: psycopg.Connection, sql: str, args: dict[str, Any]) -> dict[str, int]:
    """{value: clips} from a query of (value, n) rows, most first."""
    return {str(r["value"]): int(r["n"]) for r in conn.execute(sql, args)}


class ReportQueries:
    def connect(self) -> AbstractContextManager[psycopg.Connection]:  # provided by CatalogQueries
        raise NotImplementedError

    def content_summary(self, where: str, params: dict[str, Any], top: int = TOP) -> dict[str, Any]:
        """Counts, ranges and top values over the clips the filters choose."""
        chosen = f"chosen AS (SELECT x.* FROM clip_facts x WHERE {where})"
        args = {**params, "top": top}
        with self.connect() as conn:
            head = conn.execute(
                f"""WITH {chosen} SELECT count(*) AS clip_count, coalesce(sum(x.duration_seconds), 0) AS duration_seconds,
                           coalesce(sum(c.size_bytes), 0)::bigint AS size_bytes, min(x.recorded_at) AS recorded_from,
                           max(x.recorded_at) AS recorded_to,
                           count(*) FILTER (WHERE x.exposure_warning) AS exposure_warnings,
                           count(*) FILTER (WHERE (fa.details->>'is_blurry')::boolean) AS blurry,
                           count(*) FILTER (WHERE x.exposure_warning OR (fa.details->>'is_blurry')::boolean)
                               AS exposure_or_blur_warnings
                    FROM chosen x JOIN clips c USING (clip_id) LEFT JOIN frame_analysis fa USING (clip_id)""",
                args).fetchone()

            def grouped(value: str, joins: str = "", extra: str = "TRUE", limit: bool = False) -> dict[str, int]:
                return _counts(conn, f"""WITH {chosen} SELECT {value} AS value, count(DISTINCT x.clip_id) AS n
                                         FROM chosen x {joins} WHERE {extra} GROUP BY 1 ORDER BY 2 DESC, 1
                                         {'LIMIT %(top)s' if limit else ''}""", args)

            summary = dict(head) | {
                "codecs": grouped("coalesce(x.codec, 'unknown')"),
                "resolutions": grouped("coalesce(c.width || 'x' || c.height, 'unknown')",
                                       "JOIN clips c0 USING (clip_id) LEFT JOIN technical_metadata t USING (clip_id) "
                                       "CROSS JOIN LATERAL (SELECT coalesce(t.width, c0.width) AS width, "
                                       "coalesce(t.height, c0.height) AS height) c"),
                "cameras": grouped("coalesce(x.camera, 'unknown')"),
                "languages": grouped("tr.language", "JOIN transcripts tr USING (clip_id)",
                                     "tr.language IS NOT NULL AND tr.full_text <> ''"),
                "shot_types": grouped("coalesce(x.shot_type, 'unknown')"),
                "quality": grouped("""CASE WHEN x.quality_score IS NULL THEN 'unknown'
                                      ELSE lpad((least(floor(x.quality_score / 20) * 20, 80))::int::text, 2, '0') || '-'
                                           || (least(floor(x.quality_score / 20) * 20, 80) + 20)::int::text END"""),
                "top_keywords": grouped("k", "JOIN analysis a USING (clip_id) CROSS JOIN unnest(a.keywords) k",
                                        limit=True),
                "people": grouped("p", "JOIN analysis a USING (clip_id) "
                                       "CROSS JOIN jsonb_array_elements_text(coalesce(a.entities->'people', '[]')) p",
                                  limit=True),
                "top_entities": grouped("e.value || ' (' || e.kind || ')'",
                                        "JOIN analysis a USING (clip_id) CROSS JOIN LATERAL (SELECT k AS kind, v AS value "
                                        "FROM jsonb_each(a.entities) AS j(k, vs), jsonb_array_elements_text("
                                        "CASE WHEN jsonb_typeof(vs) = 'array' THEN vs ELSE '[]' END) v) e",
                                        limit=True),
                "top_visual_labels": grouped("t.name", "JOIN clip_tags ct USING (clip_id) JOIN tags t USING (tag_id)",
                                             "ct.source = 'visual' AND ct.review IS DISTINCT FROM 'rejected'", limit=True),
                "warned_clips": [r["clip_id"] for r in conn.execute(
                    f"""WITH {chosen} SELECT x.clip_id FROM chosen x LEFT JOIN frame_analysis fa USING (clip_id)
                        WHERE x.exposure_warning OR (fa.details->>'is_blurry')::boolean ORDER BY x.clip_id""", args)],
            }
        return summary

    def storage_rows(self) -> list[dict[str, Any]]:
        """One row per clip: its content's bytes and md5 (duplicates by content count once), the bytes of its other
        copies, whether any copy is online, and what it is grouped by (folder, camera, codec, collections)."""
        with self.connect() as conn:
            return conn.execute(
                """SELECT c.clip_id, c.md5, c.size_bytes, c.path, x.camera, x.codec,
                          coalesce((SELECT sum(s.size_bytes) FROM clip_sources s WHERE s.clip_id = c.clip_id), 0)
                              - c.size_bytes AS copy_bytes,
                          (SELECT count(*) FROM clip_sources s WHERE s.clip_id = c.clip_id) AS paths,
                          EXISTS (SELECT 1 FROM clip_sources s WHERE s.clip_id = c.clip_id AND s.online) AS online,
                          ARRAY(SELECT co.name FROM collection_clips cc JOIN collections co USING (collection_id)
                                WHERE cc.clip_id = c.clip_id ORDER BY lower(co.name)) AS collections
                   FROM clips c LEFT JOIN clip_facts x USING (clip_id) ORDER BY c.clip_id""").fetchall()

    def database_bytes(self) -> int:
        with self.connect() as conn:
            return int(conn.execute("SELECT pg_database_size(current_database()) AS n").fetchone()["n"])
