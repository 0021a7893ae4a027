"""The web catalog's app factory: one FastAPI app over one catalog database and media store.

`create_app` takes the database URL and the media folder rather than reading them itself, so the command
(catalog_cli/commands/web.py) resolves and starts the embedded server once, and a test can point an app at any
catalog (or at a dead port). Templates and static files are package data (pyproject.toml), found next to this
module in an editable install and a wheel alike.
"""

from __future__ import annotations

import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from catalog_cli.web import api, errors, media_routes, pages
from catalog_cli.web.format import FILTERS as TEMPLATE_FILTERS
from catalog_cli.web.media import MediaStore
from catalog_cli.web.service import WebCatalog
from catalog_resources.embeddings.service import EmbeddingService

HERE = Path(__file__).resolve().parent


def create_app(database_url: str, media_dir: Path, embedder: EmbeddingService | None = None) -> FastAPI:
    """The app. `embedder` is the query embedder (default: the one the settings name, made on first search)."""
    app = FastAPI(title="video-catalog", summary="Search, list and show cataloged footage.",
                  docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json")
    app.state.catalog = WebCatalog(database_url, embedder)
    app.state.media = MediaStore(media_dir)
    templates = Jinja2Templates(directory=HERE / "templates")  # autoescapes .html: footage text is text
    templates.env.filters.update(TEMPLATE_FILTERS)
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(media_routes.router)
    errors.install(app)

    @app.middleware("http")
    async def security_headers(request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        total = (time.perf_counter() - started) * 1000  # Server-Timing: the bench reads it (bench/web.py)
        embed = getattr(request.state, "embed_seconds", 0.0) * 1000
        response.headers["Server-Timing"] = f"app;dur={total - embed:.1f}, embed;dur={embed:.1f}"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/api/docs"):  # Swagger UI loads its own script; the pages load none
            response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
                                        "media-src 'self'; object-src 'none'; frame-ancestors 'none'")
        return response

    return app
