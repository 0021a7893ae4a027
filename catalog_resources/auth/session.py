"""A login session on this machine: `auth login` writes it, every connection to a shared catalog reads it.

The file (`~/.video_ingest_auth.json`, or VIDEO_CATALOG_AUTH_FILE) holds the session's login role, its access
token (that role's password, valid for ACCESS_SECONDS) and its refresh token; it is written 0600 and refused when
anyone else may read it. The catalog URL the program uses names the session role without a password
(`postgresql://vcs_...@host:port/video_catalog?options=-c role=vc_anna_...`): the password is added here at each
connect, after renewing the access token when it is near its end, so tokens never sit in a URL, a setting, a
Dagster run's config or a log line. The server keeps only SCRAM verifiers and the refresh token's SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, urlsplit

from pydantic import BaseModel

from catalog_resources.auth.scram import client_proof, scram_verifier
from catalog_resources.errors import SetupError, UsageError
from catalog_resources.files import write_atomic

ACCESS_SECONDS = int(os.environ.get("VIDEO_CATALOG_ACCESS_SECONDS", "900"))  # 15 minutes
REFRESH_SECONDS = 30 * 24 * 3600
RENEW_BEFORE = 0.25  # of the access token's life: renewed when less than this is left
USER_TAG = "video_catalog/user"  # the run tag naming the user a run writes as
AUTH_ROLE, AUTH_PASSWORD = "catalog_auth", "catalog_auth"  # public: it may only call catalog_refresh_session
_lock = threading.Lock()


class SessionError(SetupError):
    """No usable session: not logged in, logged out, ended by an admin, or a token file others can read."""


class Session(BaseModel):
    host: str
    port: int
    database: str
    email: str
    user_role: str
    session_role: str
    access_token: str
    access_expires: datetime
    refresh_token: str
    refresh_expires: datetime

    def url(self, with_token: bool = False) -> str:
        """The catalog URL without a password (added at connect time by `password_for`); `with_token`: with the
        access token as its password, for a process that holds several sessions (the web catalog's logins)."""
        user = f"{self.session_role}:{self.access_token}" if with_token else self.session_role
        return f"postgresql://{user}@{self.host}:{self.port}/{self.database}?options={quote(f'-c role={self.user_role}')}"


def auth_file() -> Path:
    return Path(os.environ.get("VIDEO_CATALOG_AUTH_FILE") or Path.home() / ".video_ingest_auth.json")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load() -> Session | None:
    """The saved session, or None when there is none; SessionError when others could read it."""
    path = auth_file()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SessionError(f"{path} can be read by others (mode {stat.S_IMODE(mode):o}): it holds login tokens, so it "
                           f"is not used; run `chmod 600 {path}` if only you could have read it, else `video-catalog "
                           "auth logout` and log in again")
    return Session.model_validate(json.loads(path.read_text()))


def user_tags() -> dict[str, str]:
    """A run's tag naming the user whose rows it writes (their e-mail, never a token), when this machine is logged
    in to a shared catalog and no VIDEO_CATALOG_DATABASE_URL overrides the session; else no tag."""
    if os.environ.get("VIDEO_CATALOG_DATABASE_URL") or (session := load()) is None:
        return {}
    return {USER_TAG: session.email}


def save(session: Session) -> None:
    write_atomic(auth_file(), session.model_dump_json(indent=2), mode=0o600)


def forget() -> None:
    auth_file().unlink(missing_ok=True)


def _connect(host: str, port: int, database: str, user: str, password: str, **options):
    import psycopg
    from psycopg.rows import dict_row

    return psycopg.connect(host=host, port=port, dbname=database, user=user, password=password,
                           row_factory=dict_row, connect_timeout=10, autocommit=True, **options)


class LoginRefused(UsageError):
    """A wrong e-mail or password, or a try too soon after several wrong ones (the wait is the server's).
    `reason` is the message without the server's address (what a web page shows)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def open_session(server: str, email: str, password: str, access_seconds: int = ACCESS_SECONDS) -> Session:
    """Prove the password to the server (sql/018: a SCRAM proof over a one-time challenge, as the public role
    catalog_auth; the password itself never leaves this process) and open a session. Not saved: see `login`."""
    import psycopg

    parts = urlsplit(server if "://" in server else f"postgresql://{server}")
    host, port, database = parts.hostname or "127.0.0.1", parts.port or 5432, (parts.path.strip("/") or "video_catalog")
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    try:
        with _connect(host, port, database, AUTH_ROLE, AUTH_PASSWORD) as conn:
            challenge = conn.execute("SELECT * FROM catalog_login_challenge(%s)", (email,)).fetchone()
            proof = client_proof(password, challenge["salt"], challenge["iterations"], f"{email},{challenge['nonce']}")
            row = conn.execute("SELECT * FROM catalog_login(%s, %s, %s, %s, %s, %s, %s)",
                               (email, challenge["nonce"], proof, scram_verifier(access), _hash(refresh),
                                access_seconds, REFRESH_SECONDS)).fetchone()
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"cannot log in as {email} at {host}:{port} ({first})") from exc
    except psycopg.errors.UndefinedFunction as exc:
        raise UsageError(f"{host}:{port} is not a shared catalog (or an older one: run `video-catalog db migrate` "
                         "there)") from exc
    if row["outcome"] == "wait":
        reason = f"too many wrong passwords for {email}: try again in {row['wait_seconds']} s"
        raise LoginRefused(reason, reason)
    if row["outcome"] != "ok":
        wait = f"; the next try is possible in {row['wait_seconds']} s" if row["wait_seconds"] else ""
        reason = f"wrong e-mail or password, or a disabled account{wait}"
        raise LoginRefused(f"cannot log in as {email} at {host}:{port}: {reason}", reason)
    return Session(host=host, port=port, database=database, email=email, user_role=row["user_role"],
                   session_role=row["session_role"], access_token=access, access_expires=row["access_expires"],
                   refresh_token=refresh, refresh_expires=row["refresh_expires"])


def login(server: str, email: str, password: str) -> Session:
    """`auth login`: a new session, saved to the auth file."""
    session = open_session(server, email, password)
    save(session)
    return session


def refreshed(session: Session) -> Session:
    """The session with a new access and refresh token (through the public catalog_auth role); not saved."""
    import psycopg

    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    try:
        with _connect(session.host, session.port, session.database, AUTH_ROLE, AUTH_PASSWORD) as conn:
            expires = conn.execute(
                "SELECT catalog_refresh_session(%s, %s, %s, %s, %s) AS e",
                (session.session_role, _hash(session.refresh_token), _hash(refresh), scram_verifier(access),
                 ACCESS_SECONDS)).fetchone()["e"]
    except psycopg.errors.InvalidAuthorizationSpecification as exc:
        raise SessionError(f"the session of {session.email} has ended (logged out, expired or disabled): "
                           "run `video-catalog auth login`") from exc
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SessionError(f"cannot renew the session at {session.host}:{session.port} ({first})") from exc
    return session.model_copy(update={"access_token": access, "access_expires": expires, "refresh_token": refresh})


def renew(session: Session) -> Session:
    """`refreshed`, saved to the auth file."""
    renewed = refreshed(session)
    save(renewed)
    return renewed


def near_end(session: Session) -> bool:
    """Is the access token within the last quarter of its life (renewed then, before a connection needs it)?"""
    return session.access_expires - datetime.now(timezone.utc) < timedelta(seconds=ACCESS_SECONDS * RENEW_BEFORE)


def password_for(user: str) -> str | None:
    """The access token for a connection as session role `user`, renewed first when near its end; None when the
    saved session is another one (the URL then needs its own password)."""
    with _lock:
        session = load()
        if session is None or session.session_role != user:
            return None
        if near_end(session):
            session = renew(session)
        return session.access_token


def end(session: Session, keep_file: bool = False) -> int:
    """`auth logout`: the server ends the session (and closes its other connections); the file goes (unless
    `keep_file`: a new session has just replaced it there)."""
    import psycopg

    closed = 0
    try:
        token = session.access_token
        if session.access_expires - datetime.now(timezone.utc) < timedelta(seconds=5):
            token = renew(session).access_token if not keep_file else token
        with _connect(session.host, session.port, session.database, session.session_role, token,
                      options=f"-c role={session.user_role}") as conn:
            closed = conn.execute("SELECT catalog_logout() AS n").fetchone()["n"]
    except (psycopg.Error, SessionError):
        pass  # ended already, or the server is away: the tokens go from this machine all the same
    if not keep_file:
        forget()
    return closed
