"""The HTML pages: search (/), library (/library) and one clip (/clip/<id>). Server-rendered; each page's URL
holds its whole state (query, filters, sort, page, start time), so it can be bookmarked or shared."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from catalog_cli.web.csrf import set_cookie
from catalog_cli.web.errors import NotFound, UnknownClip
from catalog_cli.web.logins import COOKIE as LOGIN_COOKIE, catalog_of
from catalog_cli.web.media import image_name
from catalog_cli.web.service import FILTER_FIELDS, page_number
from catalog_resources.models.clips import SORT_KEYS
from catalog_resources.search.filters import BY_FIELD, Choice, YesNo

router = APIRouter(include_in_schema=False)


def filter_controls() -> list[dict[str, Any]]:
    """One form control per filter of `list`, from the filter registry: its name, label, help and choices."""
    controls = []
    for name in FILTER_FIELDS:
        f = BY_FIELD[name]
        control = {"field": name, "label": f.flag.removeprefix("--").replace("-", " "), "help": f.help, "choices": None}
        if isinstance(f.kind, Choice):
            control["choices"] = [(key, key) for key in f.kind.choices]
        elif isinstance(f.kind, YesNo):
            on, _, off = f.option.partition("/")
            words = (on.removeprefix("--"), off.removeprefix("--")) if off else ("yes", "no")
            control["label"] = " / ".join(words)
            control["choices"] = [("yes", words[0]), ("no", words[1])]
        controls.append(control)
    return controls


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """The page, with the browser's CSRF token in its forms and its cookie (csrf.py)."""
    token = request.app.state.tokens.for_request(request)
    logins = request.app.state.logins
    signed_in = logins.email(request.cookies.get(LOGIN_COOKIE)) if logins is not None else None
    response = request.app.state.templates.TemplateResponse(
        request, template, {"image_name": image_name, "controls": filter_controls(), "csrf": token,
                            "signed_in": signed_in, **context},
        status_code=status)
    set_cookie(response, token)
    return response


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request, q: str = "", mode: str = "hybrid", page: str = "1") -> HTMLResponse:
    view = catalog_of(request).search(q, request.query_params, mode, page_number(page))
    request.state.embed_seconds = view.embed_seconds
    return render(request, "search.html", {"view": view, "active": "search"}, 400 if view.error else 200)


@router.get("/library", response_class=HTMLResponse)
def library_page(request: Request, sort: str = "cataloged", page: str = "1") -> HTMLResponse:
    view = catalog_of(request).library(request.query_params, sort, page_number(page))
    return render(request, "library.html", {"view": view, "sorts": SORT_KEYS, "active": "library"},
                   400 if view.error else 200)


def _start(raw: str | None) -> float:
    try:
        value = float(raw) if raw else 0.0
    except ValueError:
        return 0.0
    return value if 0.0 <= value < 10**7 else 0.0


@router.get("/clip/{clip_id}", response_class=HTMLResponse)
def clip_page(request: Request, clip_id: str, t: str | None = None) -> HTMLResponse:
    catalog, media = catalog_of(request), request.app.state.media
    detail = catalog.clip(clip_id)
    if detail is None:
        raise UnknownClip(clip_id)
    context = {"clip": detail, "start": _start(t), "has_proxy": media.proxy(clip_id) is not None,
               "images": media.thumbnails(clip_id), "similar": catalog.similar(clip_id), "active": "clip"}
    return render(request, "clip.html", context)


@router.get("/people", response_class=HTMLResponse)
def people_page(request: Request) -> HTMLResponse:
    """Everyone the faces step found: a face each, name (or "Person N"), clips and time on screen."""
    return render(request, "people.html", {"people": catalog_of(request).people(), "active": "people"})


@router.get("/people/{person_id}", response_class=HTMLResponse)
def person_page(request: Request, person_id: str) -> HTMLResponse:
    """One person: their clips with the times they are on screen (each a link that plays from then), and a form
    to name them."""
    found = catalog_of(request).person(int(person_id)) if person_id.isdigit() and len(person_id) < 19 else None
    if found is None:
        raise NotFound(f"There is no person {person_id[:40]!r}.")
    person, clips = found
    return render(request, "person.html", {"person": person, "clips": clips, "active": "people"})
