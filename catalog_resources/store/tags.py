"""SQL for tags set and reviewed by people (`video-catalog tag ...`): a mixin of CatalogQueries.

Every tag of a clip carries its source: `user` (typed here), `ai` (the analysis' keywords) or `visual` (what the
offline analyzer saw, frame_analysis); the analysis writes its own with `replace_tags` (store/analysis.py). A
machine tag can be accepted or rejected (`review`, sql/008): the analysis re-running replaces only unreviewed
tags, so a rejection is remembered, and a rejected tag matches no filter (`list --tag`) and no search.
Names are stored lower-case, as `list --tag` and the analysis compare them.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Literal

import psycopg

from catalog_resources.errors import UsageError

Review = Literal["accepted", "rejected"]
MAX_TAG = 100


def tag_names(names: list[str]) -> list[str]:
    """Comma-separated tag lists as one list of clean lower-case names (order kept, duplicates dropped)."""
    found = [part.strip().lower() for name in names for part in name.split(",")]
    found = [n for n in dict.fromkeys(found) if n]
    if not found:
        raise UsageError("no tag given; write the tags comma-separated, e.g. video-catalog tag add \"interview,primary\" "
                         "--clip-id 3f9a2c1d")
    bad = [n for n in found if len(n) > MAX_TAG or any(c in n for c in "\r\n\t")]
    if bad:
        raise UsageError(f"tag {bad[0][:40]!r}: at most {MAX_TAG} characters on one line")
    return found


class TagQueries:
    def connect(self) -> AbstractContextManager[psycopg.Connection]:  # provided by CatalogQueries
        raise NotImplementedError

    def add_user_tags(self, clip_ids: list[str], names: list[str]) -> dict[str, Any]:
        """The tags on every clip as the user's own: a machine tag of the same name becomes the user's (a person said
        so), a rejected one is taken back. {"added": [(clip, tag)...], "already": [...]}."""
        pairs = [(c, n) for c in clip_ids for n in names]
        with self.connect() as conn:
            conn.execute("INSERT INTO tags (name) SELECT unnest(%s::text[]) ON CONFLICT (owner, name) DO NOTHING", (names,))
            before = {(r["clip_id"], r["name"]) for r in conn.execute(
                "SELECT ct.clip_id, t.name FROM clip_tags ct JOIN tags t USING (tag_id)"
                " WHERE ct.clip_id = ANY(%s) AND t.name = ANY(%s) AND ct.source = 'user'", (clip_ids, names))}
            conn.execute(
                """INSERT INTO clip_tags (clip_id, tag_id, source)
                   SELECT c, t.tag_id, 'user' FROM unnest(%s::text[]) AS c CROSS JOIN tags t WHERE t.name = ANY(%s)
                   ON CONFLICT (clip_id, tag_id) DO UPDATE SET source = 'user', review = NULL, reviewed_at = NULL""",
                (clip_ids, names))
        return {"added": [{"clip_id": c, "tag": n} for c, n in pairs if (c, n) not in before],
                "already": [{"clip_id": c, "tag": n} for c, n in pairs if (c, n) in before]}

    def remove_tags(self, clip_ids: list[str], names: list[str]) -> dict[str, Any]:
        """The user's own tags deleted; a machine tag is rejected instead (deleted, the next analysis would bring it
        back). {"removed": [...], "rejected": [...], "absent": [...]}."""
        with self.connect() as conn:
            removed = conn.execute(
                """DELETE FROM clip_tags ct USING tags t WHERE t.tag_id = ct.tag_id AND ct.clip_id = ANY(%s)
                   AND t.name = ANY(%s) AND ct.source = 'user' RETURNING ct.clip_id, t.name AS tag""",
                (clip_ids, names)).fetchall()
            rejected = self._review(conn, clip_ids, names, "rejected")
        done = {(r["clip_id"], r["tag"]) for r in removed + rejected}
        return {"removed": sorted(removed, key=_key), "rejected": sorted(rejected, key=_key),
                "absent": [{"clip_id": c, "tag": n} for c in clip_ids for n in names if (c, n) not in done]}

    def review_tags(self, clip_ids: list[str] | None, names: list[str], verdict: Review) -> list[dict[str, Any]]:
        """Machine tags (source other than user) accepted or rejected on these clips (None: every clip that has
        them); [{clip_id, tag, source}] of the rows changed or confirmed."""
        with self.connect() as conn:
            return sorted(self._review(conn, clip_ids, names, verdict), key=_key)

    @staticmethod
    def _review(conn: psycopg.Connection, clip_ids: list[str] | None, names: list[str], verdict: Review) -> list[dict]:
        return conn.execute(
            """UPDATE clip_tags ct SET review = %(verdict)s, reviewed_at = now() FROM tags t
               WHERE t.tag_id = ct.tag_id AND t.name = ANY(%(names)s) AND ct.source <> 'user'
                 AND (%(all)s OR ct.clip_id = ANY(%(ids)s))
               RETURNING ct.clip_id, t.name AS tag, ct.source""",
            {"verdict": verdict, "names": names, "all": clip_ids is None, "ids": clip_ids or []}).fetchall()

    def tag_rows(self, clip_ids: list[str] | None = None, source: str | None = None,
                 review: str | None = None) -> list[dict[str, Any]]:
        """One row per (clip, tag): name, source, review ("accepted", "rejected" or None for unreviewed)."""
        with self.connect() as conn:
            return conn.execute(
                """SELECT ct.clip_id, c.file_name, t.name AS tag, ct.source, ct.review, ct.added_at, ct.reviewed_at
                   FROM clip_tags ct JOIN tags t USING (tag_id) JOIN clips c ON c.clip_id = ct.clip_id
                   WHERE (%(ids)s::text[] IS NULL OR ct.clip_id = ANY(%(ids)s))
                     AND (%(source)s::text IS NULL OR ct.source = %(source)s)
                     AND (%(review)s::text IS NULL OR coalesce(ct.review, 'unreviewed') = %(review)s)
                   ORDER BY c.file_name, ct.clip_id, ct.source, t.name""",
                {"ids": clip_ids, "source": source, "review": review}).fetchall()

    def tag_counts(self, source: str | None = None, review: str | None = None) -> list[dict[str, Any]]:
        """Each tag with how many clips carry it, per source; rejected ones counted apart."""
        with self.connect() as conn:
            return conn.execute(
                """SELECT t.name AS tag, ct.source,
                          count(*) FILTER (WHERE ct.review IS DISTINCT FROM 'rejected') AS clips,
                          count(*) FILTER (WHERE ct.review = 'accepted') AS accepted,
                          count(*) FILTER (WHERE ct.review = 'rejected') AS rejected,
                          count(*) FILTER (WHERE ct.review IS NULL AND ct.source <> 'user') AS unreviewed
                   FROM clip_tags ct JOIN tags t USING (tag_id)
                   WHERE (%(source)s::text IS NULL OR ct.source = %(source)s)
                     AND (%(review)s::text IS NULL OR coalesce(ct.review, 'unreviewed') = %(review)s)
                   GROUP BY t.name, ct.source ORDER BY count(*) DESC, t.name, ct.source""",
                {"source": source, "review": review}).fetchall()


def _key(row: dict[str, Any]) -> tuple[str, str]:
    return row["clip_id"], row["tag"]
