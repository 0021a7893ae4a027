"""The folder sensor: watches configured folders, adds a partition per new clip and requests batch runs.

Per tick it stats the tree (cheap: unchanged files are answered from the scan cache), probes at most
`sensor_max_files_per_tick` new or changed files, and skips files modified within the settle period
so a clip still being copied is not ingested half-written. The new clips of a tick are cataloged in
runs of VIDEO_CATALOG_BATCH_SIZE clips (one per clip in per-clip run mode), as `video-catalog ingest`
does; the batch retry sensor re-requests the clips of a failed batch one run each. Clips already
registered as partitions are never requested again; a changed file has a new fingerprint and so is a
new clip.
"""


import hashlib
import json
from pathlib import Path

from dagster import (
    AssetKey,
    DefaultSensorStatus,
    DynamicPartitionsDefinition,
    RunFailureSensorContext,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from catalog_resources.auth.session import user_tags
from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.ingest.partition_keys import clip_id_of, keys_by_clip, partition_key
from catalog_resources.ingest.plan import plan_ingest
from catalog_resources.store.ingest_state import METADATA_ONLY_STEPS
from catalog_resources.ingest.scanner import scan
from catalog_resources.ingest.batches import clips_per_run, spread_size
from catalog_resources.settings import CatalogSettings
from catalog_sensors.batch_runs import new_clip_requests, retry_requests

REFRESH_ASSETS = [AssetKey("clip_source"), AssetKey("catalog_record")]
METADATA_ONLY_ASSETS = [AssetKey(name) for name in METADATA_ONLY_STEPS]  # no decoder here reads its frames
MAX_REMEMBERED_REFRESHES = 2000


def as_this_user(requests: list[RunRequest]) -> list[RunRequest]:
    """In a shared catalog the daemon's runs write as the user logged in on this machine (the one whose settings
    name the watch folders): their runs say so, as `ingest`'s do."""
    user = user_tags()
    return [r.with_replaced_attrs(tags={**r.tags, **user}) for r in requests] if user else requests


def build_footage_sensor(settings: CatalogSettings, job, clips_partitions: DynamicPartitionsDefinition):
    """The job and the clips partitions come from the definitions, so sensors never import the asset package."""
    folders = settings.watch_folders
    batch_size = clips_per_run(settings.run_mode, settings.batch_size)

    @sensor(
        name="footage_sensor",
        job=job,
        minimum_interval_seconds=30,
        default_status=DefaultSensorStatus.RUNNING if folders else DefaultSensorStatus.STOPPED,
        description="Watches VIDEO_CATALOG_WATCH folders; catalogs new clips once their files have settled.",
    )
    def footage_sensor(context: SensorEvaluationContext, catalog: CatalogResource):
        if not folders:
            return SkipReason("no folders to watch: set VIDEO_CATALOG_WATCH=/path/one:/path/two")
        state = json.loads(context.cursor) if context.cursor else {}
        refreshed: list[str] = state.get("refreshed", [])
        report = scan(
            folders, catalog, settle_seconds=settings.settle_seconds, max_probes=settings.sensor_max_files_per_tick
        )
        plan = plan_ingest(report, catalog)
        registered = context.instance.get_dynamic_partitions(clips_partitions.name)
        known = keys_by_clip(registered)
        fresh = [partition_key(c, Path(plan.path_of[c]).name) for c in plan.new_clips if c not in known]
        metadata_only = {f.fingerprint for f in report.files if f.fingerprint and f.metadata_only}
        groups = [  # a metadata-only clip needs its own asset selection, so its own batches
            ([k for k in fresh if clip_id_of(k) not in metadata_only], None),
            ([k for k in fresh if clip_id_of(k) in metadata_only], METADATA_ONLY_ASSETS),
        ]
        size = batch_size  # on Celery workers: cut so that every run the coordinator starts at once has clips
        if settings.executor == "celery":
            size = spread_size(len(fresh), batch_size, settings.celery_runs)
        new_keys, requests = new_clip_requests(registered, groups, size)
        batch_runs = len(requests)
        unregistered: list[str] = []  # cataloged by another instance: registered after the new clips' range
        for item in plan.summary.moved + plan.summary.duplicates:
            if item.clip_id not in plan.refresh_clips:
                continue  # not cataloged yet: its pending clip_source run records every path anyway
            key = f"{item.clip_id}:{hashlib.sha1(item.path.encode()).hexdigest()[:12]}"
            if key in refreshed:
                continue
            refreshed.append(key)
            partition = known.get(item.clip_id)
            if partition is None:
                partition = known[item.clip_id] = partition_key(item.clip_id, Path(item.path).name)
                unregistered.append(partition)
            requests.append(RunRequest(run_key=key, partition_key=partition, asset_selection=REFRESH_ASSETS))
        cursor = {
            "refreshed": refreshed[-MAX_REMEMBERED_REFRESHES:],
            "files": len(report.files),
            "probed": report.probed,
            "settling": len(report.settling),
        }
        context.log.info(
            f"scanned {len(report.files)} files ({report.probed} probed, {len(report.settling)} settling) "
            f"in {report.seconds:.2f}s; {len(new_keys)} new clips in {batch_runs} runs"
        )
        return SensorResult(
            run_requests=as_this_user(requests),
            dynamic_partitions_requests=[clips_partitions.build_add_request(new_keys + unregistered)]
            if new_keys or unregistered else [],
            cursor=json.dumps(cursor),
        )

    return footage_sensor


def build_batch_retry_sensor(settings: CatalogSettings, job, clips_partitions: DynamicPartitionsDefinition):
    """When a batch run of the folder sensor fails, each of its clips is requested again in a run of its own.

    What `video-catalog ingest` does inline: a corrupt clip then fails only its own partition, and the
    other clips of its batch are cataloged. Runs the folder sensor did not launch as a batch are left alone.
    """

    @run_failure_sensor(
        name="footage_batch_retry",
        monitored_jobs=[job],
        request_job=job,
        minimum_interval_seconds=30,
        default_status=DefaultSensorStatus.RUNNING if settings.watch_folders else DefaultSensorStatus.STOPPED,
        description="Re-runs the clips of a failed footage_sensor batch one run per clip, so a bad clip fails alone.",
    )
    def footage_batch_retry(context: RunFailureSensorContext):
        requests = retry_requests(context.dagster_run, context.instance.get_dynamic_partitions(clips_partitions.name))
        if requests:
            context.log.info(f"batch run {context.dagster_run.run_id} failed: {len(requests)} clips retried one per run")
        return as_this_user(requests)

    return footage_batch_retry
