"""The Embedder resource: the embedding settings as Dagster configuration, handing out the service."""

from __future__ import annotations

from typing import Literal

from dagster import ConfigurableResource
from pydantic import Field

from catalog_resources.embeddings.service import EmbeddingService


class Embedder(ConfigurableResource):
    backend: Literal["local", "openai"] = "local"
    model: str = "multilingual-e5-small"
    min_similarity: float | None = Field(default=None, description="Override the model's calibrated cut-off.")
    base_url: str | None = Field(default=None, description="OpenAI-compatible embeddings endpoint (backend openai).")
    api_key: str | None = None

    def service(self) -> EmbeddingService:
        return EmbeddingService(model=self.model, backend=self.backend, min_similarity=self.min_similarity,
                                base_url=self.base_url, api_key=self.api_key)
