"""Which (asset, clip) pairs are out of date, and re-materializing exactly those through Dagster.

Out of date means one of:
- code version changed: the code version recorded when the asset was last materialized for the clip (table
  asset_versions, written by the IO manager) differs from the asset's code version now (a prompt, model or
  analyzer change);
- made before its input was redone: an upstream product of the clip was materialized again after this one
  (a partial re-run from the Dagster UI redid ai_analysis alone, so embeddings and catalog_record still hold
  the old analysis). clip_source is the exception: its product for a clip is fixed by the clip's content (the
  clip id is the content fingerprint), so re-making it (an ingest recording a moved path) changes nothing below;
- downstream of either, but only where the clip already has that product, so a step disabled for a clip
  stays off.
One indexed query per rule; Dagster's per-asset stale resolver costs ~20 ms per asset per clip, too slow at
1,000 clips. The same plan is what the Dagster UI shows as out of date (catalog_assets/automation.py), so
`refresh --stale --dry-run` and the UI list the same pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dagster import Definitions
from pydantic import BaseModel

from catalog_assets.io_manager import sidecar_path
from catalog_resources.resources.catalog import CatalogResource

# Assets whose re-materialization never makes their children out of date (see the module docstring).
CONTENT_FIXED = frozenset({"clip_source"})


class StalePair(BaseModel):
    asset: str
    clip_id: str
    reason: str
    recorded_version: str | None = None
    current_version: str | None = None


class RefreshPlan(BaseModel):
    pairs: list[StalePair]
    seconds: float = 0.0

    def assets_by_clip(self, order: list[str]) -> dict[str, list[str]]:
        grouped: dict[str, set[str]] = {}
        for pair in self.pairs:
            grouped.setdefault(pair.clip_id, set()).add(pair.asset)
        return {clip: [a for a in order if a in assets] for clip, assets in grouped.items()}


class GraphVersions(BaseModel):
    """The per-clip graph as refresh needs it: code versions, edges both ways, topological order."""

    versions: dict[str, str]
    children: dict[str, list[str]]
    parents: dict[str, list[str]]
    order: list[str]


def graph_versions(graph: Any) -> GraphVersions:
    """From an asset graph (`Definitions.resolve_asset_graph()`, or `AutomationContext.asset_graph` inside a
    condition): only the clip-partitioned assets."""
    versions: dict[str, str] = {}
    children: dict[str, list[str]] = {}
    parents: dict[str, list[str]] = {}
    for key in graph.toposorted_asset_keys:
        node = graph.get(key)
        if not node.is_partitioned:
            continue
        name = key.path[-1]
        versions[name] = node.code_version or ""
        children[name] = [child.path[-1] for child in node.child_keys]
        parents[name] = [parent.path[-1] for parent in node.parent_keys]
    return GraphVersions(versions=versions, children=children, parents=parents, order=list(versions))


def current_versions(defs: Definitions) -> tuple[dict[str, str], dict[str, list[str]], list[str]]:
    """(asset -> code version, asset -> direct children, assets in topological order) of the per-clip graph."""
    graph = graph_versions(defs.resolve_asset_graph())
    return graph.versions, graph.children, graph.order


def plan_refresh(
    defs: Definitions, store: CatalogResource, media_dir: Path, *, stale: bool = True,
    missing_steps: list[str] | None = None, clip_ids: list[str] | None = None,
) -> RefreshPlan:
    """The pairs to redo: out of date (stale), their downstream, and steps never made (missing)."""
    return plan_pairs(graph_versions(defs.resolve_asset_graph()), store, media_dir, stale=stale,
                      missing_steps=missing_steps, clip_ids=clip_ids)


def input_edges(graph: GraphVersions) -> dict[str, list[str]]:
    """asset -> the parents whose re-materialization makes it out of date."""
    return {asset: [p for p in parents if p in graph.versions and p not in CONTENT_FIXED]
            for asset, parents in graph.parents.items()}


def plan_pairs(
    graph: GraphVersions, store: CatalogResource, media_dir: Path | str, *, stale: bool = True,
    missing_steps: Sequence[str] | None = None, clip_ids: Sequence[str] | None = None,
) -> RefreshPlan:
    """plan_refresh on an already resolved graph (what the Dagster automation condition calls)."""
    versions, children = graph.versions, graph.children
    wanted_clips = set(clip_ids) if clip_ids is not None else None
    pairs: dict[tuple[str, str], StalePair] = {}
    if stale:
        for asset, clip_id, recorded in store.stale_versions(versions):
            if wanted_clips is None or clip_id in wanted_clips:
                pairs[(asset, clip_id)] = StalePair(asset=asset, clip_id=clip_id, reason="code version changed",
                                                    recorded_version=recorded, current_version=versions[asset])
        for asset, clip_id, parent in store.remade_inputs(input_edges(graph)):
            if wanted_clips is None or clip_id in wanted_clips:
                pairs.setdefault((asset, clip_id), StalePair(
                    asset=asset, clip_id=clip_id, reason=f"made before {parent} was redone",
                    current_version=versions[asset]))
    if missing_steps:
        for clip_id in (clip_ids if clip_ids is not None else store.all_clip_ids()):
            for asset in missing_steps:
                if not sidecar_path(media_dir, clip_id, asset).exists():
                    pairs.setdefault((asset, clip_id), StalePair(asset=asset, clip_id=clip_id, reason="never made",
                                                                 current_version=versions.get(asset)))
    _add_downstream(pairs, children, versions, media_dir)
    rank = {name: i for i, name in enumerate(graph.order)}
    return RefreshPlan(pairs=sorted(pairs.values(), key=lambda p: (p.clip_id, rank.get(p.asset, 0))))


def _add_downstream(pairs: dict[tuple[str, str], StalePair], children: Mapping[str, Sequence[str]],
                    versions: Mapping[str, str], media_dir: Path | str) -> None:
    """Everything below each pair, where the clip has that product."""
    for root in list(pairs.values()):
        frontier = list(children.get(root.asset, []))
        while frontier:
            child = frontier.pop()
            if (child, root.clip_id) not in pairs and sidecar_path(media_dir, root.clip_id, child).exists():
                pairs[(child, root.clip_id)] = StalePair(
                    asset=child, clip_id=root.clip_id, reason=f"downstream of {root.asset}",
                    current_version=versions.get(child),
                )
            frontier += children.get(child, [])
