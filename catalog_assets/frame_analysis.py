"""frame_analysis: exposure, blur, noise, compression, complexity, scene cuts, and what each scene shows.

Its code version carries the image classifier and the visual recipe (visual_code_version), so a new model marks
frame_analysis out of date on existing catalogs (`refresh --stale` redoes it and what is made from it).
"""


from dagster import AssetExecutionContext, Failure, Output

from catalog_assets.metadata import clip_output, content_version, json_metadata
from catalog_assets.partitions import clip_asset
from catalog_resources.analysis.local.visual import VisualModelError
from catalog_resources.analysis.local.visual.scenes import visual_code_version
from catalog_resources.models.media import DerivedMedia, FrameAnalysis, ThumbnailSet
from catalog_resources.models.technical import TechnicalMetadata
from catalog_resources.resources.media import ClipPool, FrameInspector
from catalog_resources.work.cpu import StepClock


def _clip_metadata(fa: FrameAnalysis) -> dict[str, object]:
    """This clip's quality, exposure, framing and scene cuts."""
    return {
        "quality_score": round(fa.quality_score or 0.0, 2),
        "quality_parts": json_metadata(fa.quality_parts),
        "exposure_warning": fa.exposure_warning,
        "exposure_stops": fa.exposure_stops if fa.exposure_stops is not None else "",  # only when clearly off
        "blurry": fa.is_blurry,
        "shot_type": fa.shot_type or "",
        "scene_cuts": json_metadata(fa.scene_cuts),
        "segments": len(fa.segments),
        "visual": json_metadata([f"{v.start_seconds:.2f}-{v.end_seconds:.2f} s: {v.text}" for v in fa.visual]),
        "analysis_frames": fa.analysis_frames,
    }


# 4: faces found at 480 px (a held shot once), cuts out of black into a dim fade-up
CODE_VERSION = f"4+{visual_code_version()}"


def _content(fa: FrameAnalysis) -> str:
    """content_version without the scenes' own timings (nested, so content_version cannot see them)."""
    return content_version(fa.model_copy(update={"visual": [v.model_copy(update={"seconds": 0.0}) for v in fa.visual]}))


@clip_asset(code_version=CODE_VERSION, group_name="analysis", kinds={"python"})
def frame_analysis(
    context: AssetExecutionContext,
    technical_metadata: dict[str, TechnicalMetadata],
    proxy: dict[str, DerivedMedia],
    thumbnails: dict[str, ThumbnailSet],
    frame_inspector: FrameInspector,
    clip_pool: ClipPool,
) -> Output[dict[str, FrameAnalysis]]:
    """Over the thumbnails' frames: over/under-exposed %, histogram, stops off when clearly off, blur
    (Laplacian variance at 640 px), noise (Immerkaer), blockiness, edge density and entropy, a 0-100
    quality score with its parts. Over the proxy's analysis stream: hard scene cuts (PTS seconds), stored
    as scene_change segments. Shot type from the largest face per frame (packaged CNN). Per scene, from its
    thumbnails, faces and analysis frames: ImageNet labels with WordNet general terms, people, light and camera
    motion, stored as `visual` segments with text search indexes and tags with source = visual."""
    started = StepClock.start()

    def analyze(clip_id: str) -> FrameAnalysis:
        meta = technical_metadata[clip_id]
        try:
            return frame_inspector.analyze(
                clip_id, proxy.get(clip_id), thumbnails.get(clip_id), duration=meta.duration_seconds,
                start=meta.start_time_seconds, focal_35mm=meta.focal_length_35mm,
            )
        except VisualModelError as exc:  # the classifier's packages or export: a retry would fail the same way
            raise Failure(description=f"frame_analysis of clip {clip_id}: {exc}", allow_retries=False) from exc

    results = clip_pool.map(analyze, list(technical_metadata))
    return clip_output(
        context, results, _clip_metadata, started=started,
        totals={"segments": sum(len(r.segments) for r in results.values()),
                "scene_cuts": sum(len(r.scene_cuts) for r in results.values()),
                "visual_segments": sum(len(r.visual) for r in results.values())},
        content=_content,
    )
