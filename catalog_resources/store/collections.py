"""SQL for collections (named sets of clips, `video-catalog collection ...`): a mixin of CatalogQueries.

A collection is found by its name without regard to case (sql/008 keeps names unique that way), as
`list --collection` finds its clips; the clips themselves are listed by `list_clips` with that filter, so a
collection's contents and `list --collection NAME` cannot disagree.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import psycopg

from catalog_resources.errors import UsageError

MAX_NAME = 200


class UnknownCollection(UsageError):
    """A collection name nobody created."""


def check_name(name: str) -> str:
    """The name as stored: stripped; empty, over-long or multi-line names are refused (they are typed again later)."""
    cleaned = name.strip()
    if not cleaned:
        raise UsageError("a collection needs a name, e.g. video-catalog collection create \"Project Alpha\"")
    if len(cleaned) > MAX_NAME or any(c in cleaned for c in "\r\n\t"):
        raise UsageError(f"collection name {cleaned[:40]!r}...: at most {MAX_NAME} characters on one line")
    return cleaned


class CollectionQueries:
    def connect(self) -> AbstractContextManager[psycopg.Connection]:  # provided by CatalogQueries
        raise NotImplementedError

    @staticmethod
    def _collection(conn: psycopg.Connection, name: str) -> dict[str, Any]:
        row = conn.execute("SELECT collection_id, name, description, created_at, updated_at FROM collections"
                           " WHERE lower(name) = lower(%s)", (name.strip(),)).fetchone()
        if row is None:
            known = [r["name"] for r in conn.execute("SELECT name FROM collections ORDER BY lower(name) LIMIT 8")]
            hint = f"; the collections are: {', '.join(known)}" if known else "; there are none yet"
            raise UnknownCollection(f"no collection named {name!r} (create it with: video-catalog collection create "
                                    f"{name!r}){hint}")
        return row

    def create_collection(self, name: str, description: str | None = None) -> dict[str, Any]:
        name = check_name(name)
        with self.connect() as conn:
            taken = conn.execute("SELECT name FROM collections WHERE lower(name) = lower(%s)", (name,)).fetchone()
            if taken:
                raise UsageError(f"collection {taken['name']!r} already exists")
            return conn.execute("INSERT INTO collections (name, description) VALUES (%s, %s)"
                                " RETURNING collection_id, name, description, created_at, updated_at",
                                (name, description)).fetchone()

    def collection_summaries(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every collection (or one) with its clip count, total duration and bytes, by name."""
        with self.connect() as conn:
            if name is not None:
                self._collection(conn, name)
            return conn.execute(
                """SELECT co.collection_id, co.name, co.description, co.created_at, co.updated_at,
                          count(cc.clip_id) AS clip_count, coalesce(sum(x.duration_seconds), 0) AS duration_seconds,
                          coalesce(sum(c.size_bytes), 0)::bigint AS size_bytes
                   FROM collections co LEFT JOIN collection_clips cc USING (collection_id)
                   LEFT JOIN clips c ON c.clip_id = cc.clip_id LEFT JOIN clip_facts x ON x.clip_id = cc.clip_id
                   WHERE %(name)s::text IS NULL OR lower(co.name) = lower(%(name)s)
                   GROUP BY co.collection_id ORDER BY lower(co.name)""", {"name": name and name.strip()}).fetchall()

    def rename_collection(self, old: str, new: str) -> dict[str, Any]:
        new = check_name(new)
        with self.connect() as conn:
            row = self._collection(conn, old)
            clash = conn.execute("SELECT name FROM collections WHERE lower(name) = lower(%s) AND collection_id <> %s",
                                 (new, row["collection_id"])).fetchone()
            if clash:
                raise UsageError(f"cannot rename {row['name']!r} to {new!r}: collection {clash['name']!r} exists")
            conn.execute("UPDATE collections SET name = %s, updated_at = now() WHERE collection_id = %s",
                         (new, row["collection_id"]))
            return {**row, "old_name": row["name"], "name": new}

    def delete_collection(self, name: str) -> dict[str, Any]:
        """The collection gone with its memberships; the clips stay cataloged."""
        with self.connect() as conn:
            row = self._collection(conn, name)
            clips = conn.execute("SELECT count(*) AS n FROM collection_clips WHERE collection_id = %s",
                                 (row["collection_id"],)).fetchone()["n"]
            conn.execute("DELETE FROM collections WHERE collection_id = %s", (row["collection_id"],))
            return {**row, "clip_count": clips}

    def add_to_collection(self, name: str, clip_ids: list[str]) -> dict[str, Any]:
        """{collection, added: [...], already: [...]}; adding a clip twice changes nothing."""
        with self.connect() as conn:
            row = self._collection(conn, name)
            added = [r["clip_id"] for r in conn.execute(
                "INSERT INTO collection_clips (collection_id, clip_id) SELECT %s, unnest(%s::text[])"
                " ON CONFLICT DO NOTHING RETURNING clip_id", (row["collection_id"], clip_ids))]
            if added:
                conn.execute("UPDATE collections SET updated_at = now() WHERE collection_id = %s", (row["collection_id"],))
        return {"collection": row["name"], "added": sorted(added),
                "already": sorted(set(clip_ids) - set(added))}

    def remove_from_collection(self, name: str, clip_ids: list[str]) -> dict[str, Any]:
        """{collection, removed: [...], absent: [...]}: clips that were not in it are named, not an error."""
        with self.connect() as conn:
            row = self._collection(conn, name)
            removed = [r["clip_id"] for r in conn.execute(
                "DELETE FROM collection_clips WHERE collection_id = %s AND clip_id = ANY(%s) RETURNING clip_id",
                (row["collection_id"], clip_ids))]
            if removed:
                conn.execute("UPDATE collections SET updated_at = now() WHERE collection_id = %s", (row["collection_id"],))
        return {"collection": row["name"], "removed": sorted(removed),
                "absent": sorted(set(clip_ids) - set(removed))}

    def clip_collections(self, clip_ids: list[str]) -> dict[str, list[str]]:
        """{clip id: names of the collections holding it}."""
        with self.connect() as conn:
            rows = conn.execute("SELECT cc.clip_id, co.name FROM collection_clips cc JOIN collections co"
                                " USING (collection_id) WHERE cc.clip_id = ANY(%s) ORDER BY lower(co.name)",
                                (clip_ids,)).fetchall()
        found: dict[str, list[str]] = {}
        for r in rows:
            found.setdefault(r["clip_id"], []).append(r["name"])
        return found
