"""Out-of-date clips in the Dagster UI, and redoing them from it: declarative automation over the refresh plan.

After a prompt, model or analyzer change, Dagster's own signals do not say which clips are out of date: the
graph, catalog and partition list stay green, "Materialize unsynced" finds nothing, downstream assets are never
flagged, and `code_version_changed()` fires once per asset (not per clip) and only if a tick saw the old version.
So every per-clip asset carries one condition whose operand is the catalog's own refresh plan
(catalog_assets/refresh.py: recorded code version differs, made before its input was redone, or downstream of
either), evaluated per partition. The UI's Automation tab of each asset lists the clips that are out of date,
and `catalog_refresh_sensor` (running by default) requests exactly those; `refresh --stale --dry-run` reads the
same plan, so both always name the same (asset, clip) pairs.

A paid cloud analyzer is never redone on its own: with a cloud backend, ai_analysis' condition ends in a gate
that stays false unless VIDEO_CATALOG_AUTO_REFRESH_CLOUD=1, so its clips are shown out of date but not requested
(nor is anything downstream of them, which would only be redone again).

These are arbitrary-Python conditions (Dagster: "Arbitrary Python automation conditions"), so they are evaluated
by a sensor on the code server (`use_user_code_server=True`), not by the daemon's default automation sensor.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Sequence

from dagster import (
    AssetSelection,
    AssetsDefinition,
    AutomationCondition,
    AutomationConditionSensorDefinition,
    AutomationContext,
    AutomationResult,
    BetaWarning,
    DefaultSensorStatus,
)

from catalog_assets.partitions import keys_of
from catalog_assets.refresh import graph_versions, plan_pairs
from catalog_resources.resources.catalog import CatalogResource

REFRESH_SENSOR_NAME = "catalog_refresh_sensor"
REFRESH_INTERVAL_SECONDS = 30


class OutOfDateSource:
    """The catalog's refresh plan as {asset: clip ids}, computed once per evaluation (one tick evaluates every
    asset's condition, and each asks about its own and its parents' clips)."""

    def __init__(self, catalog: CatalogResource, media_dir: str) -> None:
        self.catalog = catalog
        self.media_dir = media_dir
        self._view: object | None = None  # the tick's AssetGraphView: one per evaluation
        self._by_asset: dict[str, set[str]] = {}

    def clips_by_asset(self, context: AutomationContext) -> dict[str, set[str]]:
        view = context.asset_graph_view
        if view is not self._view:
            plan = plan_pairs(graph_versions(context.asset_graph), self.catalog, self.media_dir)
            by_asset: dict[str, set[str]] = {}
            for pair in plan.pairs:
                by_asset.setdefault(pair.asset, set()).add(pair.clip_id)
            self._view, self._by_asset = view, by_asset
        return self._by_asset


class OutOfDate(AutomationCondition):
    """True for the clips whose product of this asset `refresh --stale` would redo."""

    def __init__(self, source: OutOfDateSource) -> None:
        self._source = source

    @property
    def requires_cursor(self) -> bool:
        return False

    @property
    def name(self) -> str:
        return "out_of_date"

    @property
    def description(self) -> str:
        return ("Out of date (refresh --stale): made with an older code version (prompt, model, analyzer), "
                "made before its input was redone, or downstream of such a product")

    def evaluate(self, context: AutomationContext) -> AutomationResult:
        clips = self._source.clips_by_asset(context).get(context.key.path[-1], set())
        keys: set[str] = set()
        if clips:  # only clips that are partitions of this instance (a catalog may hold some not registered yet)
            candidates = keys_of(context.candidate_subset.expensively_compute_partition_keys())
            keys = {candidates[clip_id] for clip_id in clips if clip_id in candidates}
        return AutomationResult(context, context.candidate_subset.compute_intersection_with_partition_keys(keys))


class PaidAutoRefresh(AutomationCondition):
    """The cost gate: true everywhere only when the user opted in to automatic paid re-analysis."""

    def __init__(self, allowed: bool) -> None:
        self._allowed = allowed

    @property
    def requires_cursor(self) -> bool:
        return False

    @property
    def name(self) -> str:
        return "auto_refresh_cloud"

    @property
    def description(self) -> str:
        return ("Paid cloud analyzer: redone automatically only with VIDEO_CATALOG_AUTO_REFRESH_CLOUD=1; "
                "otherwise select these clips and Materialize them yourself")

    def evaluate(self, context: AutomationContext) -> AutomationResult:
        true = context.candidate_subset if self._allowed else context.get_empty_subset()
        return AutomationResult(context, true)


def refresh_condition(source: OutOfDateSource, *, paid: bool = False, auto_paid: bool = False) -> AutomationCondition:
    """Request a clip's product when it is out of date, its inputs are current (or requested in the same tick),
    it is not being made right now, and its last run did not fail (a failing clip is not retried every tick)."""
    inputs_ready = ~AutomationCondition.any_deps_match(
        OutOfDate(source) & ~AutomationCondition.will_be_requested()
    ).with_label("an input is out of date and not redone now")
    condition = (OutOfDate(source) & inputs_ready & ~AutomationCondition.in_progress()
                 & ~AutomationCondition.execution_failed())
    if paid:
        condition = condition & PaidAutoRefresh(auto_paid)
    return condition.with_label("redo when out of date")


def apply_refresh_conditions(assets: Sequence[AssetsDefinition], source: OutOfDateSource, *,
                             paid: Collection[str] = (), auto_paid: bool = False) -> list[AssetsDefinition]:
    """The assets with their refresh condition; `paid` names those that cost money per run (a cloud analyzer)."""
    from dagster import map_asset_specs

    def with_condition(spec):
        name = spec.key.path[-1]
        return spec.replace_attributes(
            automation_condition=refresh_condition(source, paid=name in paid, auto_paid=auto_paid))

    return list(map_asset_specs(with_condition, assets))


def refresh_sensor(assets: Sequence[AssetsDefinition]) -> AutomationConditionSensorDefinition:
    """Evaluates the refresh conditions every 30 s on the code server (they run Python: the catalog query).
    Running by default, so `video-catalog ui` redoes out-of-date local steps without a click; it can be stopped
    on the Automation page."""
    # `use_user_code_server` is beta in Dagster 1.13 and relied on knowingly (the only way to evaluate a condition
    # written in Python); that one warning is silenced here, where it is accepted, and no other.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*use_user_code_server.*", category=BetaWarning)
        return AutomationConditionSensorDefinition(
            REFRESH_SENSOR_NAME,
            target=AssetSelection.assets(*assets),
            use_user_code_server=True,
            default_status=DefaultSensorStatus.RUNNING,
            minimum_interval_seconds=REFRESH_INTERVAL_SECONDS,
            description="Redoes the clips' out-of-date products (after a prompt, model or analyzer change, or a "
                        "partial re-run), the same (asset, clip) pairs `video-catalog refresh --stale` lists.",
        )
