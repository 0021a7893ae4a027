"""What the web catalog's pages and its JSON API show, gathered by the same functions the CLI calls: search
(catalog_resources/search/ranking.py through search/session.py), `list` (CatalogQueries.list_clips with the
filter registry), `show` (clip_detail, clip_states) and `similar`. The HTML pages and /api/ both call this
module, so the two cannot disagree; nothing here knows about HTTP.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from catalog_resources.embeddings.service import EmbeddingService
from catalog_resources.errors import UsageError
from catalog_resources.models.people import PersonSummary
from catalog_resources.models.search import SearchHit
from catalog_resources.search.filters import OPTIONS, build_filter, is_filtered
from catalog_resources.search.session import MODES, split_query, usable_embedder
from catalog_resources.store.catalog import CatalogDB
from catalog_resources.store.list_order import Seek

PER_PAGE = 24
MAX_PAGES = 20  # a search ranks PER_PAGE * page clips; past this the user should narrow the query
MAX_QUERY_CHARS = 1000
CLIP_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")  # what a clip id can be; anything else is unknown before any lookup
FILTER_FIELDS = tuple(f.field for f in OPTIONS)  # the filters of `list`, as form fields and query parameters


class TimedEmbedder:
    """The query embedder, timing its embed_query calls: the search page's server time is reported without the
    query embedding (the model's cost, not the catalog's), as the speed goal is stated."""

    def __init__(self, inner: EmbeddingService) -> None:
        self.inner, self.seconds = inner, 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed_query(self, text: str):
        started = time.perf_counter()
        try:
            return self.inner.embed_query(text)
        finally:
            self.seconds += time.perf_counter() - started


class Page(BaseModel):
    number: int | None = Field(default=1, description="None: counted from the end (the last page).")
    has_previous: bool = False
    has_next: bool = False
    previous: dict[str, str] = Field(default_factory=dict, description="The paging parameters of the page before.")
    next: dict[str, str] = Field(default_factory=dict, description="The paging parameters of the page after.")
    last: dict[str, str] = Field(default_factory=dict, description="The paging parameters of the last page.")


class SearchView(BaseModel):
    query: str = ""
    words: str = ""
    mode: str = "hybrid"
    used_mode: str | None = None
    filters: dict[str, str] = Field(default_factory=dict, description="The filter fields as given (text).")
    filtered: bool = False
    hits: list[SearchHit] = Field(default_factory=list)
    clips: list[dict[str, Any]] = Field(default_factory=list, description="No words: the clips the filters match.")
    page: Page = Field(default_factory=Page)
    error: str | None = None
    embed_seconds: float = 0.0
    catalog_size: int | None = Field(default=None, description="Clips in the catalog (an empty query only).")


class LibraryView(BaseModel):
    filters: dict[str, str] = Field(default_factory=dict)
    sort: str = "cataloged"
    filtered: bool = False
    clips: list[dict[str, Any]] = Field(default_factory=list)
    page: Page = Field(default_factory=Page)
    error: str | None = None


def given_filters(params: Mapping[str, str]) -> dict[str, str]:
    """The filter fields present in a request's parameters (unknown parameters are ignored)."""
    return {name: str(params[name]).strip() for name in FILTER_FIELDS if str(params.get(name) or "").strip()}


def encode_key(key: list[Any]) -> str:
    """A page edge's sort key as a URL parameter (JSON, base64url; times tagged so they come back as times)."""
    plain = [{"t": v.isoformat()} if isinstance(v, datetime) else v for v in key]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_key(raw: str | None) -> list[Any] | None:
    """The key from a URL parameter; None when it is not one encode_key made (a hand-edited link: page 1). The
    values only ever reach SQL as bound parameters."""
    if not raw or len(raw) > 2000:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(values, list) or not 2 <= len(values) <= 3:
            return None
        key = [datetime.fromisoformat(v["t"]) if isinstance(v, dict) else v for v in values]
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    return key if all(v is None or isinstance(v, (str, int, float, datetime)) for v in key) else None


def seek_from(params: Mapping[str, str], page: int) -> Seek | None:
    """Keyset paging from the request: page_after=<key> (next pages), page_before=<key> (previous), at=end (the
    last page); a bare page=N (an older bookmark, the API) is an offset, page 1 the start. (`after` and `before`
    are the date filters of `list`.)"""
    for name, backward in (("page_after", False), ("page_before", True)):
        key = decode_key(params.get(name))
        if key is not None:
            return Seek(key, backward)
    if params.get("at") == "end":
        return Seek(None, True)
    return Seek(None, False) if page <= 1 else None


def page_number(raw: Any) -> int:
    try:
        return min(max(int(raw), 1), 10_000)
    except (TypeError, ValueError):
        return 1


class WebCatalog:
    """The catalog as the web pages read it: one database URL and, for search by meaning, one query embedder
    (made on first use, so the pages that do not search never load the model)."""

    def __init__(self, database_url: str, embedder: EmbeddingService | None = None) -> None:
        self.store = CatalogDB(database_url)
        self.embedder = embedder

    # ---- search and list ------------------------------------------------------------------------------

    def search(self, query: str, params: Mapping[str, str], mode: str = "hybrid", page: int = 1) -> SearchView:
        """The CLI's search (same inline syntax, filters, ranking, strength and reasons), one page of it. A query
        with filters but no words lists the clips those filters match, as `list` would."""
        view = SearchView(query=query, mode=mode if mode in MODES else "hybrid", filters=given_filters(params))
        view.page.number = min(page, MAX_PAGES)
        if len(query) > MAX_QUERY_CHARS:
            view.error = f"The query is {len(query):,} characters long; at most {MAX_QUERY_CHARS:,} are searched."
            return view
        try:
            view.words, chosen = split_query(query, view.filters)
        except UsageError as exc:
            view.error = str(exc)
            return view
        view.filtered = is_filtered(chosen)
        if not view.words.strip():
            if not view.filtered and not query.strip():
                view.catalog_size = self.store.clip_count()
            if view.filtered or query.strip():
                self._list_into(view, chosen, "cataloged", seek_from(params, view.page.number))
            return view
        timed = TimedEmbedder(self._embedder()) if view.mode != "text" else None
        try:
            embedder = usable_embedder(self.store, timed, view.mode)
        except UsageError as exc:
            view.error = str(exc)
            return view
        from catalog_resources.search.ranking import search as run_search

        wanted = PER_PAGE * view.page.number
        result = run_search(self.store, embedder, view.words, chosen, mode=view.mode, limit=wanted + 1)
        view.used_mode = result.mode if embedder is not None or view.mode == "text" else "text (no embeddings yet)"
        view.hits = result.hits[wanted - PER_PAGE:wanted]
        view.page.has_previous, view.page.has_next = view.page.number > 1, len(result.hits) > wanted
        view.page.has_next = view.page.has_next and view.page.number < MAX_PAGES
        view.page.previous, view.page.next = {"page": str(view.page.number - 1)}, {"page": str(view.page.number + 1)}
        view.embed_seconds = timed.seconds if timed else 0.0
        return view

    def library(self, params: Mapping[str, str], sort: str = "cataloged", page: int = 1) -> LibraryView:
        """`list` with its filters and sort, one page of PER_PAGE clips."""
        from catalog_resources.models.clips import SORT_KEYS

        view = LibraryView(filters=given_filters(params), sort=sort if sort in SORT_KEYS else "cataloged")
        view.page.number = page
        try:
            chosen = build_filter(view.filters)
        except UsageError as exc:
            view.error = str(exc)
            return view
        view.filtered = is_filtered(chosen)
        self._list_into(view, chosen, view.sort, seek_from(params, page))
        return view

    def _list_into(self, view: SearchView | LibraryView, chosen, sort: str, seek: Seek | None) -> None:
        """One page of `list`: by key (after or before the edge of the page the link came from, or the last
        page), so a page deep in the catalog costs what the first does; by offset only for a bare page=N."""
        number = view.page.number or 1
        if seek is None:
            rows = self.store.list_clips(PER_PAGE + 1, chosen, sort, offset=(number - 1) * PER_PAGE, seek=Seek())
            view.page.has_previous, view.page.has_next = number > 1, len(rows) > PER_PAGE
            rows = rows[:PER_PAGE]
        elif not seek.backward:
            rows = self.store.list_clips(PER_PAGE + 1, chosen, sort, seek=seek)
            view.page.has_previous, view.page.has_next = seek.key is not None, len(rows) > PER_PAGE
            rows = rows[:PER_PAGE]
        else:
            rows = self.store.list_clips(PER_PAGE + 1, chosen, sort, seek=seek)
            view.page.has_previous, view.page.has_next = len(rows) > PER_PAGE, seek.key is not None
            rows = rows[-PER_PAGE:]
            if seek.key is None:
                view.page.number = None
        known = view.page.number
        if rows:
            view.page.previous = {"page_before": encode_key(rows[0]["sort_key"])} | (
                {"page": str(known - 1)} if known and known > 1 else {})
            view.page.next = {"page_after": encode_key(rows[-1]["sort_key"])} | ({"page": str(known + 1)} if known else {})
            for row in rows:
                del row["sort_key"]
        view.page.last = {"at": "end"}
        states = self.store.clip_states([r["clip_id"] for r in rows]) if rows else {}
        for row in rows:  # the same state words as `list`
            row["status"] = states[row["clip_id"]].label if row["clip_id"] in states else row["status"]
        view.clips = rows

    def _embedder(self) -> EmbeddingService:
        if self.embedder is None:
            from catalog_resources.search.session import query_embedder
            from catalog_resources.settings import load_settings

            self.embedder = query_embedder(load_settings(), check=False)
        return self.embedder

    # ---- one clip -------------------------------------------------------------------------------------

    def known(self, clip_id: str) -> bool:
        return bool(CLIP_ID.fullmatch(clip_id)) and self.store.clip_row(clip_id) is not None

    def clip(self, clip_id: str) -> dict[str, Any] | None:
        """What `show --json` holds, plus the clip's state, collections and its segments by kind; None when no
        clip has this id."""
        if not CLIP_ID.fullmatch(clip_id):
            return None
        detail = self.store.clip_detail(clip_id)
        if detail is None:
            return None
        detail["state"] = self.store.clip_states([clip_id])[clip_id].model_dump()
        detail["collections"] = self.store.clip_collections(clip_id)
        detail["people"] = self.store.clip_people(clip_id)
        by_type: dict[str, list[dict[str, Any]]] = {}
        for segment in detail["segments"]:
            by_type.setdefault(segment["segment_type"], []).append(segment)
        detail["segments_by_type"] = by_type
        return detail

    def similar(self, clip_id: str, limit: int = 6) -> dict[str, list[SearchHit]]:
        """Nearest clips by meaning (the stored full-clip vector: no model is run) and, where scenes have look
        vectors, by look."""
        from catalog_resources.search.ranking import similar as by_meaning

        found = {"meaning": by_meaning(self.store, self._embedder(), clip_id, limit), "look": []}
        from catalog_resources.search.looks import LOOK_MODEL, similar_looks

        if self.store.scene_look_count(clip_id, LOOK_MODEL):
            found["look"] = similar_looks(self.store, clip_id, limit)
        return found

    # ---- people (issue 21) ----------------------------------------------------------------------------

    def people(self) -> list[PersonSummary]:
        """Everyone the faces step found, most screen time first (`people list`)."""
        return self.store.people_summaries()

    def person(self, person_id: int) -> tuple[PersonSummary, list[dict[str, Any]]] | None:
        """One person (`people show`) and their clips, each with the tracks' times on screen; None: no such person."""
        try:
            found = self.store.find_person(str(person_id))
        except UsageError:
            return None
        clips: dict[str, dict[str, Any]] = {}
        for track in self.store.person_appearances(person_id):
            clip = clips.setdefault(track.clip_id, {"clip_id": track.clip_id, "file_name": track.file_name, "ranges": []})
            clip["ranges"].extend(track.ranges or [(track.start_seconds, track.end_seconds)])
        for clip in clips.values():
            clip["ranges"].sort()
        return found, list(clips.values())

    def person_face(self, person_id: int) -> tuple[str, str] | None:
        """(clip id, recorded crop path) of the person's face thumbnail: the one `people list` shows."""
        try:
            found = self.store.find_person(str(person_id))
        except UsageError:
            return None
        tracks = [t for t in self.store.person_appearances(person_id) if t.crop_path]
        best = next((t for t in tracks if t.crop_path == found.crop_path), tracks[0] if tracks else None)
        return (best.clip_id, best.crop_path) if best else None
