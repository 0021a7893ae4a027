"""Run the asset graph for clips through the Dagster instance, so CLI runs appear in the UI with lineage.

Two run modes, chosen by measurement (bench/ingest.py):
- batch: one run materializes a contiguous range of clip partitions (assets use
  BackfillPolicy.single_run() and loop over context.partition_keys); Dagster's fixed cost per run is
  shared by the batch. If a batch fails, its clips are re-run one per run, so one corrupt clip fails
  alone and its neighbours are cataloged.
- per-clip: one in-process run per clip.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from dagster import AssetKey, DagsterEventType, DagsterInstance, DagsterRunStatus, Definitions, RunsFilter
from pydantic import BaseModel

from catalog_assets.executors import execute_on_workers, partition_tags
from catalog_assets.graph import INGEST_JOB_NAME
from catalog_assets.partitions import clips_partitions, registered_keys
from catalog_resources.ingest.batches import clips_per_run, contiguous_batches, spread_size
from catalog_resources.ingest.partition_keys import clip_id_of, keys_by_clip, partition_key
from catalog_resources.auth.session import user_tags
from catalog_resources.store.ingest_state import this_host
from catalog_resources.processes import process_alive

ProgressFn = Callable[[int, str], None]  # (clips finished in this call, message)


class ClipRunResult(BaseModel):
    clip_id: str
    success: bool
    run_id: str
    error: str | None = None
    failed_step: str | None = None
    seconds: float = 0.0


PID_TAG, HOST_TAG = "video_catalog/pid", "video_catalog/host"


def process_tags() -> dict[str, str]:
    """Tags naming the process that runs in-process, so a run it left STARTED can be told dead later, and, in a
    shared catalog, the user whose rows it writes."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: this_host(), **user_tags()}


def fail_orphaned_runs(instance: DagsterInstance) -> list[str]:
    """Mark failed the runs a killed ingest left STARTED (its process on this host is gone).

    In-process runs have no run monitor: after kill -9 (or a lost database) they stay STARTED forever,
    the UI shows them running, and the concurrency slots they held stay taken. Returns the run ids marked.
    """
    host = this_host()
    marked = []
    records = instance.get_run_records(RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING],
                                                  tags={HOST_TAG: host}))
    for record in records:
        run = record.dagster_run
        pid = run.tags.get(PID_TAG)
        if pid is None or not pid.isdigit() or process_alive(int(pid)):
            continue
        instance.report_run_failed(run, f"the ingest process (pid {pid}) ended while this run was in progress")
        # its pool slots (pool `ai`) were never given back: every later ai_analysis step would wait forever
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        marked.append(run.run_id)
    storage = instance.event_log_storage
    for run_id in storage.get_concurrency_run_ids():  # slots still held by runs that ended
        held_by = instance.get_run_by_id(run_id)
        if held_by is None or held_by.is_finished:
            storage.free_concurrency_slots_for_run(run_id)
    return marked


class RunStats(BaseModel):
    runs: int = 0
    wall_seconds: float = 0.0  # execute_in_process, start to end
    compute_seconds: float = 0.0  # inside the asset functions (their `compute_seconds` metadata)

    @property
    def overhead_seconds(self) -> float:
        """Everything Dagster and our glue add around the work: run setup, events, IO manager, checks."""
        return max(self.wall_seconds - self.compute_seconds, 0.0)


def register_partitions(instance: DagsterInstance, names: Mapping[str, str | None]) -> dict[str, str]:
    """Register the clips not yet known (`names`: clip id -> the file name it was first seen under) under
    readable keys, together, so a batch of new clips forms one contiguous range. A clip registered before keeps
    its key. Returns clip id -> partition key for every clip in `names`."""
    known = registered_keys(instance)
    new = {clip_id: partition_key(clip_id, name) for clip_id, name in names.items() if clip_id not in known}
    if new:
        instance.add_dynamic_partitions(clips_partitions.name, list(new.values()))
    return {clip_id: known.get(clip_id) or new[clip_id] for clip_id in names}


def _contiguous_batches(instance: DagsterInstance, clip_ids: Sequence[str], size: int) -> list[list[str]]:
    """The batches (of partition keys) the folder sensor cuts too (catalog_resources/ingest/batches.py), from
    the instance's order."""
    order = instance.get_dynamic_partitions(clips_partitions.name)
    keys = keys_by_clip(order)
    missing = [c for c in clip_ids if c not in keys]
    if missing:
        raise ValueError(f"clips not registered as partitions: {', '.join(missing[:5])}")
    return contiguous_batches(order, [keys[c] for c in clip_ids], size)


def _failure_message(result) -> tuple[str, str | None]:
    """(one-line reason, the first failed step) of a failed run."""
    messages = []
    steps = []
    run_errors = []  # a run that failed outside any step (on Celery: the broker went away while it sent or polled)
    for event in result.all_events:
        if event.event_type == DagsterEventType.RUN_FAILURE and event.job_failure_data.error is not None:
            text = event.job_failure_data.error.message.strip()
            run_errors.append(text.splitlines()[0] if text else "run failed")
        if event.event_type != DagsterEventType.STEP_FAILURE:
            continue
        data = event.step_failure_data
        steps.append(event.step_key)
        if data.user_failure_data is not None and data.user_failure_data.description:
            messages.append(data.user_failure_data.description)
        elif data.error is not None:
            cause = data.error.cause
            text = (cause.message if cause is not None else data.error.message).strip()
            messages.append(text.splitlines()[0] if text else "step failed")
    return "; ".join(dict.fromkeys(messages or run_errors)) or "run failed", (steps[0] if steps else None)


def _compute_seconds(instance: DagsterInstance, run_id: str) -> float:
    """Seconds inside asset functions, read back from the run's materializations.

    A batch output writes the same metadata on every partition's materialization, so take one value
    per asset.
    """
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
    per_asset: dict[str, float] = {}
    for record in records:
        materialization = record.event_log_entry.asset_materialization
        value = materialization.metadata.get("compute_seconds") if materialization else None
        if value is not None:
            key = materialization.asset_key.to_user_string()
            per_asset[key] = max(per_asset.get(key, 0.0), float(value.value))
    return sum(per_asset.values())


Outcome = tuple[bool, str, tuple[str, str | None] | None, float]  # (success, run id, (reason, step) if failed, seconds)


def execute_clips(
    defs: Definitions,
    instance: DagsterInstance,
    clip_ids: Sequence[str],
    asset_names: Sequence[str],
    *,
    mode: str = "batch",
    batch_size: int = 16,
    on_progress: ProgressFn | None = None,
    stats: RunStats | None = None,
    log_level: str = "WARNING",
    asset_config: dict[str, dict] | None = None,
    runs_at_once: int = 0,
    runs_log: Path | None = None,
) -> dict[str, ClipRunResult]:
    """Materialize `asset_names` for each clip; returns one result per clip, failures isolated per clip.

    `runs_at_once` > 0: the steps go to Celery workers (catalog_assets/executors.py), and that many batch runs are
    in progress at once, each cut small enough that every run has clips (the output of the processes that orchestrate
    them goes to `runs_log`); 0: one in-process run after another."""
    job = defs.resolve_job_def(INGEST_JOB_NAME)
    selection = [AssetKey(name) for name in asset_names]
    stats = stats if stats is not None else RunStats()
    results: dict[str, ClipRunResult] = {}
    run_config = {
        "loggers": {"console": {"config": {"log_level": log_level}}},
        "ops": {name: {"config": cfg} for name, cfg in (asset_config or {}).items() if name in asset_names},
    }

    def in_process(batch: list[str]) -> Outcome:  # partition keys
        tags = process_tags()
        started = time.monotonic()
        if len(batch) == 1:
            result = job.execute_in_process(instance=instance, asset_selection=selection, raise_on_error=False,
                                            run_config=run_config, partition_key=batch[0], tags=tags)
        else:
            result = job.execute_in_process(instance=instance, asset_selection=selection, raise_on_error=False,
                                            run_config=run_config, tags={**tags, **partition_tags(batch)})
        return result.success, result.run_id, None if result.success else _failure_message(result), \
            time.monotonic() - started

    def record(batch: list[str], outcome: Outcome) -> None:
        ok, run_id, failure, seconds = outcome
        stats.runs += 1
        stats.wall_seconds += seconds
        stats.compute_seconds += _compute_seconds(instance, run_id)
        error, step = failure if failure else (None, None)
        for key in batch:
            results[clip_id_of(key)] = ClipRunResult(clip_id=clip_id_of(key), success=ok, run_id=run_id, error=error,
                                                     failed_step=step, seconds=seconds / len(batch))
        if on_progress:
            on_progress(len(batch), error or "")

    size = clips_per_run(mode, batch_size)
    if runs_at_once:
        batches = _contiguous_batches(instance, clip_ids, spread_size(len(clip_ids), size, runs_at_once))
        _on_workers(batches, list(asset_names), run_config, runs_at_once, record, runs_log)
        return results
    for batch in _contiguous_batches(instance, clip_ids, size):
        outcome = in_process(batch)
        if outcome[0] or len(batch) == 1:
            record(batch, outcome)
            continue
        stats.runs += 1
        stats.wall_seconds += outcome[3]
        stats.compute_seconds += _compute_seconds(instance, outcome[1])
        for key in batch:  # isolate the bad clip: its neighbours still get cataloged
            record([key], in_process([key]))
    return results


def _on_workers(batches: list[list[str]], asset_names: list[str], run_config: dict, runs_at_once: int,
                record: Callable[[list[str], Outcome], None], runs_log: Path | None = None) -> None:
    """Batch runs on Celery workers, `runs_at_once` at a time, a failed batch re-run one run per clip.

    Each run is orchestrated in a process of its own (spawned, so it shares no database connection with this
    one): Dagster's run setup reconfigures Python logging per run, and two runs in threads of one process
    deadlocked on logging's locks. These processes only order steps and poll results; the work is on the workers."""
    tags = process_tags()  # this process: a run left STARTED by a killed ingest is found by its pid
    context = multiprocessing.get_context("spawn")
    if runs_log is not None:
        runs_log.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=min(runs_at_once, len(batches)) or 1, mp_context=context,
                             initializer=_output_to, initargs=(runs_log,)) as pool:
        pending = {pool.submit(run_on_workers, batch, asset_names, run_config, tags): batch for batch in batches}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                batch = pending.pop(future)
                outcome = future.result()
                if outcome[0] or len(batch) == 1:
                    record(batch, outcome)
                    continue
                for key in batch:  # isolate the bad clip, as in process
                    pending[pool.submit(run_on_workers, [key], asset_names, run_config, tags)] = [key]


def _output_to(log: Path | None) -> None:
    """An orchestrating process writes its output to `log`: what Celery prints as it tears down after the broker went
    away mid-run belongs there, not in the terminal, where `ingest` names each failure in its summary."""
    if log is None:
        return
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


_child_instance: DagsterInstance | None = None


def run_on_workers(batch: list[str], asset_names: list[str], run_config: dict, tags: dict[str, str]) -> Outcome:
    """One batch run whose steps go to the Celery queues (in a spawned process of `_on_workers`)."""
    global _child_instance
    if _child_instance is None:  # the environment (DAGSTER_HOME, storage URL) is the parent's
        _child_instance = DagsterInstance.get()
    started = time.monotonic()
    result = execute_on_workers(_child_instance, INGEST_JOB_NAME, batch, [AssetKey(n) for n in asset_names],
                                run_config, tags)
    return result.success, result.run_id, None if result.success else _failure_message(result), \
        time.monotonic() - started
