"""clip_output puts each clip's values on its own partition's event without Dagster's per-call partition lookup.

Dagster 1.13's `add_asset_metadata(partition_key=...)` re-read the dynamic partitions from the event log on
every call (~0.2 s a clip in a batch run); catalog_assets/metadata.py `_add_partition_metadata` checks the
key once a batch and writes the step's metadata accumulator. These runs (a real in-memory Dagster instance,
dynamic partitions, one run over a partition range) check the events are the same as the public call's,
that a clip the run does not target still fails the step, and that the private name it relies on is there
(if Dagster renames it, the slow public call is used and this test says so).
"""

from __future__ import annotations

import warnings

from dagster import (
    AssetKey, AssetRecordsFilter, BackfillPolicy, BetaWarning, DagsterInstance, DynamicPartitionsDefinition, IOManager,
    asset, materialize,
)
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from pydantic import BaseModel

from catalog_assets.metadata import clip_output
from catalog_resources.work.cpu import StepClock

PARTS = DynamicPartitionsDefinition(name="metadata_test_clips")
KEYS = ["a.mp4-00000000000000aa", "b.mov-00000000000000bb", "c.mkv-00000000000000cc"]  # <name>-<clip id>
seen: dict[str, bool] = {}


class KeptInMemory(IOManager):
    """Keeps a batch's {partition: model} output (Dagster's file IO managers take one partition per output)."""

    def __init__(self) -> None:
        self.outputs: dict[str, dict] = {}

    def handle_output(self, context, obj) -> None:
        self.outputs[context.asset_key.to_user_string()] = dict(obj)

    def load_input(self, context):
        raise NotImplementedError


class Made(BaseModel):
    clip: str
    size: int


with warnings.catch_warnings():
    warnings.simplefilter("ignore", BetaWarning)

    @asset(partitions_def=PARTS, backfill_policy=BackfillPolicy.single_run())
    def made(context):
        started = StepClock.start()
        seen["accumulator"] = hasattr(context.get_step_execution_context(), "_metadata_accumulator")
        results = {key[-16:]: Made(clip=key, size=10 * (i + 1)) for i, key in enumerate(context.partition_keys)}
        return clip_output(context, results, lambda m: {"clip": m.clip, "size": m.size}, started=started,
                           totals={"bytes": 60})

    @asset(partitions_def=PARTS, backfill_policy=BackfillPolicy.single_run())
    def mislabeled(context):
        results = {"00000000000000dd": Made(clip=key, size=1) for key in context.partition_keys}
        return clip_output(context, results, lambda m: {"clip": m.clip}, started=StepClock.start())


def _batch_run(instance: DagsterInstance, asset_def):
    return materialize([asset_def], instance=instance, raise_on_error=False, resources={"io_manager": KeptInMemory()},
                       tags={ASSET_PARTITION_RANGE_START_TAG: KEYS[0], ASSET_PARTITION_RANGE_END_TAG: KEYS[-1]})


def test_each_partition_gets_its_own_values_in_one_batch_run():
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(PARTS.name, KEYS)
    assert _batch_run(instance, made).success
    assert seen["accumulator"], "Dagster's step metadata accumulator moved: clip_output falls back to the slow call"
    for i, key in enumerate(KEYS):
        records = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=AssetKey("made"), asset_partitions=[key]), limit=2).records
        assert len(records) == 1, key
        values = {k: v.value for k, v in records[0].asset_materialization.metadata.items()}
        assert (values["clip"], values["size"]) == (key, 10 * (i + 1))
        assert values["batch_clips"] == 3 and values["batch_bytes"] == 60
        assert len(values["content_version"]) == 16


def test_a_clip_the_run_does_not_target_fails_the_step():
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(PARTS.name, KEYS)
    result = _batch_run(instance, mislabeled)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "results for clips this run does not target: 00000000000000dd" in failure.step_failure_data.error.message
