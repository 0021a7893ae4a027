"""Each clip is one dynamic partition; its key is the clip id (the content fingerprint)."""

from dagster import DynamicPartitionsDefinition

clips_partitions = DynamicPartitionsDefinition(name="clips")


def clip_asset(*, default_enabled: bool = True, required: bool = False, **kwargs):
    """@asset for a per-clip product: clip partitions, one run over many clips, the catalog IO manager.

    `default_enabled` / `required` are what `video-catalog steps` and --enable/--disable read.
    """
    from dagster import BackfillPolicy, asset

    return asset(
        partitions_def=clips_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        io_manager_key="catalog_io_manager",
        metadata={"video_catalog/default_enabled": default_enabled, "video_catalog/required": required},
        **kwargs,
    )
