"""What `verify`, `list --offline` and `forget` read and delete: the recorded paths of clips, with the
checksums they were cataloged with, and a clip's rows everywhere (tables without a foreign key included)."""

from __future__ import annotations

from typing import Any

from catalog_resources.store.catalog import CatalogQueries


def _under(prefix: str) -> tuple[str, dict[str, str]]:
    """SQL for "this path, or a path inside this folder" (LIKE metacharacters in the folder are escaped)."""
    escaped = prefix.rstrip("/").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "(s.path = %(exact)s OR s.path LIKE %(inside)s)", {"exact": prefix, "inside": escaped + "/%"}


def recorded_sources(store: CatalogQueries, prefix: str | None = None,
                     clip_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Every recorded (clip, path), with the clip's MD5 and xxh3 and the path's size and mtime when last seen;
    only those under `prefix` (a file or a folder) or of `clip_ids` when given."""
    where, params = "TRUE", {}
    if prefix is not None:
        where, params = _under(prefix)
    if clip_ids is not None:
        where += " AND s.clip_id = ANY(%(ids)s)"
        params["ids"] = list(clip_ids)
    with store.connect() as conn:
        return conn.execute(
            f"""SELECT s.clip_id, s.path, s.size_bytes, s.mtime, s.online, coalesce(s.md5, c.md5) AS md5,
                       c.fast_hash, c.file_name
                FROM clip_sources s JOIN clips c USING (clip_id)
                WHERE {where} ORDER BY s.path, s.clip_id""", params).fetchall()


def clip_paths(store: CatalogQueries) -> dict[str, list[str]]:
    """clip id -> every path it was recorded at."""
    with store.connect() as conn:
        rows = conn.execute("SELECT clip_id, array_agg(path ORDER BY online DESC, last_seen DESC) AS paths "
                            "FROM clip_sources GROUP BY clip_id")
        return {r["clip_id"]: r["paths"] for r in rows}


def delete_clips(store: CatalogQueries, clip_ids: list[str]) -> int:
    """Remove the clips' rows: `clips` (every table with a foreign key follows) and the tables that name a clip
    without one (failures, ingest claims, the scanner's cache of its paths). One transaction."""
    with store.connect() as conn:
        for table, column in (("clip_failures", "clip_id"), ("ingest_claims", "clip_id"),
                              ("scanned_files", "fingerprint")):
            conn.execute(f"DELETE FROM {table} WHERE {column} = ANY(%s)", (list(clip_ids),))
        return conn.execute("DELETE FROM clips WHERE clip_id = ANY(%s)", (list(clip_ids),)).rowcount
