"""`db export` and `db stats`: the whole catalog as JSON, one clip at a time from a server-side cursor (memory
stays flat whatever the catalog's size), and the row counts and sizes of its tables.

Each clip object has the same keys, always (sorted; absent products are null or empty lists). Vectors are left
out (they are recomputed from the text by `refresh`); everything a person or another tool reads is in.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from catalog_resources.store.catalog import CatalogQueries

EXPORT_VERSION = 1
BATCH_ROWS = 200  # rows fetched from the server per round trip

_CLIP_SQL = """
SELECT c.clip_id, to_jsonb(c) AS clip,
  coalesce((SELECT jsonb_agg(to_jsonb(s) - 'clip_id' ORDER BY s.first_seen, s.path)
            FROM clip_sources s WHERE s.clip_id = c.clip_id), '[]') AS sources,
  (SELECT t.details FROM technical_metadata t WHERE t.clip_id = c.clip_id) AS technical_metadata,
  (SELECT f.details FROM frame_analysis f WHERE f.clip_id = c.clip_id) AS frame_analysis,
  (SELECT to_jsonb(a) - 'clip_id' - 'raw' FROM analysis a WHERE a.clip_id = c.clip_id) AS analysis,
  (SELECT to_jsonb(tr) - 'clip_id' FROM transcripts tr WHERE tr.clip_id = c.clip_id) AS transcript,
  coalesce((SELECT jsonb_agg(to_jsonb(sg) - 'clip_id' ORDER BY sg.start_seconds, sg.segment_index)
            FROM segments sg WHERE sg.clip_id = c.clip_id), '[]') AS segments,
  coalesce((SELECT jsonb_agg(to_jsonb(th) - 'clip_id' ORDER BY th.thumbnail_index)
            FROM thumbnails th WHERE th.clip_id = c.clip_id), '[]') AS thumbnails,
  coalesce((SELECT jsonb_agg(jsonb_build_object('name', tg.name, 'source', ct.source, 'review', ct.review) ORDER BY tg.name, ct.source)
            FROM clip_tags ct JOIN tags tg USING (tag_id) WHERE ct.clip_id = c.clip_id), '[]') AS tags,
  coalesce((SELECT jsonb_agg(co.name ORDER BY co.name) FROM collection_clips cc
            JOIN collections co USING (collection_id) WHERE cc.clip_id = c.clip_id), '[]') AS collections,
  (SELECT jsonb_object_agg(v.asset, v.code_version) FROM asset_versions v WHERE v.clip_id = c.clip_id) AS versions
FROM clips c ORDER BY c.clip_id
"""
CLIP_KEYS = ("clip", "sources", "technical_metadata", "frame_analysis", "analysis", "transcript", "segments",
             "thumbnails", "tags", "collections", "versions")


def iter_clips(store: CatalogQueries) -> Iterator[dict[str, Any]]:
    """Every clip with everything cataloged about it, streamed (a named cursor on its own connection)."""
    with store._dedicated() as conn, conn.transaction():
        with conn.cursor(name="catalog_export") as cur:
            cur.itersize = BATCH_ROWS
            cur.execute(_CLIP_SQL)
            for row in cur:
                yield {"clip_id": row["clip_id"], **{key: row[key] for key in CLIP_KEYS}}


def collections(store: CatalogQueries) -> list[dict[str, Any]]:
    with store.connect() as conn:
        return conn.execute(
            "SELECT co.name, co.description, co.created_at, count(cc.clip_id) AS clip_count FROM collections co "
            "LEFT JOIN collection_clips cc USING (collection_id) GROUP BY co.collection_id ORDER BY co.name").fetchall()


def table_stats(store: CatalogQueries) -> list[dict[str, Any]]:
    """Each catalog table (public schema): exact row count and bytes on disk (indexes and TOAST included)."""
    with store.connect() as conn:
        tables = [r["relname"] for r in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname")]
        stats = []
        for table in tables:
            row = conn.execute(f'SELECT count(*) AS rows, pg_total_relation_size(%s::regclass) AS bytes FROM "{table}"',
                               (f'public."{table}"',)).fetchone()
            stats.append({"table": table, "rows": row["rows"], "bytes": row["bytes"]})
        return stats


def catalog_totals(store: CatalogQueries) -> dict[str, Any]:
    """The database's size, clip count and the originals' bytes (each clip once, whatever its copies)."""
    with store.connect() as conn:
        return conn.execute(
            "SELECT pg_database_size(current_database()) AS database_bytes, count(*) AS clips, "
            "coalesce(sum(size_bytes), 0) AS originals_bytes FROM clips").fetchone()
