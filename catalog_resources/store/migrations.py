"""The schema: the numbered sql files shipped with the package, and applying those not yet recorded.

A mixin of CatalogQueries (which provides `connect` and `_dedicated`), like the other store modules.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import psycopg
from pydantic import BaseModel

from catalog_resources.errors import SetupError

# The migrations ship inside the package (catalog_resources/sql links to the top-level sql/, the wheel holds
# copies), so an installed wheel migrates from what it was built with, never from a source tree nearby.
SQL_DIR: Traversable = resources.files("catalog_resources") / "sql"
MIGRATION_NAME = re.compile(r"[0-9]{3}_.+\.sql")
MIGRATION_LOCK_ID = 7_300_001  # pg_advisory_xact_lock key: concurrent `migrate` calls apply each file once


class Migration(BaseModel):
    version: int
    name: str
    checksum: str
    applied_at: datetime | None = None


class MigrationsMissing(SetupError, RuntimeError):
    """No migration files where the package keeps them: a broken install, which must not pass as "up to date"."""


class MigrationNotAllowed(SetupError, RuntimeError):
    """The schema needs a migration and the connected user of a shared catalog may not apply it."""


def available_migrations(sql_dir: Traversable = SQL_DIR) -> list[tuple[Migration, str]]:
    """The numbered sql files in order; raises MigrationsMissing when there are none (an install without its
    data would otherwise migrate nothing and carry on against an empty database)."""
    try:
        paths = sorted((p for p in sql_dir.iterdir() if MIGRATION_NAME.fullmatch(p.name)), key=lambda p: p.name)
    except (FileNotFoundError, NotADirectoryError):
        paths = []
    if not paths:
        raise MigrationsMissing(
            f"no migrations (NNN_*.sql) found in {sql_dir}: this install of video-catalog is incomplete; reinstall it"
        )
    found = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        name = path.name.removesuffix(".sql")
        version = int(name.split("_", 1)[0])
        found.append((Migration(version=version, name=name, checksum=hashlib.sha256(text.encode()).hexdigest()), text))
    return found


class MigrationQueries:
    def connect(self) -> AbstractContextManager[psycopg.Connection]:  # provided by CatalogQueries
        raise NotImplementedError

    def _dedicated(self) -> AbstractContextManager[psycopg.Connection]:  # provided by CatalogQueries
        raise NotImplementedError

    @contextmanager
    def exclusively(self, lock_id: int) -> Iterator[psycopg.Connection]:
        """Hold the session advisory lock `lock_id` on a connection of its own: one process at a time runs a
        one-off job (applying migrations, renaming the Dagster partitions of an older catalog)."""
        with self._dedicated() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (lock_id,))
            try:
                yield conn
            finally:
                if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
                    conn.rollback()  # a failed statement left the transaction aborted: unlock outside it
                conn.execute("SELECT pg_advisory_unlock(%s)", (lock_id,))
                conn.commit()

    def migrate(self) -> list[Migration]:
        """Apply the numbered files in sql/ not yet recorded; each in its own transaction. A user of a shared
        catalog may not change its schema (sql/014): when nothing is pending, nothing is asked of the server."""
        if not self._pending():
            return []
        applied: list[Migration] = []
        with self.exclusively(MIGRATION_LOCK_ID) as conn:
            try:
                conn.execute(
                    """CREATE TABLE IF NOT EXISTS schema_migrations (
                        version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,
                        applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"""
                )
            except psycopg.errors.InsufficientPrivilege as exc:
                raise MigrationNotAllowed(
                    "the catalog's schema is older than this program and this user may not change it: an admin runs "
                    "`video-catalog db migrate` on the catalog's machine") from exc
            conn.commit()
            done = {row["version"] for row in conn.execute("SELECT version FROM schema_migrations")}
            for migration, text in available_migrations():
                if migration.version in done:
                    continue
                with conn.transaction():
                    conn.execute(text)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                applied.append(migration)
        return applied

    def _pending(self) -> bool:
        """Are there migrations this catalog has not recorded (or no record at all)? On a connection of its own,
        closed after: the thread's kept connection would hold a template database open (CREATE DATABASE ...
        TEMPLATE refuses a template in use)."""
        with self._dedicated() as conn:
            if conn.execute("SELECT to_regclass('schema_migrations') AS t").fetchone()["t"] is None:
                return True
            done = {row["version"] for row in conn.execute("SELECT version FROM schema_migrations")}
        return any(m.version not in done for m, _text in available_migrations())

    def applied_migrations(self) -> list[Migration]:
        with self.connect() as conn:
            exists = conn.execute("SELECT to_regclass('schema_migrations') AS t").fetchone()["t"]
            if exists is None:
                return []
            rows = conn.execute("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
            return [Migration(**row) for row in rows]

    def server_status(self) -> dict[str, Any]:
        """The server's and pgvector's versions and the database's size, for `db status`."""
        with self.connect() as conn:
            row = conn.execute(
                """SELECT current_setting('server_version') AS server_version,
                          (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS pgvector_version,
                          (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS pgvector_available,
                          pg_database_size(current_database()) AS database_bytes,
                          current_database() AS database"""
            ).fetchone()
        return dict(row)
