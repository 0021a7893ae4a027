"""How assets put their values, and their lineage, on each clip's materialization.

Dagster's JSON metadata takes only what `json.dumps` takes; a recording date (datetime), a path or a
pydantic model in it failed the whole step (`DagsterInvalidMetadata`), so every dated camera file
failed catalog_record. Everything structured goes through `json_metadata`.

A batch run materializes many clip partitions from one asset call. `context.add_output_metadata` puts
the same values on every partition's event, so clip B's materialization showed clip A's poster and
duration. `clip_output` is the one way every asset finishes: each clip's values go on that clip's event
(`add_asset_metadata(..., partition_key=clip)`, merged over the batch-wide values in Dagster 1.13's
`_get_output_asset_events`), the batch's totals are named `batch_*`, and each clip's event names the
exact upstream materializations (run, event id, data version, content) it was made from.

Data versions. Dagster 1.13 computes ONE data version per asset per step, not per partition
(dagster/_core/execution/plan/execute_step.py `_get_output_asset_events`: `data_version` is computed once
from `output.data_version` or the code version + input versions, and every partition's event gets a copy
of the same `all_tags`); `Output(data_version=...)` / `MaterializeResult(data_version=...)` take one value,
and `DataVersionsByPartition` is accepted only from an observable source asset's observe function
(_core/definitions/source_asset.py). The default input data version of a partitioned input is the sha256
of the data versions of ALL the run's upstream partitions concatenated (_core/execution/context/
data_version_cache.py `_get_partitions_data_version_from_keys`), so it never equals the upstream clip's
own data version, and it changes with the batch's size, not with what was made.

So the data version here is one that is true of every clip in a batch, and follows the rule `refresh
--stale` applies (catalog_assets/refresh.py): a product made again makes what was built from it out of
date, except clip_source, whose product is fixed by the clip's content (the partition key). clip_source's
data version is the hash of its code version; any other asset's is the hash of its code version, the data
versions of its clips' upstream materializations and the run that made it, when those upstream versions
are the same for every clip of the batch (the usual case: made by one run). Then each clip's
`input_data_version` tag equals the data version of that clip's own upstream materialization. When the
clips' upstream versions differ, no single value is true for all of them: Dagster's default data version
is kept and the input tag, which would be misleading, says "per clip: see the lineage metadata". What
differs per clip (its content hash, the MD5 for clip_source, and the exact upstream events) is in the
`content_version` and `lineage` metadata of each clip's materialization.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from dagster import (
    AssetExecutionContext, AssetKey, AssetRecordsFilter, BetaWarning, DagsterInstance, DagsterInvariantViolationError,
    DataVersion, MetadataValue, Output,
)
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from catalog_assets.io_manager import sidecar_path
from catalog_assets.partitions import keys_of
from catalog_resources.work.cpu import StepClock

M = TypeVar("M", bound=BaseModel)

# Dagster's own tag names (dagster._core.definitions.data_version DATA_VERSION_TAG and
# get_input_data_version_tag); they are not exported, the names are documented in its data versioning guide.
DATA_VERSION_TAG = "dagster/data_version"
INPUT_DATA_VERSION_TAG = "dagster/input_data_version/{}"
NEVER_MATERIALIZED = "NULL"  # Dagster's NULL_DATA_VERSION: the upstream clip has no materialization
MIXED_INPUTS = "per clip: see the lineage metadata"


def json_metadata(value: Any) -> MetadataValue:
    """JSON metadata from models, datetimes, paths, tuples: anything pydantic can serialize."""
    return MetadataValue.json(to_jsonable_python(value, fallback=str))


# How long a step took is no part of what it made: a re-run that makes the same product has the same
# content version. Top-level fields of the asset models (TechnicalMetadata.probe_ms, DerivedMedia.seconds
# and .speed, ComprehensiveAIAnalysis.timings, ...).
TIMING_FIELDS = frozenset({"seconds", "speed", "hash_seconds", "probe_ms", "timings"})


def content_version(model: BaseModel) -> str:
    """A short hash of what the step made for the clip: its sidecar's content without the timings."""
    exclude = TIMING_FIELDS & set(type(model).model_fields)
    return hashlib.sha256(model.model_dump_json(exclude=exclude).encode()).hexdigest()[:16]


class Upstream(BaseModel):
    """One clip's upstream materialization: enough to find that exact event in the UI or the event log."""

    asset: str
    run_id: str
    event_id: int  # the event log's storage id
    data_version: str | None
    content_version: str | None


def _upstream_keys(context: AssetExecutionContext) -> list[AssetKey]:
    """What the asset reads or depends on (inputs and `deps`), in a stable order."""
    keys = {dep.asset_key for spec in context.assets_def.specs for dep in spec.deps}
    return sorted(keys, key=lambda k: k.to_user_string())


def _as_upstream(record) -> Upstream:
    event = record.asset_materialization
    meta = event.metadata.get("content_version")
    return Upstream(
        asset=event.asset_key.to_user_string(), run_id=record.run_id, event_id=record.storage_id,
        data_version=(event.tags or {}).get(DATA_VERSION_TAG),
        content_version=str(meta.value) if meta is not None else None,
    )


def latest_records(instance: DagsterInstance, key: AssetKey, partitions: Sequence[str]) -> dict[str, Any]:
    """partition key -> its latest materialization record of `key`, newest first, a page at a time until all
    are found (partitions never materialized are absent)."""
    wanted = set(partitions)
    found: dict[str, Any] = {}
    cursor = None
    while len(found) < len(wanted):
        page = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=key, asset_partitions=list(wanted)), limit=max(len(wanted), 50), cursor=cursor
        )
        for record in page.records:
            if record.partition_key in wanted and record.partition_key not in found:
                found[record.partition_key] = record
        if not page.has_more:
            break
        cursor = page.cursor
    return found


def latest_by_partition(instance: DagsterInstance, key: AssetKey, partitions: Mapping[str, str]) -> dict[str, Upstream]:
    """Each clip's latest materialization of `key` (`partitions`: clip id -> partition key), by clip id."""
    clip_of = {partition: clip_id for clip_id, partition in partitions.items()}
    records = latest_records(instance, key, list(clip_of))
    return {clip_of[partition]: _as_upstream(record) for partition, record in records.items()}


def _batch_data_version(code_version: str, upstream: Mapping[AssetKey, Mapping[str, Upstream]],
                        clip_ids: Iterable[str], run_id: str) -> tuple[DataVersion | None, dict[str, str]]:
    """(the data version true of every clip, the input data version tags); None when the clips' inputs differ.

    A root asset (clip_source) gets the same version whichever run re-makes it: its product is fixed by the
    clip's content. Anything else made again is new input for what depends on it (refresh.py's rule)."""
    inputs: dict[str, str] = {}
    mixed: list[str] = []
    for key, by_clip in upstream.items():
        name = key.to_user_string()
        versions = {(by_clip[c].data_version if c in by_clip else None) or NEVER_MATERIALIZED for c in clip_ids}
        if len(versions) == 1:
            inputs[name] = versions.pop()
        else:
            mixed.append(name)
    tags = {INPUT_DATA_VERSION_TAG.format(name): version for name, version in inputs.items()}
    if mixed:
        return None, tags | {INPUT_DATA_VERSION_TAG.format(name): MIXED_INPUTS for name in mixed}
    digest = hashlib.sha256(code_version.encode())
    for name, version in sorted(inputs.items()):
        digest.update(f"\n{name}={version}".encode())
    if inputs:
        digest.update(f"\nrun={run_id}".encode())
    return DataVersion(digest.hexdigest()), tags


def _sidecar(context: AssetExecutionContext, clip_id: str) -> MetadataValue | None:
    """The clip's sidecar (the catalog IO manager's file), when the IO manager is that one."""
    media_dir = getattr(getattr(context.resources, "catalog_io_manager", None), "media_dir", None)
    if media_dir is None:
        return None
    return MetadataValue.path(str(sidecar_path(media_dir, clip_id, context.asset_key.path[-1])))


def _add_partition_metadata(context: AssetExecutionContext, values: Mapping[str, Any], *, partition_key: str) -> None:
    """`context.add_asset_metadata(values, partition_key=...)` without a database lookup per call.

    Dagster 1.13's StepExecutionContext.add_asset_metadata (_core/execution/context/system.py) checks that
    the key is one the run targets by re-reading the dynamic partitions from the event log on EVERY call
    (has_dynamic_partition twice, get_dynamic_partitions once: ~25-35 ms), which cost ~0.2 s a clip in a
    batch run (bench/ingest.py). clip_output checks once a batch that every clip is one the run targets, then
    the values go where add_asset_metadata puts them: the step's metadata
    accumulator, read by execute_step.py `_get_output_asset_events` for that partition's event. Dagster has
    no public way to add per-partition metadata without the lookup, so this relies on Dagster 1.13's
    `get_step_execution_context()` (documented for framework authors) and its private `_metadata_accumulator`;
    if that is not there, the public call is made (same events, slower).
    """
    step = context.get_step_execution_context()
    accumulator = getattr(step, "_metadata_accumulator", None)
    if not hasattr(accumulator, "with_additional_asset_metadata"):
        context.add_asset_metadata(values, partition_key=partition_key)
        return
    step._metadata_accumulator = accumulator.with_additional_asset_metadata(
        asset_key=context.asset_key, partition_key=partition_key, metadata=values
    )


def clip_output(
    context: AssetExecutionContext,
    results: Mapping[str, M],
    per_clip: Callable[[M], Mapping[str, Any]],
    *,
    started: StepClock,
    totals: Mapping[str, Any] | None = None,
    content: Callable[[M], str] = content_version,
) -> Output:
    """The asset's return value: `results` with each clip's own metadata and lineage on its materialization.

    `per_clip(model)` gives the values shown on that clip's event; `totals` are the batch's (shown on every
    clip's event as `batch_<name>`, with `batch_clips`, `compute_seconds`, the seconds inside the asset
    function for the whole batch, which `ingest` sums, and `cpu_seconds`, the CPU it spent, subprocesses
    included: more than compute_seconds when clips ran side by side); `content(model)` identifies what was made.
    """
    clip_ids = list(results)
    partitions = keys_of(context.partition_keys)
    upstream = {key: latest_by_partition(context.instance, key, partitions) for key in _upstream_keys(context)}
    context.add_asset_metadata({
        "compute_seconds": round(started.wall_seconds(), 4),
        "cpu_seconds": round(started.cpu_seconds(), 3),
        "batch_clips": len(clip_ids),
        **{f"batch_{name}": value for name, value in (totals or {}).items()},
    })
    strays = [clip_id for clip_id in clip_ids if clip_id not in partitions]
    if strays:  # what Dagster's add_asset_metadata would refuse, checked once a batch
        raise DagsterInvariantViolationError(f"results for clips this run does not target: {', '.join(strays[:5])}")
    for clip_id, model in results.items():
        lineage = {key.to_user_string(): by_clip[clip_id] for key, by_clip in upstream.items() if clip_id in by_clip}
        values: dict[str, Any] = {**per_clip(model), "content_version": content(model)}
        if lineage:
            values["lineage"] = json_metadata(lineage)
        sidecar = _sidecar(context, clip_id)
        if sidecar is not None:
            values["sidecar"] = sidecar
        _add_partition_metadata(context, values, partition_key=partitions[clip_id])
    code_version = context.assets_def.code_versions_by_key.get(context.asset_key) or ""
    data_version, tags = _batch_data_version(code_version, upstream, clip_ids, context.run_id)
    # `Output(data_version=...)` is beta in Dagster 1.13 and relied on knowingly (see the module docstring):
    # that one warning is silenced here, where it is accepted, and no other.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Parameter `data_version` of initializer `Output", category=BetaWarning)
        return Output(results, data_version=data_version, tags=tags or None)
