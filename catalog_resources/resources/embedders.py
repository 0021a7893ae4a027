"""The embedder resources: one Dagster resource per embedding backend, bound to the key "embedder".

`build_embedder` (catalog_assets/definitions.py) picks the class from VIDEO_CATALOG_EMBEDDING_BACKEND. The work
itself is EmbeddingService's (catalog_resources/embeddings/service.py), which stays free of Dagster so that
`search` and `similar` embed their query with the same code without loading it.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from dagster import ConfigurableResource
from pydantic import Field

from catalog_resources.embeddings.service import EmbeddingService, embeddings_code_version
from catalog_resources.models.search import EmbeddingSet


class Embedder(ConfigurableResource):
    """What the embeddings asset asks of any backend: a clip's vectors, and the code version they carry."""

    backend: ClassVar[str]

    model: str = "multilingual-e5-small"
    min_similarity: float | None = Field(default=None, description="Override the model's calibrated cut-off.")

    @abstractmethod
    def service(self) -> EmbeddingService:
        """The engine façade for this backend and model."""

    def code_version(self) -> str:
        """`<backend>/<model>:texts-v<N>`: switching models, or what a clip is embedded as, marks embeddings stale."""
        return embeddings_code_version(self.backend, self.model)

    def embed_clip(self, clip_id: str, row: dict[str, Any]) -> EmbeddingSet:
        return self.service().embed_clip(clip_id, row)


class LocalEmbedder(Embedder):
    """A packaged model run on this machine (multilingual-e5-small or all-MiniLM-L6-v2)."""

    backend: ClassVar[str] = "local"

    def service(self) -> EmbeddingService:
        return EmbeddingService(model=self.model, backend="local", min_similarity=self.min_similarity)


class OpenAIEmbedder(Embedder):
    """Any OpenAI-compatible embeddings endpoint (OpenAI, vLLM, Ollama, TEI...), e.g. BAAI/bge-m3."""

    backend: ClassVar[str] = "openai"

    base_url: str | None = Field(default=None, description="OpenAI-compatible embeddings endpoint.")
    api_key: str | None = Field(default=None, description="Else OPENAI_API_KEY; a localhost endpoint needs none.")

    def service(self) -> EmbeddingService:
        return EmbeddingService(model=self.model, backend="openai", min_similarity=self.min_similarity,
                                base_url=self.base_url, api_key=self.api_key)
