"""Each clip is one dynamic partition, keyed `<first-seen file name>-<clip id>` (catalog_resources/ingest/
partition_keys.py), so a user finds a clip in the Dagster UI by its name. Assets, the IO manager and the
catalog speak clip ids; partition keys stay at the Dagster boundary, through these helpers.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from dagster import DagsterInstance, DynamicPartitionsDefinition

from catalog_resources.ingest.partition_keys import clip_id_of, keys_by_clip
from catalog_resources.workers import QUEUE_TAG, queue_of

clips_partitions = DynamicPartitionsDefinition(name="clips")


def clip_ids(keys: Iterable[str]) -> list[str]:
    """The clip ids of partition keys (e.g. `context.partition_keys`), in their order."""
    return [clip_id_of(key) for key in keys]


def keys_of(keys: Iterable[str]) -> dict[str, str]:
    """clip id -> partition key for these keys: how a clip's values find its partition again."""
    return {clip_id_of(key): key for key in keys}


def registered_keys(instance: DagsterInstance) -> dict[str, str]:
    """clip id -> partition key, for every clip registered in the instance."""
    return keys_by_clip(instance.get_dynamic_partitions(clips_partitions.name))


def clip_asset(*, default_enabled: bool = True, required: bool = False, **kwargs):
    """@asset for a per-clip product: clip partitions, one run over many clips, the catalog IO manager.

    `default_enabled` / `required` are what `video-catalog steps` and --enable/--disable read.
    """
    from dagster import BackfillPolicy, BetaWarning, asset

    # BackfillPolicy is beta in Dagster 1.13 and relied on knowingly (one run over many clips, measured in
    # bench/ingest.py); that one warning is silenced here, where it is accepted, and no other.
    def decorate(fn):
        # the Celery queue the step goes to when the celery executor runs it (ignored in process)
        options = dict(kwargs)
        tags = {QUEUE_TAG: queue_of(options.get("name") or fn.__name__), **options.pop("op_tags", {})}
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Parameter `backfill_policy` of function `asset`",
                                    category=BetaWarning)
            return asset(
                partitions_def=clips_partitions,
                backfill_policy=BackfillPolicy.single_run(),
                io_manager_key="catalog_io_manager",
                metadata={"video_catalog/default_enabled": default_enabled, "video_catalog/required": required},
                op_tags=tags,
                **options,
            )(fn)

    return decorate


def forget_partitions(instance: DagsterInstance, clip_ids: Iterable[str]) -> list[str]:
    """Delete these clips' partitions (`forget`): the keys deleted. Their past runs and events stay in the log."""
    keys = registered_keys(instance)
    deleted = []
    for clip_id in clip_ids:
        key = keys.get(clip_id)
        if key is not None:
            instance.delete_dynamic_partition(clips_partitions.name, key)
            deleted.append(key)
    return deleted
