"""The run requests of the folder sensor: one run per batch of new clips, one run per clip when a batch failed.

A sensor-launched run is a new process (~7 s before the first step), so a card of 200 clips requested one
run per clip crawls. Like `video-catalog ingest` (catalog_assets/ingest_runner.py) the sensor asks for one
run per contiguous range of clip partitions (the assets use BackfillPolicy.single_run and loop over the
range), cut by the same function (catalog_resources/ingest/batches.py), and when such a run fails its clips
are requested again one per run, so a corrupt clip fails alone and its neighbours are cataloged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from dagster import AssetKey, DagsterRun, RunRequest
# No public equivalent in Dagster 1.13: a RunRequest takes one partition_key, a range only as these run tags
# (what declarative automation and `dagster job launch --partition-range` write too).
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from catalog_resources.ingest.batches import contiguous_batches, keys_in_range

BATCH_TAG = "video_catalog/sensor_batch"  # on a batch run of the sensor: its batch id; the retry sensor reads it
RETRY_OF_TAG = "video_catalog/retry_of"  # on a per-clip retry: the failed batch run it stands in for

Selection = Sequence[AssetKey] | None  # None: every asset of the ingest job


def batch_id(batch: Sequence[str]) -> str:
    """Stable for the same clips, so a re-evaluated tick asks for the same run key (Dagster runs it once)."""
    return hashlib.sha1("\n".join(batch).encode()).hexdigest()[:16]


def batch_request(batch: Sequence[str], selection: Selection) -> RunRequest:
    """One run for the batch: a lone clip by its partition key, several by the range first..last."""
    if len(batch) == 1:
        return RunRequest(run_key=batch[0], partition_key=batch[0], asset_selection=selection)
    key = batch_id(batch)
    return RunRequest(
        run_key=f"batch:{key}",
        asset_selection=selection,
        tags={BATCH_TAG: key, ASSET_PARTITION_RANGE_START_TAG: batch[0], ASSET_PARTITION_RANGE_END_TAG: batch[-1]},
    )


def new_clip_requests(
    registered: Sequence[str], groups: Sequence[tuple[Sequence[str], Selection]], size: int
) -> tuple[list[str], list[RunRequest]]:
    """(partition keys to add, in this order; the batch run requests) for new clips grouped by asset selection.

    The keys are added in one request after every registered key, group after group, so each group is a
    contiguous run of the partition list and fills whole batches (a metadata-only clip between two others
    would cut their range in two). The order is predicted from `registered`, which the daemon appends to.
    """
    added = [clip_id for clip_ids, _selection in groups for clip_id in clip_ids]
    order = [*registered, *added]
    requests = [
        batch_request(batch, selection)
        for clip_ids, selection in groups
        for batch in contiguous_batches(order, clip_ids, size)
    ]
    return added, requests


def retry_requests(run: DagsterRun, order: Sequence[str]) -> list[RunRequest]:
    """One run per clip of a failed batch run of the sensor, with the batch's asset selection.

    Runs that are not sensor batches (a lone clip, the CLI's own runs, a retry) get none: they failed alone
    already, and the CLI retries its batches itself.
    """
    key = run.tags.get(BATCH_TAG)
    start, end = run.tags.get(ASSET_PARTITION_RANGE_START_TAG), run.tags.get(ASSET_PARTITION_RANGE_END_TAG)
    if not (key and start and end):
        return []
    selection = sorted(run.asset_selection, key=lambda k: k.to_user_string()) if run.asset_selection else None
    return [
        RunRequest(run_key=f"{key}:{clip_id}", partition_key=clip_id, asset_selection=selection,
                   tags={RETRY_OF_TAG: run.run_id})
        for clip_id in keys_in_range(order, start, end)
    ]
