"""Asset checks: each product is verified against the catalog after it is written.

The checks judge; the facts they judge come from the store (catalog_resources/store/checks.py), so no SQL here.
"""


import re
import warnings
from collections.abc import Callable

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetChecksDefinition,
    AssetsDefinition,
    PreviewWarning,
    asset_check,
)

from catalog_assets.catalog_record import catalog_record
from catalog_assets.clip_source import clip_source
from catalog_assets.frame_analysis import frame_analysis
from catalog_assets.partitions import clips_partitions, keys_of
from catalog_assets.technical_metadata import technical_metadata
from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.workers import QUEUE_TAG, queue_of

MD5_RE = re.compile(r"^[0-9a-f]{32}$")


def clip_check(asset: AssetsDefinition, **kwargs) -> Callable[[Callable[..., AssetCheckResult]], AssetChecksDefinition]:
    """@asset_check over the clip partitions, each run checking the clips it wrote.

    A partitioned asset check is a preview feature in Dagster 1.13, relied on knowingly (a check per clip, not
    one over the whole catalog); that one warning is silenced here, where it is accepted, and no other."""

    def decorate(fn: Callable[..., AssetCheckResult]) -> AssetChecksDefinition:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=r"Specifying a partitions_def on an AssetCheckSpec", category=PreviewWarning
            )
            # on the celery executor a check is a step too: it goes to its asset's queue (catalog_resources/workers.py)
            queue = {QUEUE_TAG: queue_of(asset.key.to_user_string())}
            return asset_check(asset=asset, partitions_def=clips_partitions, op_tags=queue, **kwargs)(fn)

    return decorate


@clip_check(clip_source, blocking=True)
def clip_source_verified(context: AssetCheckExecutionContext, catalog: CatalogResource) -> AssetCheckResult:
    """Every clip in the run has a row with a well-formed MD5 and at least one online source path."""
    problems = {}
    keys = keys_of(context.partition_keys)
    rows = catalog.clip_source_facts(list(keys))
    for clip_id, key in keys.items():
        row = rows.get(clip_id)
        if row is None:
            problems[key] = "no clips row"
        elif not MD5_RE.match(row["md5"]):
            problems[key] = f"malformed md5 {row['md5']!r}"
        elif not row["online"]:
            problems[key] = "no online source path"
    return AssetCheckResult(
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        metadata={"clips_checked": len(keys), "problems": problems},
    )


@clip_check(catalog_record)
def catalog_record_present(context: AssetCheckExecutionContext, catalog: CatalogResource) -> AssetCheckResult:
    """The search row exists and agrees with the clip's checksum."""
    problems = {}
    keys = keys_of(context.partition_keys)
    rows = catalog.catalog_record_agreement(list(keys))
    for clip_id, key in keys.items():
        if clip_id not in rows:
            problems[key] = "missing catalog_records row"
        elif not rows[clip_id]["same"]:
            problems[key] = "md5 differs from clips row"
    return AssetCheckResult(passed=not problems, metadata={"clips_checked": len(keys), "problems": problems})


@clip_check(technical_metadata)
def technical_metadata_essentials(context: AssetCheckExecutionContext, catalog: CatalogResource) -> AssetCheckResult:
    """A decodable clip has its essentials: duration, resolution, codec and frame rate."""
    problems = {}
    keys = keys_of(context.partition_keys)
    rows = catalog.technical_essentials(list(keys))
    for clip_id, key in keys.items():
        row = rows.get(clip_id)
        if row is None:
            problems[key] = "no technical_metadata row"
            continue
        if any(i["severity"] == "error" for i in row["validation_issues"]):
            continue  # not decodable: the validation issues say why, essentials cannot be expected
        missing = [c for c in ("duration_seconds", "width", "height", "video_codec", "frame_rate") if row[c] is None]
        if missing:
            problems[key] = f"missing {', '.join(missing)}"
    return AssetCheckResult(passed=not problems, metadata={"clips_checked": len(keys), "problems": problems})


@clip_check(frame_analysis)
def frame_analysis_thresholds(context: AssetCheckExecutionContext, catalog: CatalogResource) -> AssetCheckResult:
    """Flags (warns, never fails) clips whose exposure or sharpness crosses the analyzer's thresholds."""
    keys = keys_of(context.partition_keys)
    rows = catalog.frame_quality_flags(list(keys))
    flagged = {
        keys[r["clip_id"]]: ", ".join(
            part for part, on in (("exposure", r["exposure_warning"]), ("blur", r["blurry"])) if on
        )
        for r in rows
        if r["exposure_warning"] or r["blurry"]
    }
    return AssetCheckResult(
        passed=not flagged, severity=AssetCheckSeverity.WARN,
        metadata={"clips_checked": len(keys), "flagged": flagged},
    )
