"""What an export to editing software reads: the clips of a collection, and per clip the facts a timeline needs
(its paths, frame rate, duration, frame count, start timecode, reel)."""

from __future__ import annotations

from typing import Any

from catalog_resources.store.catalog import CatalogQueries


def collection_clip_ids(store: CatalogQueries, name: str) -> list[str] | None:
    """The collection's clips in the order they were added; None when there is no collection of that name."""
    with store.connect() as conn:
        found = conn.execute("SELECT collection_id FROM collections WHERE lower(name) = lower(%s)", (name,)).fetchone()
        if found is None:
            return None
        rows = conn.execute(
            "SELECT cc.clip_id FROM collection_clips cc JOIN clips c USING (clip_id) WHERE cc.collection_id = %s "
            "ORDER BY cc.added_at, c.file_name, cc.clip_id", (found["collection_id"],))
        return [r["clip_id"] for r in rows]


def collection_names(store: CatalogQueries) -> list[str]:
    with store.connect() as conn:
        return [r["name"] for r in conn.execute("SELECT name FROM collections ORDER BY name")]


def timeline_facts(store: CatalogQueries, clip_ids: list[str]) -> dict[str, dict[str, Any]]:
    """clip id -> file name, paths (online first, most recently seen first), frame rate, duration, frame count,
    timecode and reel (the reconciled technical metadata where there is some, else the scan's)."""
    if not clip_ids:
        return {}
    with store.connect() as conn:
        rows = conn.execute(
            """SELECT c.clip_id, c.file_name, c.path,
                      coalesce(t.frame_rate, c.frame_rate) AS frame_rate,
                      coalesce(t.duration_seconds, c.duration_seconds) AS duration_seconds,
                      t.frame_count, t.timecode, t.details ->> 'reel_name' AS reel,
                      coalesce((SELECT array_agg(s.path ORDER BY s.online DESC, s.last_seen DESC, s.path)
                                FROM clip_sources s WHERE s.clip_id = c.clip_id), ARRAY[c.path]) AS paths
               FROM clips c LEFT JOIN technical_metadata t USING (clip_id)
               WHERE c.clip_id = ANY(%s)""", (list(clip_ids),))
        return {r["clip_id"]: r for r in rows}
