"""Logins to the web catalog of a shared catalog (team mode): each person signs in with their e-mail and password,
and every page, API answer and media file is then read as them, so row-level security (sql/014) shows them only
their own footage, exactly as the CLI does.

A login is the CLI's session (catalog_resources/auth/session.py: the password proven to the server with a SCRAM
proof, sql/018's wait after wrong ones). The server keeps it in memory; the browser holds only a random id in a
cookie (HttpOnly, SameSite=Lax), never a token. Tokens are renewed before they run out while the person uses the
pages; logging out ends the session on the database server. A restart of `video-catalog web` asks everyone to log
in again.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from catalog_cli.web.csrf import checked_form
from catalog_cli.web.service import WebCatalog
from catalog_resources.auth.session import (
    LoginRefused, Session, SessionError, end, near_end, open_session, refreshed,
)
from catalog_resources.errors import UsageError

COOKIE = "vc_login"
IDLE_SECONDS = 12 * 3600  # a login unused this long is forgotten (its session ends on the server)
router = APIRouter(include_in_schema=False)


@dataclass
class Login:
    session: Session
    catalog: WebCatalog
    last_seen: float


class LoginNeeded(HTTPException):
    """No login (or an ended one) on a page that needs it: pages redirect to /login, /api and /media answer 401."""

    def __init__(self, target: str) -> None:
        super().__init__(401, "Log in first: /login")
        self.target = target


class Logins:
    """The logins of one web server, by cookie id; `server` is the catalog's HOST:PORT (TCP, password logins)."""

    def __init__(self, server: str, embedder=None) -> None:
        self.server, self.embedder = server, embedder
        self._by_id: dict[str, Login] = {}
        self._lock = threading.Lock()

    def open(self, email: str, password: str) -> tuple[str, Session]:
        """A new login (LoginRefused for a wrong password, or one tried too soon); its cookie id and session."""
        session = open_session(self.server, email, password)
        login_id = secrets.token_urlsafe(32)
        with self._lock:
            self._by_id[login_id] = Login(session, WebCatalog(session.url(with_token=True), self.embedder), time.time())
        return login_id, session

    def catalog(self, login_id: str | None) -> WebCatalog | None:
        """The catalog as the person of this login, its token renewed first when near its end; None when there is
        no such login or its session has ended (logged out elsewhere, disabled, expired)."""
        with self._lock:
            login = self._by_id.get(login_id or "")
            if login is None:
                return None
            if time.time() - login.last_seen > IDLE_SECONDS:
                self._by_id.pop(login_id, None)
                end(login.session, keep_file=True)
                return None
            if near_end(login.session):
                try:
                    login.session = refreshed(login.session)
                except SessionError:
                    self._by_id.pop(login_id, None)
                    return None
                login.catalog = WebCatalog(login.session.url(with_token=True), self.embedder)
            login.last_seen = time.time()
            return login.catalog

    def email(self, login_id: str | None) -> str | None:
        login = self._by_id.get(login_id or "")
        return login.session.email if login else None

    def close(self, login_id: str | None) -> None:
        """Log out: the session ends on the server (its connections closed) and is forgotten here."""
        with self._lock:
            login = self._by_id.pop(login_id or "", None)
        if login is not None:
            end(login.session, keep_file=True)


def catalog_of(request: Request) -> WebCatalog:
    """The catalog a request reads: the one catalog, or, with logins, the logged-in person's (else LoginNeeded)."""
    logins: Logins | None = request.app.state.logins
    if logins is None:
        return request.app.state.catalog
    found = logins.catalog(request.cookies.get(COOKIE))
    if found is None:
        raise LoginNeeded(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return found


def login_needed(request: Request, exc: LoginNeeded) -> Response:
    """Pages go to the login form (and back after it); the API and media answer 401."""
    if request.url.path.startswith(("/api/", "/media/")):
        return Response("log in first: /login", status_code=401, media_type="text/plain")
    return RedirectResponse(f"/login?next={quote(exc.target, safe='')}", status_code=303)


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/"
    return target


def _form(request: Request, message: str | None = None, email: str = "", target: str = "/", status: int = 200):
    from catalog_cli.web.pages import render

    return render(request, "login.html", {"error": message, "email": email, "next": target, "active": "login"},
                  status)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002 - the query parameter's name
    return _form(request, target=_safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    fields = await checked_form(request)
    email, password = fields.get("email", "").strip().lower(), fields.get("password", "")
    target = _safe_next(fields.get("next"))
    if not email or not password:
        return _form(request, "Give your e-mail address and password.", email, target, 400)
    try:
        login_id, _session = await run_in_threadpool(request.app.state.logins.open, email, password)
    except LoginRefused as exc:
        return _form(request, exc.reason[:1].upper() + exc.reason[1:] + ".", email, target, 401)
    except UsageError:
        return _form(request, "The catalog's database server does not answer; try again in a moment.", email,
                     target, 503)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, login_id, httponly=True, samesite="lax", path="/", secure=request.url.scheme == "https")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    await checked_form(request)
    await run_in_threadpool(request.app.state.logins.close, request.cookies.get(COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
