"""The Dagster half of `video-catalog system`: the instance, its daemon and sensors, and the runs ("tasks") with the
clips each one works on; cancelling a run and re-executing a failed one.

A run names its clips through its partition tags: one clip as `dagster/partition`, a batch (the ingest runner's and
the sensor's) as the range tags `dagster/asset_partition_range_start/end`, read back through the instance's
partition order as the batches were cut (catalog_resources/ingest/batches.py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from dagster import (
    DagsterInstance, DagsterRun, DagsterRunStatus, ReexecutionOptions, RunsFilter, build_reconstructable_job, execute_job,
)
# No public constants for these tag names in Dagster 1.13 (the ingest runner and the sensor import them too).
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG, PARTITION_NAME_TAG,
)
from pydantic import BaseModel, Field

from catalog_assets.ingest_runner import HOST_TAG, PID_TAG, process_tags
from catalog_assets.partitions import clips_partitions
from catalog_resources.errors import UsageError
from catalog_resources.ingest.batches import keys_in_range
from catalog_resources.ingest.partition_keys import clip_id_of
from catalog_resources.processes import process_alive
from catalog_resources.store.ingest_state import this_host

QUEUED = (DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED)
IN_PROGRESS = (DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING)
FAILED = (DagsterRunStatus.FAILURE,)
GROUPS = {"queued": QUEUED, "in_progress": IN_PROGRESS, "failed": FAILED}
DAEMON_FRESH_SECONDS = 120.0  # the daemon beats every 30 s; four missed beats and it is taken for stopped
FOOTAGE_SENSORS = ("footage_sensor", "footage_batch_retry")


class Task(BaseModel):
    """One Dagster run as `system tasks` shows it."""

    run_id: str
    status: str
    job: str
    created_at: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    partitions: list[str] = Field(default_factory=list)
    clips: list[str] = Field(default_factory=list)
    launched_by: str = ""
    parent_run_id: str | None = None


def _iso(timestamp: float | None) -> str | None:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds") if timestamp else None


def run_partitions(run: DagsterRun, order: Sequence[str]) -> list[str]:
    """The clip partition keys a run works on, from its tags."""
    if run.tags.get(PARTITION_NAME_TAG):
        return [run.tags[PARTITION_NAME_TAG]]
    start, end = run.tags.get(ASSET_PARTITION_RANGE_START_TAG), run.tags.get(ASSET_PARTITION_RANGE_END_TAG)
    if start and end:
        keys = keys_in_range(order, start, end)
        return keys or [start, end]  # partitions forgotten since: the ends still name the clips
    return []


def _launched_by(run: DagsterRun) -> str:
    if run.tags.get(PID_TAG):
        return f"ingest pid {run.tags[PID_TAG]} on {run.tags.get(HOST_TAG, '?')}"
    if run.tags.get("dagster/sensor_name"):
        return f"sensor {run.tags['dagster/sensor_name']}"
    if run.tags.get("dagster/backfill"):
        return f"backfill {run.tags['dagster/backfill']}"
    return "dagster"


def list_tasks(instance: DagsterInstance, groups: Sequence[str] = tuple(GROUPS), limit: int = 50) -> dict[str, list[Task]]:
    """group (queued, in_progress, failed) -> its runs, newest first, at most `limit` each."""
    order = instance.get_dynamic_partitions(clips_partitions.name)
    found: dict[str, list[Task]] = {}
    for group in groups:
        records = instance.get_run_records(RunsFilter(statuses=list(GROUPS[group])), limit=limit)
        tasks = []
        for record in records:
            run = record.dagster_run
            keys = run_partitions(run, order)
            tasks.append(Task(
                run_id=run.run_id, status=run.status.value, job=run.job_name, created_at=_iso(record.create_timestamp.timestamp()),
                started_at=_iso(record.start_time), ended_at=_iso(record.end_time), partitions=keys,
                clips=[clip_id_of(k) for k in keys], launched_by=_launched_by(run), parent_run_id=run.parent_run_id))
        found[group] = tasks
    return found


def find_run(instance: DagsterInstance, ref: str) -> DagsterRun:
    """A run by its id or an id prefix (8 characters are what the UI shows), or a UsageError."""
    ref = ref.strip()
    run = instance.get_run_by_id(ref) if len(ref) == 36 else None
    if run is not None:
        return run
    if len(ref) < 4:
        raise UsageError(f"run {ref!r}: give at least 4 characters of the run id (`video-catalog system tasks` lists them)")
    matches = [r for r in instance.get_runs(limit=2000) if r.run_id.startswith(ref)]
    if not matches:
        raise UsageError(f"run {ref!r}: no such run (`video-catalog system tasks` lists them)")
    if len(matches) > 1:
        raise UsageError(f"run {ref!r}: ambiguous, matches {', '.join(m.run_id[:12] for m in matches[:5])}; give more of the id")
    return matches[0]


def cancel_run(instance: DagsterInstance, ref: str) -> tuple[DagsterRun, str]:
    """Cancel a queued run (it never starts) or ask the run launcher to stop a running one; (run, what was done).

    An in-process run of an `ingest` command cannot be stopped from another process: its ingest is named instead;
    one whose process is gone is marked canceled (it was never going to finish)."""
    run = find_run(instance, ref)
    if run.is_finished:
        raise UsageError(f"run {run.run_id[:8]} already ended ({run.status.value}); nothing to cancel")
    pid = run.tags.get(PID_TAG)
    if run.status not in QUEUED and pid and run.tags.get(HOST_TAG) == this_host() and pid.isdigit():
        if process_alive(int(pid)):
            raise UsageError(f"run {run.run_id[:8]} runs inside `video-catalog ingest` (pid {pid}); stop that command "
                             f"(Ctrl-C, or kill {pid}): its clips resume on the next ingest")
        instance.report_run_canceled(run, f"its ingest process (pid {pid}) is gone")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        return run, "marked canceled (its ingest process was gone)"
    if run.status == DagsterRunStatus.NOT_STARTED:  # created, never queued or launched: nothing will start it
        instance.report_run_canceled(run, "canceled by `video-catalog system tasks --cancel` before it started")
        return run, "canceled (it had not started)"
    was_queued = run.status == DagsterRunStatus.QUEUED
    try:  # the public way: the run coordinator takes a queued run off the queue, else asks the launcher to stop it
        stopped = instance.run_coordinator.cancel_run(run.run_id)
    except Exception as exc:  # noqa: BLE001 - the launcher's own failure, as one line
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"run {run.run_id[:8]} could not be terminated ({why}); stop it in the Dagster UI "
                         "(`video-catalog ui`)") from None
    if not stopped:
        raise UsageError(f"run {run.run_id[:8]} could not be terminated by the run launcher; stop it in the Dagster UI")
    return run, "canceled (it had not started)" if was_queued else "termination requested"


def job_named(name: str):
    """The job a run ran, from the catalog's definitions: the target `build_reconstructable_job` re-executes."""
    from catalog_assets.definitions import defs

    return defs.resolve_job_def(name)


class RetryResult(BaseModel):
    parent_run_id: str
    run_id: str
    success: bool
    clips: list[str] = Field(default_factory=list)
    seconds: float = 0.0


PARTITION_TAGS = (PARTITION_NAME_TAG, ASSET_PARTITION_RANGE_START_TAG, ASSET_PARTITION_RANGE_END_TAG)


def retry_tags(run: DagsterRun) -> dict[str, str]:
    """The parent's tags a re-execution needs (`execute_job` copies none): its partition or range, our own tags
    (sensor batch, retry-of), and this process's pid and host, so a killed retry is found by the next ingest."""
    kept = {k: v for k, v in run.tags.items() if k in PARTITION_TAGS or not k.startswith("dagster/")}
    return {**kept, **process_tags()}


def retry_run(instance: DagsterInstance, ref: str) -> RetryResult:
    """Re-execute a failed (or canceled) run from its failed steps, in this process, as Dagster's own re-execution:
    the new run carries the parent and root run ids, the partition tags and the asset selection of the old one."""
    run = find_run(instance, ref)
    if run.status not in (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED):
        raise UsageError(f"run {run.run_id[:8]} is {run.status.value}; only a failed or canceled run can be retried")
    job = build_reconstructable_job(__name__, job_named.__name__, reconstructable_args=(run.job_name,))
    started = time.monotonic()
    result = execute_job(job, instance, tags=retry_tags(run), raise_on_error=False,
                         reexecution_options=ReexecutionOptions.from_failure(run.run_id, instance))
    with result:
        run_id, success = result.run_id, result.success
    order = instance.get_dynamic_partitions(clips_partitions.name)
    return RetryResult(parent_run_id=run.run_id, run_id=run_id, success=success,
                       clips=[clip_id_of(k) for k in run_partitions(run, order)], seconds=round(time.monotonic() - started, 2))


def dagster_status(instance: DagsterInstance) -> dict[str, Any]:
    """The instance's folder and storage, the daemon's last heartbeats, the footage sensors' state, run counts."""
    now = time.time()
    beats = {kind: round(now - beat.timestamp, 1) for kind, beat in instance.get_daemon_heartbeats().items()}
    daemon_running = bool(beats) and min(beats.values()) <= DAEMON_FRESH_SECONDS
    sensors = {}
    for state in instance.all_instigator_state():
        if state.name in FOOTAGE_SENSORS or state.instigator_type.value == "SENSOR":
            sensors[state.name] = state.status.value
    counts = {group: instance.get_runs_count(RunsFilter(statuses=list(statuses))) for group, statuses in GROUPS.items()}
    return {"home": str(instance.root_directory), "daemon_running": daemon_running,
            "daemon_heartbeat_age_seconds": beats, "sensors": sensors, "runs": counts}
