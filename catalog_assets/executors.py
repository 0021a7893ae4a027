"""Where a run's steps execute: in the run's own process (default), or on Celery workers through dagster-celery.

The executor is chosen once, in the Definitions (catalog_assets/definitions.py), so every launch path uses it: the
UI and the sensor launch runs whose job carries it, and `ingest` (catalog_assets/ingest_runner.py) starts its
batch runs through `execute_job` here when it is celery (`execute_in_process` always runs in process). Each step
of a celery run is a Celery task on its queue (`ingest`, `processing`, `ai`: catalog_resources/workers.py); the
run's own process only orders steps, claims the `ai` pool's slots and polls results.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

from dagster import (
    AssetKey, DagsterInstance, ExecutorDefinition, JobExecutionResult, build_reconstructable_job, execute_job,
    in_process_executor,
)
# No public constants for these tag names in Dagster 1.13 (the ingest runner imports them too).
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG, PARTITION_NAME_TAG,
)

from catalog_resources.settings import CatalogSettings
from catalog_resources.workers import celery_executor_config

CELERY = "celery"


def build_executor(settings: CatalogSettings) -> ExecutorDefinition:
    """in_process_executor, or dagster-celery's executor bound to the catalog's broker and acknowledgement rules
    (the same config `video-catalog worker` builds its app from). Its config shows in the UI: a broker password
    in VIDEO_CATALOG_BROKER_URL is visible there."""
    if settings.executor != CELERY:
        return in_process_executor
    from celery.exceptions import DuplicateTaskNameWarning
    from dagster_celery import celery_executor

    # dagster-celery registers its one step task again for every step it sends; Celery keeps the first (the same
    # code) and warns, which would put a page of noise in `ingest`'s output
    warnings.filterwarnings("ignore", category=DuplicateTaskNameWarning, module="dagster_celery")

    return celery_executor.configured(celery_executor_config(settings), name=CELERY)


def worker_job(name: str):
    """The job, rebuilt from the catalog's definitions in whatever process asks: the run's process and each
    worker (dagster-celery reconstructs it per step from this pointer)."""
    from catalog_assets.definitions import defs

    return defs.resolve_job_def(name)


def partition_tags(batch: Sequence[str]) -> dict[str, str]:
    """One clip's partition tag, or the range tags of a batch (a contiguous range of the partition order)."""
    if len(batch) == 1:
        return {PARTITION_NAME_TAG: batch[0]}
    return {ASSET_PARTITION_RANGE_START_TAG: batch[0], ASSET_PARTITION_RANGE_END_TAG: batch[-1]}


def execute_on_workers(instance: DagsterInstance, job_name: str, batch: Sequence[str], selection: Sequence[AssetKey],
                       run_config: Mapping, tags: Mapping[str, str]) -> JobExecutionResult:
    """One batch run whose steps go to the Celery queues; returns when every step has come back."""
    job = build_reconstructable_job(__name__, worker_job.__name__, reconstructable_args=(job_name,))
    return execute_job(job, instance, run_config=dict(run_config), tags={**tags, **partition_tags(batch)},
                       raise_on_error=False, asset_selection=list(selection))

