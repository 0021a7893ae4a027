"""faces: the people in each clip, as face tracks with time ranges, clustered into people across the catalog.

Works on what thumbnails and frame_analysis already made (the thumbnail files and the faces the packaged
detector found on them); where a face appears or leaves between thumbnails more than a second apart, it decodes
a few small frames of the original in that gap (people/edges.py) so track times are right to about a second.
It adds dlib's 128-d face vectors (5-point alignment) for the few faces tracks need. The IO manager's writer
gives each track a person (store/people.py).
Face data is personal data: `--disable faces` skips the step, VIDEO_CATALOG_FACES=0 turns it off everywhere
(a run then stores no face data for its clips and removes what was there).
"""

from pathlib import Path

from dagster import AssetExecutionContext, Failure, Output

from catalog_assets.metadata import clip_output
from catalog_assets.partitions import clip_asset
from catalog_resources.models.clips import ClipSource
from catalog_resources.models.media import FrameAnalysis, ThumbnailSet
from catalog_resources.models.people import FaceSet
from catalog_resources.models.technical import TechnicalMetadata
from catalog_resources.people.clip_faces import find_faces
from catalog_resources.people.embedding import MODEL_NAME, FaceModelError
from catalog_resources.resources.media import ClipPool, MediaStore
from catalog_resources.settings import load_settings
from catalog_resources.work.cpu import StepClock

CODE_VERSION = f"2+{MODEL_NAME}"  # 2: track edges searched between thumbnails


def _clip_metadata(faces: FaceSet) -> dict[str, object]:
    """This clip's faces, tracks and seconds (people are counted in the batch totals)."""
    return {
        "enabled": faces.enabled,
        "faces_found": faces.faces_found,
        "frames_probed": faces.frames_probed,
        "tracks": len(faces.tracks),
        "embedded": sum(t.embedded for t in faces.tracks),
        "screen_seconds": round(sum(t.screen_seconds for t in faces.tracks), 2),
        "seconds": faces.seconds,
    }


@clip_asset(code_version=CODE_VERSION, group_name="analysis", kinds={"python"})
def faces(
    context: AssetExecutionContext,
    clip_source: dict[str, ClipSource],
    technical_metadata: dict[str, TechnicalMetadata],
    thumbnails: dict[str, ThumbnailSet],
    frame_analysis: dict[str, FrameAnalysis],
    media: MediaStore,
    clip_pool: ClipPool,
) -> Output[dict[str, FaceSet]]:
    """Face tracks per clip (the same person within a clip, with the times they are on screen) from the faces
    frame_analysis found on the thumbnails (and on a few frames decoded where a face appears or leaves between
    thumbnails, for its times), embedded with dlib's ResNet (128-d, 5-point landmarks); each track
    joins the nearest person across the catalog or starts a new one. Off with VIDEO_CATALOG_FACES=0."""
    started = StepClock.start()
    enabled = load_settings().faces

    def find(clip_id: str) -> FaceSet:
        if not enabled:
            return FaceSet(clip_id=clip_id, enabled=False, model=MODEL_NAME)
        meta, source = technical_metadata[clip_id], clip_source.get(clip_id)
        try:
            return find_faces(
                thumbnails.get(clip_id), frame_analysis.get(clip_id), media.clip_dir(clip_id) / "faces",
                clip_id=clip_id, start=meta.start_time_seconds or 0.0, duration=meta.duration_seconds,
                source=Path(source.path) if source else None, rotation=meta.rotation or 0,
                transfer=meta.transfer_characteristics,
            )
        except FaceModelError as exc:  # a missing package fails every clip the same way: no retry
            raise Failure(description=f"faces of clip {clip_id}: {exc}", allow_retries=False) from exc

    results = clip_pool.map(find, list(technical_metadata))
    return clip_output(
        context, results, _clip_metadata, started=started,
        totals={"faces_found": sum(r.faces_found for r in results.values()),
                "tracks": sum(len(r.tracks) for r in results.values())},
    )
