"""What every front end does around a search before ranking: split the query into words and inline filters, make
the query embedder from the settings, and decide whether semantic search can run yet.

`video-catalog search` and the web catalog (`video-catalog web`) both call these, so the two cannot answer the same
query differently. Plain Python: no typer, no web framework.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalog_resources.embeddings.service import EmbeddingService
from catalog_resources.errors import UsageError
from catalog_resources.models.clips import ClipFilter
from catalog_resources.search.filters import build_filter
from catalog_resources.search.query import parse_inline_filters
from catalog_resources.settings import CatalogSettings

MODES = ("hybrid", "semantic", "text")


def query_embedder(settings: CatalogSettings, check: bool = True) -> EmbeddingService:
    """The query embedder the settings name. With `check`, an unknown or uninstalled model (or a missing key) is an
    EmbedderError now, naming its package, before any search runs."""
    service = EmbeddingService(model=settings.embedding_model, backend=settings.embedding_backend,
                               min_similarity=settings.search_min_similarity, base_url=settings.embedding_base_url,
                               api_key=settings.embedding_api_key)
    if check:
        if settings.embedding_backend == "local":
            from catalog_resources.embeddings.local import LocalEncoder

            LocalEncoder(settings.embedding_model)
        else:
            service.model_backend()
    return service


def split_query(query: str, given: Mapping[str, Any] | None = None) -> tuple[str, ClipFilter]:
    """(the query's words, the ClipFilter of its inline `key:value` filters and the `given` ones). A given filter
    (a command-line option, a form field; text or typed) wins over the same filter written in the query. Bad
    values are FilterError (a UsageError), worded by the filter registry."""
    text, inline = parse_inline_filters(query)
    chosen = {name: value for name, value in (given or {}).items() if value is not None and value != ""}
    return text, build_filter({**inline, **chosen})


def usable_embedder(store: Any, embedder: EmbeddingService | None, mode: str) -> EmbeddingService | None:
    """The embedder when clips have vectors from its model; None in hybrid mode until they do (words alone), a
    UsageError in semantic mode."""
    if mode not in MODES:
        raise UsageError(f"mode {mode!r}: choose hybrid, semantic or text")
    if embedder is None or mode == "text":
        return None
    if not store.has_clip_embeddings(embedder.model):
        if mode == "semantic":
            raise UsageError(f"no clip has embeddings from {embedder.model} yet; "
                             "run: video-catalog refresh --missing embeddings")
        return None
    return embedder
