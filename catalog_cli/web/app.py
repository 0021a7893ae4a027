"""The web catalog's app factory: one FastAPI app over one catalog database and media store.

`create_app` takes the database URL and the media folder rather than reading them itself, so the command
(catalog_cli/commands/web.py) resolves and starts the embedded server once, and a test can point an app at any
catalog (or at a dead port). Templates and static files are package data (pyproject.toml), found next to this
module in an editable install and a wheel alike.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from catalog_cli.web import actions, api, errors, media_routes, pages
from catalog_cli.web import logins as logins_routes
from catalog_cli.web.csrf import Tokens, load_secret
from catalog_cli.web.format import FILTERS as TEMPLATE_FILTERS
from catalog_cli.web.logins import LoginNeeded, Logins, login_needed
from catalog_cli.web.media import MediaStore
from catalog_cli.web.service import WebCatalog
from catalog_resources.embeddings.service import EmbeddingService

HERE = Path(__file__).resolve().parent
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def same_origin(headers) -> bool:
    """Whether a state-changing request comes from a page of this server: its Origin (or, without one, its
    Referer) names the host it was sent to. The first CSRF guard for every POST (tags, collections, names;
    csrf.py checks each form's token too); a request naming neither is refused."""
    source = headers.get("origin") or headers.get("referer")
    return bool(source) and urlsplit(source).netloc == headers.get("host")


def _local_docs(app: FastAPI) -> None:
    """The OpenAPI page at /api/docs with Swagger UI served from the installed swagger-ui-bundle, not a CDN: the
    machine may be offline."""
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html

    app.mount("/api/docs/assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")

    @app.get("/api/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url="/api/openapi.json", title="video-catalog API",
                                   swagger_js_url="/api/docs/assets/swagger-ui-bundle.js",
                                   swagger_css_url="/api/docs/assets/swagger-ui.css",
                                   swagger_favicon_url="/api/docs/assets/favicon-32x32.png")


def create_app(database_url: str, media_dir: Path, embedder: EmbeddingService | None = None,
               secret_file: Path | None = None, logins: Logins | None = None) -> FastAPI:
    """The app. `embedder` is the query embedder (default: the one the settings name, made on first search);
    `secret_file` keeps the key that signs the forms' CSRF tokens (default: web.secret next to the media store,
    i.e. in the catalog home); `logins`: a shared catalog's, where each person logs in and reads as themselves
    (logins.py); without, every page reads `database_url`."""
    app = FastAPI(title="video-catalog", summary="Search, list and show cataloged footage.",
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.catalog = WebCatalog(database_url, embedder)
    app.state.logins = logins
    app.state.media = MediaStore(media_dir)
    app.state.tokens = Tokens(load_secret(secret_file or Path(media_dir).parent / "web.secret"))
    templates = Jinja2Templates(directory=HERE / "templates")  # autoescapes .html: footage text is text
    templates.env.filters.update(TEMPLATE_FILTERS)
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _local_docs(app)
    app.include_router(pages.router)
    app.include_router(actions.router)
    app.include_router(api.router)
    app.include_router(media_routes.router)
    app.include_router(logins_routes.router)
    errors.install(app)
    app.add_exception_handler(LoginNeeded, login_needed)

    @app.middleware("http")
    async def security_headers(request, call_next):
        started = time.perf_counter()
        if request.method not in SAFE_METHODS and not same_origin(request.headers):
            return PlainTextResponse("cross-site request refused", status_code=403)
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
