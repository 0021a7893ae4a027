"""`relink`: a clip's recorded path moved from one prefix to another (a drive mounted elsewhere). Every table
that names the path changes in one transaction; nothing is re-processed."""

from __future__ import annotations

from catalog_resources.store.catalog import CatalogQueries


def relink_paths(store: CatalogQueries, moves: list[tuple[str, str, str]]) -> int:
    """Apply (clip id, old path, new path) moves. A new path the clip already has just drops the old row."""
    changed = 0
    with store.connect() as conn:
        for clip_id, old, new in moves:
            taken = conn.execute("SELECT 1 FROM clip_sources WHERE clip_id = %s AND path = %s",
                                 (clip_id, new)).fetchone()
            if taken:
                conn.execute("DELETE FROM clip_sources WHERE clip_id = %s AND path = %s", (clip_id, old))
                conn.execute("UPDATE clip_sources SET online = true, last_seen = now() WHERE clip_id = %s AND path = %s",
                             (clip_id, new))
            else:
                conn.execute("UPDATE clip_sources SET path = %s, online = true, last_seen = now() "
                             "WHERE clip_id = %s AND path = %s", (new, clip_id, old))
            conn.execute("UPDATE clips SET path = %s, updated_at = now() WHERE clip_id = %s AND path = %s",
                         (new, clip_id, old))
            conn.execute("UPDATE catalog_records SET path = CASE WHEN path = %(old)s THEN %(new)s ELSE path END, "
                         "paths = array_replace(paths, %(old)s, %(new)s) WHERE clip_id = %(id)s",
                         {"old": old, "new": new, "id": clip_id})
            conn.execute("DELETE FROM scanned_files WHERE path = %s AND EXISTS (SELECT 1 FROM scanned_files "
                         "WHERE path = %s)", (old, new))
            conn.execute("UPDATE scanned_files SET path = %s WHERE path = %s", (new, old))
            changed += 1
    return changed
