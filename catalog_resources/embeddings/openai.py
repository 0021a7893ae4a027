"""Embeddings from any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, TEI, ...), e.g. BAAI/bge-m3 at 1024 dims.

Same interface as LocalEncoder (embed_passages / embed_query / count_tokens), so the embedding service does
not care which one it holds. Texts are cut to 3,500 cl100k tokens first (the spec's rule for the API
backend), counted with tiktoken from an offline-seeded cache. The client's own retries (429/5xx, honouring
Retry-After) apply.
"""

from __future__ import annotations

import numpy as np

from catalog_resources.embeddings.errors import EmbedderError
from catalog_resources.embeddings.openai_tokens import count_openai_tokens, truncate_openai

BATCH = 64  # inputs per request: well inside every server's limit, few round trips


class OpenAIEncoder:
    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None, max_attempts: int = 5,
                 timeout_seconds: float = 120.0) -> None:
        from catalog_resources.analysis.cloud.common import MissingKeyError
        from catalog_resources.analysis.cloud.openai import resolve_openai_key

        self.model = model
        self.base_url = base_url
        try:
            self.api_key = resolve_openai_key(api_key, base_url)
        except MissingKeyError as exc:
            raise EmbedderError(str(exc)) from exc
        self.max_attempts = max_attempts
        self.timeout_seconds = timeout_seconds
        self._client = None

    @property
    def client(self):
        if self._client is None:
            import openai

            self._client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key,
                                         max_retries=self.max_attempts - 1, timeout=self.timeout_seconds)
        return self._client

    def count_tokens(self, text: str, *, query: bool = False) -> int:
        return count_openai_tokens(text)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        import openai

        vectors: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            batch = [truncate_openai(t) or " " for t in texts[start:start + BATCH]]
            try:
                response = self.client.embeddings.create(model=self.model, input=batch, encoding_format="float")
            except openai.APIStatusError as exc:
                raise EmbedderError(f"embeddings from {self.base_url or 'api.openai.com'} ({self.model}) failed with "
                                    f"HTTP {exc.status_code}: {exc.message}") from exc
            except (openai.APITimeoutError, openai.APIConnectionError) as exc:
                raise EmbedderError(f"cannot reach {self.base_url or 'api.openai.com'} for embeddings: {exc}") from exc
            ordered = sorted(response.data, key=lambda d: d.index)
            if len(ordered) != len(batch):
                raise EmbedderError(f"{self.model}: asked for {len(batch)} embeddings, got {len(ordered)}")
            vectors += [d.embedding for d in ordered]
        out = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]
