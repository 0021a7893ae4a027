"""From a scan to a plan: which files are new clips, already cataloged, duplicates, moved, or not video.

Shared by `video-catalog ingest` and the folder sensor so both classify a file the same way.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, Field

from catalog_resources.store.catalog import CatalogQueries
from catalog_resources.models.clips import IngestItem, IngestSummary, ScanReport


class IngestPlan(BaseModel):
    summary: IngestSummary = Field(default_factory=IngestSummary)
    new_clips: list[str] = Field(default_factory=list, description="Clip ids to catalog, in scan order.")
    refresh_clips: list[str] = Field(default_factory=list, description="Known clips seen at a new path.")
    deferred: int = Field(default=0, description="New clips left for a later run by --limit.")
    path_of: dict[str, str] = Field(default_factory=dict, description="clip id -> the path that introduced it.")


def plan_ingest(report: ScanReport, store: CatalogQueries, *, limit: int | None = None) -> IngestPlan:
    plan = IngestPlan()
    summary = plan.summary
    for missing in report.missing_roots:
        summary.failed.append(IngestItem(path=missing, reason="path does not exist"))
    for skip in report.skipped:  # special files, broken links, loops, unreadable folders: named, never dropped
        bucket = summary.failed if skip.outcome == "failed" else summary.not_video
        bucket.append(IngestItem(path=skip.path, reason=skip.reason))
    videos = [f for f in report.files if f.kind == "video" and f.fingerprint]
    known = store.known_clips(f.fingerprint for f in videos)
    first_path: dict[str, str] = {}
    for item in report.files:
        if item.kind == "not_video":
            summary.not_video.append(IngestItem(path=item.path, reason=item.reason))
            continue
        if item.kind == "unreadable":
            summary.failed.append(IngestItem(path=item.path, reason=item.reason))
            continue
        clip_id = item.fingerprint
        assert clip_id is not None
        entry = IngestItem(path=item.path, clip_id=clip_id)
        if clip_id in known:
            sources = known[clip_id]
            recorded = {s.path: s for s in sources}
            if item.path in recorded and recorded[item.path].online and recorded[item.path].size_bytes == item.size_bytes:
                summary.existing.append(entry)
                continue
            gone = [s.path for s in sources if s.path != item.path and not os.path.exists(s.path)]
            if gone and not any(os.path.exists(s.path) for s in sources if s.path != item.path):
                summary.moved.append(entry.model_copy(update={"reason": f"moved from {gone[0]}"}))
            elif item.path in recorded:
                summary.existing.append(entry.model_copy(update={"reason": "back online"}))
            else:
                online = next((s.path for s in sources if s.path != item.path), item.path)
                summary.duplicates.append(entry.model_copy(update={"reason": f"same content as {online}"}))
            if clip_id not in plan.refresh_clips:
                plan.refresh_clips.append(clip_id)
            continue
        if clip_id in first_path:
            summary.duplicates.append(entry.model_copy(update={"reason": f"same content as {first_path[clip_id]}"}))
            continue
        first_path[clip_id] = item.path
        if limit is not None and len(plan.new_clips) >= limit:
            plan.deferred += 1
            continue
        plan.new_clips.append(clip_id)
        plan.path_of[clip_id] = item.path
        summary.new.append(entry)
    return plan
