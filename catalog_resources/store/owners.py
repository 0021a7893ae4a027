"""Who the catalog is acting for (sql/014): a mixin of CatalogQueries (which provides `connect`).

The database decides: the role the connection logged in as owns what it writes, and row-level security shows it
only its own rows (an admin all). Here are the few questions the program itself must ask about that.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import psycopg


class OwnerQueries:
    def connect(self) -> AbstractContextManager[psycopg.Connection]:  # provided by CatalogQueries
        raise NotImplementedError

    def fingerprint_key(self) -> bytes:
        """The key of this user's clip ids (media/fingerprint.py): none for the catalog's first owner and for a
        superuser (the local account of the embedded server), so their ids are the plain content fingerprints;
        every other user's role name, so the same file is another clip of their own."""
        with self.connect() as conn:
            row = conn.execute("""SELECT CASE WHEN current_user = o.role_name OR r.rolsuper THEN '' ELSE current_user END
                                  AS key FROM catalog_owner o JOIN pg_roles r ON r.rolname = current_user""").fetchone()
        return (row["key"] if row else "").encode()

    # ---- users of a shared catalog (team mode) ---------------------------------------------------------

    def team_state(self) -> dict:
        """{'team': bool, 'owner': the first owner's role, 'me': the connection's role, 'admin': is it one}."""
        with self.connect() as conn:
            return dict(conn.execute("""SELECT o.team, o.role_name AS owner, current_user AS me,
                                               catalog_caller_is_admin() AS admin FROM catalog_owner o""").fetchone())

    def add_user(self, email: str, role: str, verifier: str, admin: bool = False) -> None:
        with self.connect() as conn:
            conn.execute("SELECT catalog_add_user(%s, %s, %s, %s)", (email, role, verifier, admin))

    def hand_over(self, role: str) -> int:
        """`auth init`: every row of the catalog as it was now belongs to `role` (the first admin)."""
        with self.connect() as conn:
            return conn.execute("SELECT catalog_hand_over(%s) AS moved", (role,)).fetchone()["moved"]

    def users(self) -> list[dict]:
        """Every user an admin may see (a user sees only their own row)."""
        with self.connect() as conn:
            return list(conn.execute("""SELECT u.email, u.role_name, u.is_admin, u.disabled_at, u.created_at,
                                               (SELECT count(*) FROM clips c WHERE c.owner = u.role_name) AS clips
                                        FROM catalog_users u ORDER BY u.created_at, u.email"""))

    def set_admin(self, email: str, admin: bool) -> None:
        with self.connect() as conn:
            conn.execute("SELECT catalog_set_admin(%s, %s)", (email, admin))

    def set_password(self, email: str, verifier: str) -> int:
        """A new password (its verifier) for the user; returns how many of their sessions ended."""
        with self.connect() as conn:
            return conn.execute("SELECT catalog_set_password(%s, %s) AS ended", (email, verifier)).fetchone()["ended"]

    def disable_user(self, email: str) -> int:
        """The user can no longer log in; returns how many of their connections were closed."""
        with self.connect() as conn:
            return conn.execute("SELECT catalog_disable_user(%s) AS closed", (email,)).fetchone()["closed"]
