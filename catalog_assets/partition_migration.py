"""Catalogs made before readable partition keys: their bare-id partitions renamed, each clip's products carried over.

Dagster cannot rename a partition, nor move events between partitions. So each clip registered under its bare
id gets its readable key (catalog_resources/ingest/partition_keys.py), the latest materialization of each of
its assets is reported again under that key (a runless event with the same metadata and tags, so the same code
and data versions: nothing turns stale, nothing is redone, the UI shows the clip green under its name) with
`migrated_from` naming the old partition and run, and the old partition is deleted. The old runs and events
stay in the event log. Runs once per instance, under a catalog lock, when the CLI first opens the instance.
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster import AssetKey, AssetMaterialization, DagsterInstance

from catalog_assets.metadata import latest_records
from catalog_assets.partitions import clips_partitions
from catalog_resources.ingest.partition_keys import is_legacy_key, partition_key
from catalog_resources.resources.catalog import CatalogResource

RENAME_LOCK_ID = 7_300_002  # pg_advisory_lock key: one process renames an instance's partitions
PAGE = 500  # partitions per event-log query


def legacy_partitions(instance: DagsterInstance) -> list[str]:
    """The clip partitions still keyed by the bare clip id."""
    return [key for key in instance.get_dynamic_partitions(clips_partitions.name) if is_legacy_key(key)]


def carried_over(record, old_key: str, new_key: str) -> AssetMaterialization:
    """The record's materialization under the new key: same metadata and tags, and where it came from."""
    event = record.asset_materialization
    return AssetMaterialization(
        asset_key=event.asset_key,
        partition=new_key,
        description=f"Carried over from partition {old_key} (run {record.run_id}) when clips got readable keys.",
        metadata={**event.metadata, "migrated_from": old_key, "migrated_from_run": record.run_id},
        tags=event.tags,
    )


def rename_legacy_partitions(instance: DagsterInstance, store: CatalogResource, assets: Sequence[str]) -> dict[str, str]:
    """Give every bare-id clip partition its readable key; returns old key -> new key (empty when none was left).

    `assets`: the per-clip assets in graph order, so upstream products are carried over before what was made
    from them."""
    with store.exclusively(RENAME_LOCK_ID):
        legacy = legacy_partitions(instance)  # another process may have finished meanwhile
        if not legacy:
            return {}
        names = store.first_names(legacy)
        renamed = {old: partition_key(old, names.get(old)) for old in legacy}
        instance.add_dynamic_partitions(clips_partitions.name, list(renamed.values()))
        for start in range(0, len(legacy), PAGE):
            page = legacy[start : start + PAGE]
            for asset in assets:
                for old, record in latest_records(instance, AssetKey(asset), page).items():
                    instance.report_runless_asset_event(carried_over(record, old, renamed[old]))
            for old in page:
                instance.delete_dynamic_partition(clips_partitions.name, old)
        return renamed
