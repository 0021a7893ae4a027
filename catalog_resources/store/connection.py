"""Connections to the catalog database: one kept open per URL, process and thread, and the one error a user
reads when the server cannot be reached."""

from __future__ import annotations

import os
import threading
import time

import psycopg
from psycopg.rows import dict_row

from catalog_resources.errors import SetupError

_connections: dict[tuple[str, int, int], tuple[psycopg.Connection, float]] = {}
IDLE_PING_SECONDS = 5.0  # a connection idle longer is pinged first: the server may have restarted


class DatabaseUnavailable(SetupError, RuntimeError):
    """The catalog database cannot be reached; the message names the URL's host and the fix."""


SESSION_ROLE_PREFIX = "vcs_"  # a login session's role (auth/session.py, sql/016): its password is the access token


def _session_password(database_url: str) -> dict[str, str]:
    """The access token for a URL that names a login session without a password (auth/session.py renews it when
    near its end), as connect() keyword arguments; nothing for any other URL."""
    params = psycopg.conninfo.conninfo_to_dict(database_url)
    user = str(params.get("user") or "")
    if not user.startswith(SESSION_ROLE_PREFIX) or params.get("password"):
        return {}
    from catalog_resources.auth.session import password_for

    token = password_for(user)
    return {"password": token} if token else {}


def _open(database_url: str) -> psycopg.Connection:
    """A new connection (rows as dicts), or DatabaseUnavailable with the server's first line of complaint."""
    try:
        return psycopg.connect(database_url, row_factory=dict_row, connect_timeout=10, **_session_password(database_url))
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(
            f"cannot connect to the catalog database ({first}); "
            "start it with `video-catalog db start` or check VIDEO_CATALOG_DATABASE_URL"
        ) from exc


def own_connection(database_url: str) -> psycopg.Connection:
    """A connection of the caller's alone (not the one kept per thread), autocommit: what holds a session-level
    advisory lock, released when it closes or when its process dies."""
    conn = _open(database_url)
    conn.autocommit = True
    return conn


def _connection(database_url: str) -> psycopg.Connection:
    """One open connection per URL, process and thread; replaced when closed or broken."""
    key = (database_url, os.getpid(), threading.get_ident())
    conn, last_used = _connections.get(key, (None, 0.0))
    now = time.monotonic()
    if conn is not None and not (conn.closed or conn.broken) and now - last_used > IDLE_PING_SECONDS:
        try:
            conn.execute("SELECT 1")
            conn.rollback()
        except psycopg.Error:
            conn.close()
    if conn is None or conn.closed or conn.broken:
        conn = _open(database_url)
    _connections[key] = (conn, now)
    return conn
