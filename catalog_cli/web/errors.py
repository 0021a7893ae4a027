"""How the web catalog answers what goes wrong: an unknown clip or page is a 404 page, an unreachable database
a 503 page naming the fix, each as JSON under /api/. A defect is a plain 500 page (the traceback goes to the
server's log), never a stack trace in the browser."""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from catalog_resources.store.connection import DatabaseUnavailable

log = logging.getLogger("video_catalog.web")
DATABASE_DOWN = ("The catalog database cannot be reached. Start it with `video-catalog db start` (or check "
                 "VIDEO_CATALOG_DATABASE_URL), then reload this page.")


class NotFound(HTTPException):
    """A 404 whose message names what is missing (any other 404 is "There is no such page.")."""

    def __init__(self, message: str) -> None:
        super().__init__(404, message)


class UnknownClip(NotFound):
    def __init__(self, clip_id: str) -> None:
        super().__init__(f"No cataloged clip has the id {clip_id!r}.")


def _answer(request: Request, status: int, title: str, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "error.html", {"title": title, "message": message},
                                      status_code=status, headers={"Cache-Control": "no-store"})


def install(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        title = {404: "Not found", 405: "Not allowed", 400: "Bad request", 403: "Refused"}.get(exc.status_code, "Error")
        detail = exc.detail if exc.status_code != 404 or isinstance(exc, NotFound) else "There is no such page."
        return _answer(request, exc.status_code, title, str(detail))

    @app.exception_handler(DatabaseUnavailable)
    async def database_unavailable(request: Request, exc: DatabaseUnavailable) -> Response:
        log.warning("database unavailable: %s", exc)
        return _answer(request, 503, "Catalog database unavailable", DATABASE_DOWN)

    @app.exception_handler(psycopg.OperationalError)
    async def database_lost(request: Request, exc: psycopg.OperationalError) -> Response:
        log.warning("database connection lost: %s", exc)
        return _answer(request, 503, "Catalog database unavailable", DATABASE_DOWN)

    @app.exception_handler(Exception)
    async def defect(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return _answer(request, 500, "Something went wrong", "The catalog hit an unexpected error; the server's "
                       "log has the details.")
