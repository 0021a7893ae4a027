"""One catalog home opened for work: database up and migrated, Dagster instance ready, definitions bound.

The CLI is a thin layer over this; tests and benchmarks drive the same object.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

from dagster import DagsterInstance, Definitions

from catalog_assets.definitions import build_definitions
from catalog_assets.ingest_runner import ProgressFn, RunStats, execute_clips, register_partitions
from catalog_assets.io_manager import sidecar_path
from catalog_resources.catalog_resource import CatalogStore
from catalog_resources.dagster_home import prepare_dagster_home
from catalog_resources.database import DatabaseEndpoint, resolve_database
from catalog_resources.ingest_plan import plan_ingest
from catalog_resources.models import ClipSource, IngestItem, IngestSummary, ScannedFile
from catalog_resources.scanner import scan
from catalog_resources.settings import CatalogSettings

REFRESH_STEPS = ("clip_source", "catalog_record")


class CatalogApp:
    def __init__(self, settings: CatalogSettings) -> None:
        self.settings = settings
        self.last_stats = RunStats()

    @cached_property
    def endpoint(self) -> DatabaseEndpoint:
        return resolve_database(self.settings, start=True)

    @cached_property
    def store(self) -> CatalogStore:
        store = CatalogStore(database_url=self.endpoint.catalog_url)
        store.migrate()
        return store

    @cached_property
    def instance(self) -> DagsterInstance:
        prepare_dagster_home(self.settings, self.endpoint)
        return DagsterInstance.get()

    @cached_property
    def defs(self) -> Definitions:
        return build_definitions(self.settings)

    def ingest(
        self,
        paths: Sequence[Path],
        *,
        steps: Sequence[str],
        limit: int | None = None,
        dry_run: bool = False,
        on_scan: Callable[[ScannedFile], None] | None = None,
        on_plan: Callable[[int], None] | None = None,
        on_progress: ProgressFn | None = None,
        log_level: str = "WARNING",
        asset_config: dict[str, dict] | None = None,
    ) -> IngestSummary:
        report = scan(list(paths), self.store, on_file=on_scan, record=not dry_run)
        plan = plan_ingest(report, self.store, limit=limit)
        summary = plan.summary
        if dry_run:
            return summary
        if on_plan:
            on_plan(len(plan.new_clips) + len(plan.refresh_clips))
        self.last_stats = RunStats()
        register_partitions(self.instance, plan.new_clips + plan.refresh_clips)
        mode, size = self.settings.run_mode, self.settings.batch_size
        results = execute_clips(
            self.defs, self.instance, plan.new_clips, steps,
            mode=mode, batch_size=size, on_progress=on_progress, stats=self.last_stats, log_level=log_level,
            asset_config=asset_config,
        )
        refresh_steps = [s for s in REFRESH_STEPS if s in steps]
        results.update(
            execute_clips(
                self.defs, self.instance, plan.refresh_clips, refresh_steps,
                mode=mode, batch_size=size, on_progress=on_progress, stats=self.last_stats, log_level=log_level,
            )
        )
        failed_ids = {clip_id for clip_id, r in results.items() if not r.success}
        for bucket in (summary.new, summary.moved, summary.duplicates):
            kept = []
            for item in bucket:
                if item.clip_id in failed_ids:
                    summary.failed.append(item.model_copy(update={"reason": results[item.clip_id].error}))
                else:
                    kept.append(item)
            bucket[:] = kept
        for clip_id, result in results.items():
            if result.success:
                for collision in self.clip_source(clip_id).collisions:
                    summary.failed.append(IngestItem(path=collision.path, clip_id=None, reason=collision.reason))
        return summary

    def clip_source(self, clip_id: str) -> ClipSource:
        path = sidecar_path(self.settings.media_dir, clip_id, "clip_source")
        return ClipSource.model_validate(json.loads(path.read_text()))
