"""One catalog home opened for work: database up and migrated, Dagster instance ready, definitions bound.

The CLI is a thin layer over this; tests and benchmarks drive the same object.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import psycopg
from dagster import DagsterInstance, Definitions

from catalog_assets.definitions import build_analyzer, build_definitions
from catalog_resources.analysis.cloud.common import CostLimitExceeded
from catalog_assets.ingest_runner import (
    ClipRunResult, ProgressFn, RunStats, execute_clips, fail_orphaned_runs, register_partitions,
)
from catalog_assets.resume import expected_steps, steps_to_finish
from catalog_assets.partition_migration import legacy_partitions, rename_legacy_partitions
from catalog_assets.settled_ingest import pipeline_signature
from catalog_assets.steps import pipeline_steps
from catalog_assets.io_manager import sidecar_path
from catalog_assets.refresh import GraphVersions, RefreshPlan, graph_versions, input_edges, plan_refresh
from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.store.dagster_home import prepare_dagster_home
from catalog_resources.store.endpoint import DatabaseEndpoint, resolve_database
from catalog_resources.ingest.plan import IngestPlan, plan_ingest
from catalog_resources.store.ingest_state import METADATA_ONLY_PREFIX, Claim, ClipFailure
from catalog_resources.media.cleanup import sweep_clip_dir
from catalog_resources.media.pyav import header_seconds
from catalog_resources.models.clips import ClipSource, IngestItem, IngestSummary, ScannedFile, ScanReport
from catalog_resources.ingest.scanner import scan
from catalog_resources.settings import CatalogSettings

REFRESH_STEPS = ("clip_source", "catalog_record")


class CatalogApp:
    def __init__(self, settings: CatalogSettings) -> None:
        self.settings = settings
        self.last_stats = RunStats()
        self.renamed_partitions: dict[str, str] = {}  # bare-id partitions of an older catalog renamed on opening

    @cached_property
    def endpoint(self) -> DatabaseEndpoint:
        return resolve_database(self.settings, start=True)

    @cached_property
    def store(self) -> CatalogResource:
        store = CatalogResource(database_url=self.endpoint.catalog_url)
        store.migrate()
        return store

    @cached_property
    def instance(self) -> DagsterInstance:
        prepare_dagster_home(self.settings, self.endpoint)
        instance = DagsterInstance.get()
        # dagster-postgres opens a server connection per event written (NullPool): a backend started and its
        # tables looked up again, tens of times a clip. A pooled connection, as dagster-webserver keeps.
        instance.optimize_for_webserver(statement_timeout=0, pool_recycle=3600, max_overflow=4)
        pools = instance.event_log_storage
        if "ai" not in pools.get_concurrency_keys():  # set once; `dagster instance concurrency set ai N` wins after
            pools.set_concurrency_slots("ai", self.settings.ai_pool_limit)
        if legacy_partitions(instance):  # an older catalog's bare-id partitions (one query when there are none)
            self.renamed_partitions = rename_legacy_partitions(instance, self.store, self.graph.order)
        return instance

    @cached_property
    def defs(self) -> Definitions:
        return build_definitions(self.settings)

    @cached_property
    def graph(self) -> GraphVersions:
        """The per-clip graph (code versions, edges, order), resolved once per app."""
        return graph_versions(self.defs.resolve_asset_graph())

    @property
    def graph_versions(self) -> tuple[dict[str, str], dict[str, list[str]], list[str]]:
        """(code versions, children, graph order) of the per-clip assets."""
        return self.graph.versions, self.graph.children, self.graph.order

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
        report: ScanReport | None = None,
    ) -> IngestSummary:
        """`report`: the scan of `paths` already made (settled_ingest's), so the files are not walked twice."""
        analyzer = build_analyzer(self.settings) if "ai_analysis" in steps else None
        if analyzer is not None and analyzer.is_cloud:
            analyzer.check_ready()  # a missing key stops here, before any file is read
        if report is None:
            report = scan(list(paths), self.store, on_file=on_scan, record=not dry_run)
        plan = plan_ingest(report, self.store, limit=limit)
        summary = plan.summary
        if analyzer is not None and analyzer.is_cloud:
            estimate = analyzer.estimate([header_seconds(Path(plan.path_of[c])) for c in plan.new_clips])
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
        self._runs_at_once()  # a celery broker that is down stops here, before anything is claimed or written
        self.recover()
        self.store.retire_replaced_paths((f.path, f.fingerprint) for f in report.files if f.fingerprint)
        work = self._work(plan, report, steps)
        claimed, held = self.store.claim_clips(work)
        try:
            self._leave_to_others(summary, held, work)
            self._sweep(claimed)  # leftovers of a killed or failed run go before anything is redone
            if on_plan:
                on_plan(len(work))
            self.last_stats = RunStats()
            register_partitions(self.instance, self.store.first_names(list(work)))
            results = self._execute(work, on_progress=on_progress, log_level=log_level, asset_config=asset_config)
            self._record_outcomes(results)
            self._stop_if_broker_lost(results)
        finally:
            self._release(claimed)
        self._summarize(summary, results, work)
        if analyzer is not None and analyzer.is_cloud:
            summary.analysis_usage = self.store.analysis_usage(plan.new_clips)
        return summary

    def recover(self) -> list[str]:
        """Runs a killed ingest left STARTED are marked failed; the pipeline's code versions recorded."""
        marked = fail_orphaned_runs(self.instance)
        defaults = {s.name: s.default_enabled for s in pipeline_steps()}
        self.store.record_pipeline(self.graph.versions, defaults, input_edges(self.graph))
        self.store.record_pipeline_signature(pipeline_signature(self.settings))
        return marked

    def _work(self, plan: IngestPlan, report: ScanReport, steps: Sequence[str]) -> dict[str, list[str]]:
        """clip id -> the steps to run for it: new clips all, known clips what they lack or last failed."""
        _versions, children, order = self.graph_versions
        metadata_only = {f.fingerprint: getattr(f, "metadata_only", None) for f in report.files if f.fingerprint}
        work: dict[str, list[str]] = {}
        for clip_id in plan.new_clips:
            work[clip_id] = expected_steps(steps, bool(metadata_only.get(clip_id)))
        known = list(dict.fromkeys(
            [i.clip_id for i in plan.summary.existing if i.clip_id] + plan.refresh_clips))
        progress = self.store.clip_progress(known) if known else {}
        refresh = [s for s in REFRESH_STEPS if s in steps]
        for clip_id in known:
            row = progress.get(clip_id)
            if row is None:
                continue
            only_metadata = (row["status"] or "").startswith(METADATA_ONLY_PREFIX)
            expected = expected_steps(steps, only_metadata)
            failed = [f["asset"] for f in row["failures"]]
            todo = steps_to_finish(expected, row["made"], failed, children, order)
            if clip_id in plan.refresh_clips:
                todo = [s for s in order if s in set(todo) | set(refresh)]
            if todo:
                work[clip_id] = todo
        return work

    @staticmethod
    def _leave_to_others(summary: IngestSummary, held: list[Claim], work: dict[str, list[str]]) -> None:
        """Clips another live ingest has in flight are left to it, and said so."""
        by_clip = {c.clip_id: c for c in held}
        for clip_id in by_clip:
            work.pop(clip_id, None)
        for bucket in (summary.new, summary.existing, summary.moved, summary.duplicates):
            kept = []
            for item in bucket:
                claim = by_clip.get(item.clip_id or "")
                if claim is None:
                    kept.append(item)
                else:
                    summary.in_progress.append(item.model_copy(update={
                        "reason": f"being cataloged by another ingest (pid {claim.pid} on {claim.host})"}))
            bucket[:] = kept

    def _execute(self, work: dict[str, list[str]], *, on_progress: ProgressFn | None, log_level: str,
                 asset_config: dict[str, dict] | None) -> dict[str, ClipRunResult]:
        """Clips that need the same steps share batch runs."""
        groups: dict[tuple[str, ...], list[str]] = {}
        for clip_id, assets in work.items():
            groups.setdefault(tuple(assets), []).append(clip_id)
        results: dict[str, ClipRunResult] = {}
        for assets, clip_ids in groups.items():
            results.update(execute_clips(
                self.defs, self.instance, clip_ids, list(assets), mode=self.settings.run_mode,
                batch_size=self.settings.batch_size, on_progress=on_progress, stats=self.last_stats,
                log_level=log_level, asset_config=asset_config, runs_at_once=self._runs_at_once(),
                runs_log=self.settings.home / "logs" / "celery-runs.log",
            ))
        return results

    def _runs_at_once(self) -> int:
        """0: in-process runs, one after another; with the celery executor, the batch runs in progress at once. The
        broker is asked first, so a broker that is down stops the ingest in one line before any run starts."""
        if self.settings.executor != "celery":
            return 0
        from catalog_resources.workers import check_broker

        check_broker(self.settings.broker_url)
        return self.settings.celery_runs

    def _stop_if_broker_lost(self, results: dict[str, ClipRunResult]) -> None:
        """Runs that failed because the broker went away mid-ingest end the command in one line (BrokerUnavailable,
        exit 2) instead of a list of clips failed for one cause. Their finished steps are kept and their failures
        recorded, so the same `ingest` run again, with the broker back, redoes exactly what is missing."""
        if self.settings.executor == "celery" and any(not r.success for r in results.values()):
            from catalog_resources.workers import BrokerUnavailable, check_broker

            try:
                check_broker(self.settings.broker_url)
            except BrokerUnavailable as exc:
                raise BrokerUnavailable(f"{exc}; then re-run the same command: it resumes where it stopped") from None

    def _record_outcomes(self, results: dict[str, ClipRunResult]) -> None:
        """Failed steps recorded per clip (what `list` says), and what they left behind removed."""
        failed = {c: r for c, r in results.items() if not r.success}
        self.store.record_failures({
            c: ClipFailure(asset=r.failed_step or "run", error=r.error or "run failed", run_id=r.run_id)
            for c, r in failed.items()
        })
        done = [c for c, r in results.items() if r.success]
        if done:  # a run that failed outside any step is recorded as "run": a later run that succeeds clears it
            with self.store.connect() as conn:
                self.store.clear_failures(conn, "run", done)
        self._sweep(list(failed))

    def _sweep(self, clip_ids: list[str]) -> None:
        """Remove from these clips' media folders what no recorded step accounts for (one query for all)."""
        present = [c for c in clip_ids if (self.settings.media_dir / c).is_dir()]
        made = self.store.materialized_assets(present) if present else {}
        for clip_id in present:
            sweep_clip_dir(self.settings.media_dir / clip_id, made.get(clip_id, set()))

    def _release(self, clip_ids: list[str]) -> None:
        try:
            self.store.release_claims(clip_ids)
        except psycopg.Error:
            pass  # the database is gone; the claim dies with this process and the next ingest takes it over

    def _summarize(self, summary: IngestSummary, results: dict[str, ClipRunResult], work: dict[str, list[str]]) -> None:
        failed_ids = {clip_id for clip_id, r in results.items() if not r.success}
        for bucket in (summary.new, summary.moved, summary.duplicates, summary.existing):
            kept = []
            for item in bucket:
                result = results.get(item.clip_id or "")
                if item.clip_id in failed_ids:
                    reason = f"{result.failed_step}: {result.error}" if result.failed_step else result.error
                    summary.failed.append(item.model_copy(update={"reason": reason}))
                elif bucket is summary.existing and result is not None:
                    summary.resumed.append(item.model_copy(update={
                        "reason": "finished what an earlier run left: " + ", ".join(work[item.clip_id])}))
                else:
                    kept.append(item)
            bucket[:] = kept
        for clip_id, result in results.items():
            if result.success and sidecar_path(self.settings.media_dir, clip_id, "clip_source").exists():
                for collision in self.clip_source(clip_id).collisions:
                    summary.failed.append(IngestItem(path=collision.path, clip_id=None, reason=collision.reason))

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
        _versions, _children, order = self.graph_versions
        work = plan.assets_by_clip(order)
        self.recover()
        register_partitions(self.instance, self.store.first_names(list(work)))
        self.last_stats = RunStats()
        results = self._execute(work, on_progress=on_progress, log_level=log_level, asset_config=None)
        self._record_outcomes(results)
        self._stop_if_broker_lost(results)
        return results

    def clip_source(self, clip_id: str) -> ClipSource:
        path = sidecar_path(self.settings.media_dir, clip_id, "clip_source")
        return ClipSource.model_validate(json.loads(path.read_text()))
