"""The Embedder resource: the embedding settings as Dagster configuration, handing out the service."""

from __future__ import annotations

from typing import Literal

from dagster import ConfigurableResource
from pydantic import Field

from catalog_resources.embedding_service import EmbeddingService


class Embedder(ConfigurableResource):
    backend: Literal["local"] = "local"
    model: str = "multilingual-e5-small"
    min_similarity: float | None = Field(default=None, description="Override the model's calibrated cut-off.")

    def service(self) -> EmbeddingService:
        return EmbeddingService(model=self.model, backend=self.backend, min_similarity=self.min_similarity)
