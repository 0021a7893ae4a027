"""Media by clip id: /media/<id>/proxy.mp4 (HTTP Range, so the player can seek), /media/<id>/image/<name> and
/media/<id>/small/<name> (thumbnails, posters, the contact sheet; cached by the browser). See media.py for why no
request parameter reaches the filesystem as a path."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.exceptions import HTTPException

from catalog_cli.web.logins import catalog_of

router = APIRouter(prefix="/media", include_in_schema=False)
IMAGE_CACHE = "private, max-age=86400"  # a clip's thumbnails change only when its thumbnails step is redone
TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp", ".png": "image/png"}


def _known(request: Request, clip_id: str) -> None:
    if not catalog_of(request).known(clip_id):
        raise HTTPException(404, "No such clip.")


def _image(path: Path | None) -> FileResponse:
    if path is None or path.suffix.lower() not in TYPES:
        raise HTTPException(404, "No such image.")
    return FileResponse(path, media_type=TYPES[path.suffix.lower()], headers={"Cache-Control": IMAGE_CACHE})


@router.get("/{clip_id}/proxy.mp4")
def proxy(request: Request, clip_id: str) -> FileResponse:
    _known(request, clip_id)
    path = request.app.state.media.proxy(clip_id)
    if path is None:
        raise HTTPException(404, "This clip has no proxy.")
    return FileResponse(path, media_type="video/mp4", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/{clip_id}/image/{name}")
def image(request: Request, clip_id: str, name: str) -> FileResponse:
    _known(request, clip_id)
    return _image(request.app.state.media.image(clip_id, name))


@router.get("/{clip_id}/small/{name}")
def small(request: Request, clip_id: str, name: str) -> FileResponse:
    _known(request, clip_id)
    return _image(request.app.state.media.small_image(clip_id, name))


@router.get("/{clip_id}/poster")
def poster(request: Request, clip_id: str) -> FileResponse:
    """The clip's poster at its smallest size (the grids), found from its thumbnails sidecar."""
    _known(request, clip_id)
    media = request.app.state.media
    name = media.thumbnails(clip_id)["poster"]
    return _image(media.small_image(clip_id, name) if name else None)


@router.get("/person/{person_id}/face")
def person_face(request: Request, person_id: str) -> FileResponse:
    """A person's face thumbnail, found by person id: the catalog names the clip and crop, the clip's faces.json
    must list it, and the file must lie in that clip's folder of the media store. Face crops are personal data:
    `private` cache only, and gone once `people forget` removed them."""
    found = catalog_of(request).person_face(int(person_id)) if person_id.isdigit() and len(person_id) < 19 else None
    path = request.app.state.media.face(*found) if found else None
    if path is None or path.suffix.lower() not in TYPES:
        raise HTTPException(404, "No face image for this person.")
    return FileResponse(path, media_type=TYPES[path.suffix.lower()], headers={"Cache-Control": "private, max-age=300"})
