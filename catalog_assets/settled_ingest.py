"""A re-ingest of footage that is already cataloged, answered from the catalog alone.

Most runs of `ingest` on a watched or re-mounted folder find nothing new. Importing Dagster and opening its
instance costs about 2 s of CPU before the first clip could even be looked at, for an answer the catalog
already has: every file's fingerprint is known and every clip has all its steps. So the command first scans and
plans without Dagster, and only if something is left to do (a new or changed file, a clip missing a step or
with a failed one, a moved file) goes on to the Dagster path, with the scan it already made.

The steps a plain ingest runs are the pipeline's defaults as the last Dagster-side run recorded them
(pipeline_versions). They are trusted only while the recorded signature (this package's source and the
settings) matches the current one: a new step, a changed default or another setting sends the ingest down the
Dagster path, which records the pipeline again. Dagster-free on purpose: no import of this module may pull it in.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable, Sequence
from pathlib import Path

from catalog_resources.ingest.plan import plan_ingest
from catalog_resources.ingest.scanner import scan
from catalog_resources.models.clips import IngestSummary, ScannedFile, ScanReport
from catalog_resources.settings import CatalogSettings
from catalog_resources.store.catalog import CatalogQueries
from catalog_resources.store.ingest_state import METADATA_ONLY_PREFIX, METADATA_ONLY_STEPS


def pipeline_signature(settings: CatalogSettings) -> str:
    """A digest of what decides the pipeline's steps and defaults: the asset graph's source and the settings."""
    digest = hashlib.sha256()
    spec = importlib.util.find_spec("catalog_assets")  # the package's folder, without importing it
    folders = [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    for folder in folders:
        for path in sorted(folder.glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(settings.model_dump_json().encode())
    return digest.hexdigest()


def settled(store: CatalogQueries, report: ScanReport, settings: CatalogSettings) -> IngestSummary | None:
    """The summary of an ingest that has nothing to run, or None when something is left (or the recorded
    pipeline cannot be trusted)."""
    signature, defaults = store.recorded_pipeline()
    if not defaults or signature != pipeline_signature(settings):
        return None
    plan = plan_ingest(report, store)
    if plan.new_clips or plan.refresh_clips:
        return None
    known = list(dict.fromkeys(i.clip_id for i in plan.summary.existing if i.clip_id))
    progress = store.clip_progress(known) if known else {}
    for clip_id in known:
        row = progress.get(clip_id)
        if row is None or not _complete(row, defaults):
            return None
    store.retire_replaced_paths((f.path, f.fingerprint) for f in report.files if f.fingerprint)
    return plan.summary


def scan_then_settle(store: CatalogQueries, paths: Sequence[Path], settings: CatalogSettings,
                     on_scan: Callable[[ScannedFile], None] | None = None) -> tuple[ScanReport, IngestSummary | None]:
    """The scan (kept for the Dagster path when it is needed) and the settled summary, if any."""
    report = scan(list(paths), store, on_file=on_scan, record=True)
    return report, settled(store, report, settings)


def _complete(row: dict, defaults: list[str]) -> bool:
    expected = [s for s in defaults if s in METADATA_ONLY_STEPS] if (row["status"] or "").startswith(
        METADATA_ONLY_PREFIX) else defaults
    failed = {f["asset"] for f in row["failures"]}
    return set(expected) <= set(row["made"]) and not (failed & set(expected))
