"""frame_analysis: exposure, blur, noise, compression, complexity and scene cuts for each clip."""

import time

from dagster import AssetExecutionContext

from catalog_assets.metadata import json_metadata
from catalog_assets.partitions import clip_asset
from catalog_resources.models.media import DerivedMedia, FrameAnalysis, ThumbnailSet
from catalog_resources.models.technical import TechnicalMetadata
from catalog_resources.resources.media import FrameInspector


@clip_asset(code_version="2", group_name="analysis", kinds={"python"})
def frame_analysis(
    context: AssetExecutionContext,
    technical_metadata: dict[str, TechnicalMetadata],
    proxy: dict[str, DerivedMedia],
    thumbnails: dict[str, ThumbnailSet],
    frame_inspector: FrameInspector,
) -> dict[str, FrameAnalysis]:
    """Over the thumbnails' frames: over/under-exposed %, histogram, stops off when clearly off, blur
    (Laplacian variance at 640 px), noise (Immerkaer), blockiness, edge density and entropy, a 0-100
    quality score with its parts. Over the proxy's analysis stream: hard scene cuts (PTS seconds), stored
    as scene_change segments. Shot type from the largest face per frame (packaged CNN)."""
    started = time.monotonic()
    results: dict[str, FrameAnalysis] = {}
    for clip_id, meta in technical_metadata.items():
        results[clip_id] = frame_inspector.analyze(
            clip_id, proxy.get(clip_id), thumbnails.get(clip_id), duration=meta.duration_seconds,
            start=meta.start_time_seconds, focal_35mm=meta.focal_length_35mm,
        )
    first = next(iter(results.values()))
    context.add_output_metadata({
        "clips": len(results),
        "compute_seconds": round(time.monotonic() - started, 4),
        "quality_score": first.quality_score or 0.0,
        "exposure_warning": first.exposure_warning,
        "blurry": first.is_blurry,
        "scene_cuts": json_metadata(first.scene_cuts),
        "segments": sum(len(r.segments) for r in results.values()),
    })
    return results
