"""embeddings: the clip's full-clip and segment vectors, for semantic search and `similar`.

Built by a factory because its code version carries the embedding model: switching models marks exactly
this asset stale. It reads the analysis, transcript and segments from the catalog (like catalog_record)
rather than loading them, so it works whichever analyzer produced them.
"""


from dagster import AssetExecutionContext, AssetsDefinition, Failure, MetadataValue, Output

from catalog_assets.metadata import clip_output
from catalog_assets.partitions import clip_asset, clip_ids
from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.resources.embedders import Embedder
from catalog_resources.models.search import EmbeddingSet
from catalog_resources.work.cpu import StepClock

UNBOUND_VERSION = "unbound"


def _clip_metadata(vectors: EmbeddingSet) -> dict[str, object]:
    """This clip's vectors and the text its full-clip vector was made from."""
    return {
        "model": vectors.model,
        "dimension": vectors.dimension,
        "vectors": len(vectors.items),
        "full_clip_text": MetadataValue.md(vectors.items[0].text[:1500] if vectors.items else ""),
    }


def build_embeddings(code_version: str = UNBOUND_VERSION) -> AssetsDefinition:
    @clip_asset(deps=["technical_metadata", "frame_analysis", "ai_analysis"], code_version=code_version,
                group_name="search", kinds={"pgvector"})
    def embeddings(context: AssetExecutionContext, catalog: CatalogResource, embedder: Embedder) -> Output[dict[str, EmbeddingSet]]:
        """One vector for the whole clip (summary, keywords, entities, scene labels, on-screen text, technical
        facts, transcript; truncated with the model's own tokenizer) and one per transcript line or scene
        with words, so search can answer with a time range. Local multilingual-e5-small by default."""
        started = StepClock.start()
        results: dict[str, EmbeddingSet] = {}
        for clip_id in clip_ids(context.partition_keys):
            row = catalog.embedding_inputs(clip_id)
            if row is None:
                raise Failure(description=f"clip {clip_id} has no clip_source row yet; materialize clip_source first")
            try:
                results[clip_id] = embedder.embed_clip(clip_id, row)
            except RuntimeError as exc:  # a model that is not installed names its package
                raise Failure(description=f"embeddings of clip {clip_id}: {exc}", allow_retries=False) from exc
        return clip_output(context, results, _clip_metadata, started=started,
                           totals={"vectors": sum(len(r.items) for r in results.values())})

    return embeddings
