"""The web catalog's changes: a clip's tags and collections, a person's name. Each is a POST form checked by
csrf.py (token) and app.py (Origin/Referer), done by the same store functions as the CLI (store/tags.py,
store/collections.py, store/people.py: `tag add/remove/accept/reject`, `collection add/remove`, `people name`),
then answered with a redirect back to the page (POST-redirect-GET, so a reload does not post again)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException

from catalog_cli.web.csrf import checked_form
from catalog_cli.web.errors import NotFound, UnknownClip
from catalog_cli.web.logins import catalog_of
from catalog_resources.errors import UsageError
from catalog_resources.store.collections import UnknownCollection
from catalog_resources.store.tags import tag_names

router = APIRouter(include_in_schema=False)
VERDICTS = {"accept": "accepted", "reject": "rejected"}


def _clip(request: Request, clip_id: str) -> str:
    if not catalog_of(request).known(clip_id):
        raise UnknownClip(clip_id)
    return clip_id


def _back(path: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"{path}#{anchor}", status_code=303)


def _usage(exc: UsageError) -> HTTPException:
    return HTTPException(400, str(exc))


@router.post("/clip/{clip_id}/tags")
async def change_tags(request: Request, clip_id: str) -> RedirectResponse:
    """action=add (your tags, comma-separated), remove (yours deleted, a machine tag rejected), accept or reject
    (a machine tag's review)."""
    form = await checked_form(request)
    store = catalog_of(request).store
    _clip(request, clip_id)
    action = form.get("action", "")
    try:
        names = tag_names([form.get("name", "")])
    except UsageError as exc:
        raise _usage(exc) from None
    if action == "add":
        store.add_user_tags([clip_id], names)
    elif action == "remove":
        store.remove_tags([clip_id], names)
    elif action in VERDICTS:
        store.review_tags([clip_id], names, VERDICTS[action])
    else:
        raise HTTPException(400, "Say what to do with the tag: add, remove, accept or reject.")
    return _back(f"/clip/{clip_id}", "tags")


@router.post("/clip/{clip_id}/collections")
async def change_collections(request: Request, clip_id: str) -> RedirectResponse:
    """action=add (the collection is made when no collection has that name) or remove."""
    form = await checked_form(request)
    store = catalog_of(request).store
    _clip(request, clip_id)
    action, name = form.get("action", ""), form.get("name", "")
    try:
        if action == "add":
            try:
                store.add_to_collection(name, [clip_id])
            except UnknownCollection:
                store.create_collection(name)
                store.add_to_collection(name, [clip_id])
        elif action == "remove":
            store.remove_from_collection(name, [clip_id])
        else:
            raise HTTPException(400, "Say what to do with the collection: add or remove.")
    except UsageError as exc:
        raise _usage(exc) from None
    return _back(f"/clip/{clip_id}", "collections")


@router.post("/people/{person_id}/name")
async def name_person(request: Request, person_id: str) -> RedirectResponse:
    """The person's name (an empty one removes it), as `people name`."""
    form = await checked_form(request)
    store = catalog_of(request).store
    name = form.get("name", "").strip()
    if len(name) > 200 or any(c in name for c in "\r\n\t"):
        raise HTTPException(400, "A name is at most 200 characters on one line.")
    if not person_id.isdigit() or len(person_id) > 18 or catalog_of(request).person(int(person_id)) is None:
        raise NotFound(f"There is no person {person_id[:40]!r}.")
    store.name_person(int(person_id), name or None)
    return _back(f"/people/{person_id}", "name")
