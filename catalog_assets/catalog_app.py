"""One catalog home opened for work: database up and migrated, Dagster instance ready, definitions bound.

The CLI is a thin layer over this; tests and benchmarks drive the same object.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

from dagster import DagsterInstance, Definitions

from catalog_assets.definitions import build_analyzer, build_definitions
from catalog_resources.cloud_common import CostLimitExceeded
from catalog_assets.ingest_runner import ClipRunResult, ProgressFn, RunStats, execute_clips, register_partitions
from catalog_assets.io_manager import sidecar_path
from catalog_assets.refresh import RefreshPlan, current_versions, plan_refresh
from catalog_resources.catalog_resource import CatalogStore
from catalog_resources.dagster_home import prepare_dagster_home
from catalog_resources.database import DatabaseEndpoint, resolve_database
from catalog_resources.ingest_plan import plan_ingest
from catalog_resources.models import ClipSource, IngestItem, IngestSummary, ScannedFile
from catalog_resources.scanner import scan
from catalog_resources.settings import CatalogSettings

REFRESH_STEPS = ("clip_source", "catalog_record")


def footage_seconds(path: Path) -> float:
    """Container duration from the header (milliseconds per file); 0 when it cannot be read."""
    import av

    try:
        with av.open(str(path)) as container:
            return float(container.duration or 0) / 1_000_000
    except (av.error.FFmpegError, OSError):
        return 0.0


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
        instance = DagsterInstance.get()
        pools = instance.event_log_storage
        if "ai" not in pools.get_concurrency_keys():  # set once; `dagster instance concurrency set ai N` wins after
            pools.set_concurrency_slots("ai", self.settings.ai_pool_limit)
        return instance

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
        max_cost: float | None = None,
        on_estimate: Callable[[dict[str, float]], None] | None = None,
    ) -> IngestSummary:
        analyzer = build_analyzer(self.settings) if "ai_analysis" in steps else None
        if analyzer is not None and analyzer.is_cloud:
            analyzer.check_ready()  # a missing key stops here, before any file is read
        report = scan(list(paths), self.store, on_file=on_scan, record=not dry_run)
        plan = plan_ingest(report, self.store, limit=limit)
        summary = plan.summary
        if analyzer is not None and analyzer.is_cloud:
            estimate = analyzer.estimate([footage_seconds(Path(plan.path_of[c])) for c in plan.new_clips])
            summary.analysis_estimate = estimate.model_dump(exclude={"priced"})
            if on_estimate:
                on_estimate(summary.analysis_estimate | {"model": analyzer.model, "priced": estimate.priced})
            if max_cost is not None and estimate.usd > max_cost:
                raise CostLimitExceeded(
                    f"estimated analysis cost ${estimate.usd:.2f} for {estimate.clips} clips "
                    f"({estimate.footage_seconds / 60:.1f} min, ~{estimate.tokens:,} tokens with {analyzer.model}) "
                    f"exceeds --max-cost ${max_cost:.2f}; raise the limit, use --limit, or --analyzer local"
                )
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
        if analyzer is not None and analyzer.is_cloud:
            summary.analysis_usage = self.store.analysis_usage(plan.new_clips)
        return summary

    def plan_refresh(self, *, stale: bool = True, missing_steps: list[str] | None = None,
                     clip_ids: list[str] | None = None) -> RefreshPlan:
        started = time.monotonic()
        plan = plan_refresh(self.defs, self.store, self.settings.media_dir, stale=stale,
                            missing_steps=missing_steps, clip_ids=clip_ids)
        plan.seconds = round(time.monotonic() - started, 4)
        return plan

    def refresh(self, plan: RefreshPlan, *, on_progress: ProgressFn | None = None,
                log_level: str = "WARNING") -> dict[str, ClipRunResult]:
        """Re-materialize the plan's pairs: clips that need the same assets share Dagster runs."""
        _versions, _children, order = current_versions(self.defs)
        groups: dict[tuple[str, ...], list[str]] = {}
        for clip_id, assets in plan.assets_by_clip(order).items():
            groups.setdefault(tuple(assets), []).append(clip_id)
        register_partitions(self.instance, [p.clip_id for p in plan.pairs])
        self.last_stats = RunStats()
        results: dict[str, ClipRunResult] = {}
        for assets, clip_ids in groups.items():
            results.update(execute_clips(
                self.defs, self.instance, clip_ids, list(assets), mode=self.settings.run_mode,
                batch_size=self.settings.batch_size, on_progress=on_progress, stats=self.last_stats,
                log_level=log_level,
            ))
        return results

    def clip_source(self, clip_id: str) -> ClipSource:
        path = sidecar_path(self.settings.media_dir, clip_id, "clip_source")
        return ClipSource.model_validate(json.loads(path.read_text()))
