"""Which (asset, clip) pairs are out of date, and re-materializing exactly those through Dagster.

Stale means: the code version recorded when the asset was last materialized for the clip (table
asset_versions, written by the IO manager) differs from the asset's code version now. One indexed query
finds them; Dagster's per-asset stale resolver costs ~20 ms per asset per clip, too slow at 1,000 clips.
The assets downstream of a stale one are refreshed too, but only those the clip already has, so a step
that was disabled for a clip stays off.
"""

from __future__ import annotations

from pathlib import Path

from dagster import Definitions
from pydantic import BaseModel

from catalog_assets.io_manager import sidecar_path
from catalog_resources.resources.catalog import CatalogResource


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


def current_versions(defs: Definitions) -> tuple[dict[str, str], dict[str, list[str]], list[str]]:
    """(asset -> code version, asset -> direct children, assets in topological order) of the per-clip graph."""
    graph = defs.resolve_asset_graph()
    versions, children = {}, {}
    for key in graph.toposorted_asset_keys:
        node = graph.get(key)
        if not node.is_partitioned:
            continue
        name = key.path[-1]
        versions[name] = node.code_version or ""
        children[name] = [child.path[-1] for child in node.child_keys]
    return versions, children, list(versions)


def plan_refresh(
    defs: Definitions, store: CatalogResource, media_dir: Path, *, stale: bool = True,
    missing_steps: list[str] | None = None, clip_ids: list[str] | None = None,
) -> RefreshPlan:
    """The pairs to redo: code version changed (stale), their downstream, and steps never made (missing)."""
    versions, children, order = current_versions(defs)
    pairs: dict[tuple[str, str], StalePair] = {}
    if stale:
        for asset, clip_id, recorded in store.stale_versions(versions):
            if clip_ids is None or clip_id in clip_ids:
                pairs[(asset, clip_id)] = StalePair(asset=asset, clip_id=clip_id, reason="code version changed",
                                                    recorded_version=recorded, current_version=versions[asset])
    if missing_steps:
        wanted = clip_ids if clip_ids is not None else store.all_clip_ids()
        for clip_id in wanted:
            for asset in missing_steps:
                if not sidecar_path(media_dir, clip_id, asset).exists():
                    pairs.setdefault((asset, clip_id), StalePair(asset=asset, clip_id=clip_id, reason="never made",
                                                                 current_version=versions.get(asset)))
    roots = list(pairs.values())
    for root in roots:  # downstream of each, where the clip has that product
        frontier = list(children.get(root.asset, []))
        while frontier:
            child = frontier.pop()
            if (child, root.clip_id) not in pairs and sidecar_path(media_dir, root.clip_id, child).exists():
                pairs[(child, root.clip_id)] = StalePair(
                    asset=child, clip_id=root.clip_id, reason=f"downstream of {root.asset}",
                    current_version=versions.get(child),
                )
            frontier += children.get(child, [])
    rank = {name: i for i, name in enumerate(order)}
    ordered = sorted(pairs.values(), key=lambda p: (p.clip_id, rank.get(p.asset, 0)))
    return RefreshPlan(pairs=ordered)

