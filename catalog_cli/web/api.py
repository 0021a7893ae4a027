"""The JSON API under /api/ (OpenAPI at /api/docs): search, list and one clip, answered by the same functions
as the HTML pages (service.py), so a script sees what a person sees."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from catalog_cli.web.errors import UnknownClip
from catalog_cli.web.logins import catalog_of
from catalog_cli.web.service import LibraryView, SearchView, page_number

router = APIRouter(prefix="/api", tags=["catalog"])
FILTER_HELP = ("Filters of `list` as query parameters: codec, resolution, min_height, fps, camera, hdr, "
               "min_duration, max_duration, after, before, min_quality, exposure_warning, shot_type, tag, collection.")


@router.get("/search", response_model=SearchView, description="Hybrid search, as `video-catalog search`. "
            "Inline filters (codec:h264 fps:>30) work in q. " + FILTER_HELP)
def api_search(request: Request, q: str = Query("", description="Words, with inline filters."),
               mode: str = Query("hybrid", description="hybrid, semantic or text"), page: int = 1) -> Any:
    view = catalog_of(request).search(q, request.query_params, mode, page_number(page))
    request.state.embed_seconds = view.embed_seconds
    return JSONResponse(jsonable_encoder(view), status_code=400 if view.error else 200)


@router.get("/clips", response_model=LibraryView, description="`video-catalog list`, one page. Paging by key: pass "
            "the page's `next`, `previous` or `last` parameters (page_after, page_before, at=end); a bare page=N is "
            "an offset. " + FILTER_HELP)
def api_list(request: Request, sort: str = "cataloged", page: int = 1) -> Any:
    view = catalog_of(request).library(request.query_params, sort, page_number(page))
    return JSONResponse(jsonable_encoder(view), status_code=400 if view.error else 200)


@router.get("/clips/{clip_id}", description="Everything cataloged about one clip, as `video-catalog show --json`, "
            "with its state, collections and similar clips.")
def api_clip(request: Request, clip_id: str) -> Any:
    catalog = catalog_of(request)
    detail = catalog.clip(clip_id)
    if detail is None:
        raise UnknownClip(clip_id)
    detail.pop("segments_by_type", None)
    detail["similar"] = catalog.similar(clip_id)
    detail["proxy"] = request.app.state.media.proxy(clip_id) is not None
    return JSONResponse(jsonable_encoder(detail))
