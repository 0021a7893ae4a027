"""The folder sensor catalogs a card of new files in batch runs, and a failed batch clip by clip.

The folder sensor is evaluated as the daemon evaluates it (`evaluate_tick`, which also resolves its run
requests against the partitions the tick adds), the retry sensor through build_run_status_sensor_context,
both on a real instance; the runs they request are then executed in-process through that instance with the
request's partition, tags and asset selection, which is what the daemon's launched run executes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg
import pytest
from dagster import (
    AssetKey, DagsterEventType, DagsterRun, DagsterRunStatus, RunRequest, build_run_status_sensor_context, build_sensor_context,
)
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from catalog_assets.catalog_app import CatalogApp
from catalog_assets.definitions import build_definitions
from catalog_assets.graph import INGEST_JOB_NAME
from catalog_assets.partitions import clips_partitions
from catalog_resources.ingest.batches import contiguous_batches, keys_in_range
from catalog_resources.media.samples import ClipSpec, make_clip
from catalog_resources.settings import CatalogSettings
from catalog_sensors.batch_runs import BATCH_TAG, RETRY_OF_TAG, new_clip_requests, retry_requests
from tests.media import copy

CARD = 20
SETTLE = 600  # longer than the test, so a file given mtime now stays unsettled throughout
# the sensor's runs without the steps that need model files, so the test measures batching, not inference
STEPS = [AssetKey(name) for name in ("clip_source", "technical_metadata", "proxy", "thumbnails",
                                      "frame_analysis", "catalog_record")]


@pytest.fixture(scope="module")
def card(tmp_path_factory) -> list[Path]:
    """Twenty tiny clips of distinct content (their titles differ), as a camera card holds them, and one more."""
    folder = tmp_path_factory.mktemp("card")
    return [
        make_clip(folder / f"A001_C{n:03d}.mp4", ClipSpec(
            name=f"A001_C{n:03d}.mp4", width=160, height=90, fps=10, seconds=0.4, audio=False,
            extra=["-metadata", f"title=take {n}"]))
        for n in range(CARD + 1)
    ]


def drop(files: list[Path], watched: Path, *, settled: bool = True) -> list[Path]:
    """Copy files into the watched folder; settled ones get an mtime older than the settle period."""
    old = time.time() - 2 * SETTLE
    copied = [copy(f, watched / f.name) for f in files]
    for path in copied:
        if settled:
            os.utime(path, (old, old))
    return copied


def tick(defs, instance, cursor=None):
    """One evaluation as the code server runs it for the daemon (with an instance ref, so partitions resolve)."""
    sensor = defs.get_sensor_def("footage_sensor")
    with build_sensor_context(instance=instance, instance_ref=instance.get_ref(), definitions=defs,
                              resources=defs.resources, cursor=cursor) as context:
        return sensor.evaluate_tick(context)


def apply_partitions(instance, result) -> list[str]:
    """What the daemon does with the tick's dynamic partitions requests, before it creates the runs."""
    added = []
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
        added += request.partition_keys
    return added


def launch(defs, instance, request: RunRequest):
    """Execute a requested run in this process, as the daemon's launched run would execute it."""
    job = defs.resolve_job_def(INGEST_JOB_NAME)
    selection = request.asset_selection if request.asset_selection is not None else STEPS
    return job.execute_in_process(instance=instance, asset_selection=[k for k in selection if k in STEPS],
                                  partition_key=request.partition_key, tags=dict(request.tags), raise_on_error=False)


def covered(instance, request: RunRequest) -> list[str]:
    if request.partition_key:
        return [request.partition_key]
    order = instance.get_dynamic_partitions(clips_partitions.name)
    return keys_in_range(order, request.tags[ASSET_PARTITION_RANGE_START_TAG], request.tags[ASSET_PARTITION_RANGE_END_TAG])


def cataloged_names() -> set[str]:
    with psycopg.connect(os.environ["VIDEO_CATALOG_DATABASE_URL"]) as conn:
        return {row[0] for row in conn.execute("SELECT file_name FROM clips")}


def open_app(watched: Path, **settings) -> tuple[object, object]:
    settings = CatalogSettings(watch=str(watched), settle_seconds=SETTLE, **settings)
    app = CatalogApp(settings)
    app.store  # migrated
    return build_definitions(settings), app.instance


@pytest.mark.slow
def test_twenty_files_dropped_at_once_are_cataloged_in_two_runs(catalog_env, tmp_path, card):
    watched = tmp_path / "watched"
    drop(card[:CARD], watched)
    [still_copying] = drop(card[CARD:], watched, settled=False)  # mtime now: within the settle period
    defs, instance = open_app(watched)

    first = tick(defs, instance)
    added = apply_partitions(instance, first)
    assert len(added) == CARD
    assert len(first.run_requests) <= 2
    requested = [key for request in first.run_requests for key in covered(instance, request)]
    assert sorted(requested) == sorted(added)  # every new clip once, the settling file not at all
    assert all(r.tags.get(BATCH_TAG) and r.run_key == f"batch:{r.tags[BATCH_TAG]}" for r in first.run_requests)

    results = [launch(defs, instance, request) for request in first.run_requests]
    assert all(result.success for result in results)
    assert cataloged_names() == {f.name for f in card[:CARD]}
    for request, result in zip(first.run_requests, results):  # each run materialized its whole range
        records = instance.get_records_for_run(result.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
        made = [r.event_log_entry.asset_materialization for r in records]
        assert {m.partition for m in made if m.asset_key == AssetKey("catalog_record")} == set(covered(instance, request))

    second = tick(defs, instance, first.cursor)
    assert second.run_requests == [] and second.dynamic_partitions_requests == []
    os.utime(still_copying, (time.time() - 2 * SETTLE,) * 2)  # the copy finished long ago: it is picked up alone
    third = tick(defs, instance, second.cursor)
    assert [r.partition_key for r in third.run_requests] == [k for r in third.dynamic_partitions_requests
                                                             for k in r.partition_keys]
    assert len(third.run_requests) == 1


@pytest.mark.slow
def test_a_failed_batch_is_retried_one_run_per_clip(catalog_env, tmp_path, card):
    """A file damaged after the tick fails its batch; the retry catalogs its neighbours and fails it alone."""
    watched = tmp_path / "watched"
    files = drop(card[:5], watched)
    defs, instance = open_app(watched)
    first = tick(defs, instance)
    added = apply_partitions(instance, first)
    [batch] = first.run_requests

    damaged = files[2]
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2:] = bytes(len(data) - len(data) // 2)  # its second half zeroed: no longer its content
    damaged.write_bytes(bytes(data))
    os.utime(damaged, (time.time() - 2 * SETTLE,) * 2)
    failed = launch(defs, instance, batch)
    assert not failed.success

    retry_sensor = defs.get_sensor_def("footage_batch_retry")
    context = build_run_status_sensor_context(
        sensor_name="footage_batch_retry", dagster_event=failed.get_run_failure_event(), dagster_instance=instance,
        dagster_run=failed.dagster_run)
    retries = list(retry_sensor(context))
    assert sorted(r.partition_key for r in retries) == sorted(added)  # one run per clip of the batch
    assert len({r.run_key for r in retries}) == len(added)
    assert all(r.tags[RETRY_OF_TAG] == failed.run_id for r in retries)

    outcome = {r.partition_key: launch(defs, instance, r) for r in retries}
    bad = next(key for key, result in outcome.items() if not result.success)
    assert [key for key, result in outcome.items() if not result.success] == [bad]
    assert cataloged_names() == {f.name for f in files} - {damaged.name}
    made = instance.get_materialized_partitions(AssetKey("catalog_record"))
    assert made == set(added) - {bad}
    assert instance.get_run_by_id(outcome[bad].run_id).status == DagsterRunStatus.FAILURE

    # a retry that fails, and a run the sensor did not launch as a batch, are not retried again
    context = build_run_status_sensor_context(
        sensor_name="footage_batch_retry", dagster_event=outcome[bad].get_run_failure_event(),
        dagster_instance=instance, dagster_run=outcome[bad].dagster_run)
    assert list(retry_sensor(context)) == []


META = [AssetKey("clip_source"), AssetKey("technical_metadata"), AssetKey("catalog_record")]


def test_new_clips_are_added_group_after_group_and_cut_into_contiguous_batches():
    """A metadata-only clip found between two others must not split their batch: each group is added in one piece."""
    added, requests = new_clip_requests(["old1", "old2"], [(["a", "b", "c"], None), (["m1", "m2"], META)], 2)
    assert added == ["a", "b", "c", "m1", "m2"]
    shape = [(r.tags.get(ASSET_PARTITION_RANGE_START_TAG), r.tags.get(ASSET_PARTITION_RANGE_END_TAG), r.partition_key,
              r.asset_selection) for r in requests]
    assert shape == [("a", "b", None, None), (None, None, "c", None), ("m1", "m2", None, META)]
    again = new_clip_requests(["old1", "old2"], [(["a", "b", "c"], None), (["m1", "m2"], META)], 2)[1]
    assert [r.run_key for r in again] == [r.run_key for r in requests]  # a re-evaluated tick asks for the same runs
    assert len({r.run_key for r in requests}) == 3


def test_batches_follow_the_partition_order_and_break_at_gaps():
    order = ["a", "b", "c", "d", "e", "f"]
    assert contiguous_batches(order, ["e", "a", "b", "d", "f"], 2) == [["a", "b"], ["d", "e"], ["f"]]
    assert contiguous_batches(order, ["a", "b", "c"], 1) == [["a"], ["b"], ["c"]]
    assert keys_in_range(order, "b", "d") == ["b", "c", "d"] and keys_in_range(order, "b", "zz") == []


def test_only_a_sensor_batch_run_is_retried_with_its_own_selection():
    tags = {BATCH_TAG: "x1", ASSET_PARTITION_RANGE_START_TAG: "b", ASSET_PARTITION_RANGE_END_TAG: "c"}
    batch = DagsterRun(job_name=INGEST_JOB_NAME, run_id="r1", tags=tags, asset_selection=frozenset(META))
    retries = retry_requests(batch, ["a", "b", "c", "d"])
    assert [(r.partition_key, r.run_key) for r in retries] == [("b", "x1:b"), ("c", "x1:c")]
    assert all(set(r.asset_selection) == set(META) and r.tags == {RETRY_OF_TAG: "r1"} for r in retries)
    cli_batch = DagsterRun(job_name=INGEST_JOB_NAME, run_id="r2", tags={k: v for k, v in tags.items() if k != BATCH_TAG})
    assert retry_requests(cli_batch, ["a", "b", "c", "d"]) == []  # the CLI retries its own batches
