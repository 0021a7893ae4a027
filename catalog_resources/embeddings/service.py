"""Which model embeds clips and queries, and the code version that follows it.

Plain Python (no Dagster), so `search` and `similar` start without importing Dagster; the Dagster
resources `LocalEmbedder` / `OpenAIEmbedder` (resources/embedders.py) carry the same settings and hand out
this service.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from catalog_resources.embeddings.texts import full_clip_text, segment_texts
from catalog_resources.models.search import EmbeddedText, EmbeddingSet

TEXT_RECIPE_VERSION = 3  # bump when embedding_texts changes what a clip is embedded as (3: only what the clip holds)
# Below this cosine similarity a semantic match is not a match. e5 similarities sit high, MiniLM's low
# (unrelated ~0.0-0.2; 0.35 not re-measured). e5, measured by bench/relevance.py (texts-v3): on
# tests/relevance_set.py the expected clip's best similarity over the 47 present queries min 0.803 / p10 0.828 /
# median 0.869 / p90 0.930, the best of any clip over the 15 absent-subject queries min 0.791 / median 0.804 /
# max 0.834 (the ranges overlap: no cut-off separates them); at 0.82 MRR and recall@5 are 0.979 and 12 of 15
# absent queries answer nothing (0.825 keeps 0.957 with the same 12; 0.835 empties all 15 at MRR 0.894). On
# tests/visual_relevance_set.py the absent queries' best is 0.813, so 0.815 and up empty all 14, and 0.82 keeps
# top-1 9/17 and recall@5 10/17 (0.825: 8/17 and 8/17).
MIN_SIMILARITY = {"multilingual-e5-small": 0.82, "all-MiniLM-L6-v2": 0.35}
# The similarity nine in ten correct matches reach (the 90th percentile of the expected clip's best similarity
# on tests/relevance_set.py, bench/relevance.py): a match there reads as 100 %, one at the cut-off as 50 %.
SURE_SIMILARITY = {"multilingual-e5-small": 0.93}


def embeddings_code_version(backend: str, model: str) -> str:
    """The embeddings asset's code version: the model and the recipe of the texts it embeds."""
    return f"{backend}/{model}:texts-v{TEXT_RECIPE_VERSION}"


class EmbeddingService:
    def __init__(self, model: str = "multilingual-e5-small", backend: Literal["local", "openai"] = "local",
                 min_similarity: float | None = None, base_url: str | None = None, api_key: str | None = None) -> None:
        self.model = model
        self.backend = backend
        self.min_similarity = min_similarity
        self.base_url = base_url
        self.api_key = api_key

    def code_version(self) -> str:
        return embeddings_code_version(self.backend, self.model)

    @property
    def cutoff(self) -> float:
        return self.min_similarity if self.min_similarity is not None else MIN_SIMILARITY.get(self.model, 0.5)

    def model_backend(self):
        """The model behind this service: LocalEncoder or OpenAIEncoder (the same interface)."""
        if self.backend == "openai":
            from catalog_resources.embeddings.openai import OpenAIEncoder

            return OpenAIEncoder(self.model, base_url=self.base_url, api_key=self.api_key)
        from catalog_resources.embeddings.local import LocalEncoder

        return LocalEncoder(self.model)

    def embed_clip(self, clip_id: str, row: dict[str, Any]) -> EmbeddingSet:
        started = time.monotonic()
        local = self.model_backend()
        texts: list[tuple[str, int | None, str]] = [("full_clip", None, full_clip_text(row))]
        texts += [("segment", segment_id, text) for segment_id, text in segment_texts(row)]
        vectors = local.embed_passages([t for _s, _i, t in texts])
        items = [
            EmbeddedText(scope=scope, segment_id=segment_id, text=text, token_count=local.count_tokens(text),
                         vector=vector.tolist())
            for (scope, segment_id, text), vector in zip(texts, vectors)
        ]
        return EmbeddingSet(clip_id=clip_id, model=self.model, dimension=int(vectors.shape[1]), items=items,
                            seconds=round(time.monotonic() - started, 3))

    def embed_segment(self, segment_id: int, text: str) -> EmbeddedText:
        """One segment's vector, made as embed_clip makes each of a clip's (a passage): `segments add` embeds a
        manual segment at once instead of waiting for the clip's embeddings step to run again."""
        local = self.model_backend()
        vector = local.embed_passages([text])[0]
        return EmbeddedText(scope="segment", segment_id=segment_id, text=text, token_count=local.count_tokens(text),
                            vector=vector.tolist())

    def embed_query(self, text: str):
        vector = self.model_backend().embed_query(text)
        return vector, int(vector.shape[0])
