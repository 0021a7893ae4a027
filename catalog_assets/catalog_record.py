"""catalog_record: the clip's denormalized search row, rebuilt from the normalized rows."""

import time

from dagster import AssetExecutionContext, BackfillPolicy, Failure, MetadataValue, asset

from catalog_assets.partitions import clips_partitions
from catalog_resources.catalog_store import CatalogStore
from catalog_resources.models import CatalogRecord, ClipFacts


def build_record(clip_id: str, catalog: CatalogStore) -> CatalogRecord:
    row = catalog.record_inputs(clip_id)
    if row is None:
        raise Failure(description=f"clip {clip_id} has no clip_source row yet; materialize clip_source first")
    document = " ".join(
        part for part in (row["file_name"], *row["paths"], row.get("video_codec") or "", row.get("container") or "") if part
    )
    facts = {name: row[name] for name in ClipFacts.model_fields}
    return CatalogRecord(**facts, paths=row["paths"], status=row["status"], document=document)


@asset(
    partitions_def=clips_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    deps=["clip_source"],
    code_version="1",
    io_manager_key="catalog_io_manager",
    group_name="catalog",
    kinds={"postgres"},
    metadata={"video_catalog/default_enabled": True, "video_catalog/required": False},
)
def catalog_record(context: AssetExecutionContext, catalog: CatalogStore) -> dict[str, CatalogRecord]:
    """Builds the clip's search row (name, paths, duration, size, checksum, status and a text document)
    from the catalog tables. It depends on the other assets without loading them, so a disabled step
    only leaves its fields empty."""
    started = time.monotonic()
    records = {clip_id: build_record(clip_id, catalog) for clip_id in context.partition_keys}
    first = next(iter(records.values()))
    context.add_output_metadata(
        {"clips": len(records), "compute_seconds": round(time.monotonic() - started, 4), "preview": MetadataValue.json(first.model_dump(exclude={"document"}))}
    )
    return records
