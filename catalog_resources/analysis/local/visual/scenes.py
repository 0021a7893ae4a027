"""A clip's scenes described: describe_scene over each scene_change segment, from what frame_analysis already has.

frame_analysis decodes the analysis stream (64 px grey frames at the source rate) for its scene cuts, loads the
kept thumbnails and runs the face detector on them; this reuses all three: the thumbnails inside a scene are its
frames (labels, light), their face counts its people, and the analysis frames inside it its camera motion. A scene
no kept thumbnail falls in (a cut shorter than the thumbnails' spacing) gets no description rather than a
neighbour's.

`visual_code_version()` names the classifier and this recipe; frame_analysis folds it into its code version, so a
new model or recipe marks exactly the catalogs' frame_analysis (and what is made from it) out of date.
"""

from __future__ import annotations

import bisect

import numpy as np
from pydantic import BaseModel, ConfigDict

from catalog_resources.analysis.local.visual.classifier import _EXPORT_VERSION, MODEL_NAME, FrameClassifier
from catalog_resources.analysis.local.visual.segment import describe_scene
from catalog_resources.models.visual import VisualSegment

RECIPE_VERSION = 2  # bump when what a scene's description holds or how it is made changes (2: its look vector)


def visual_code_version() -> str:
    """'efficientnet-lite0/onnx-v1:visual-v2': the classifier (and its export) and the recipe."""
    return f"{MODEL_NAME}/onnx-v{_EXPORT_VERSION}:visual-v{RECIPE_VERSION}"


class SceneBounds(BaseModel):
    index: int
    start_seconds: float
    end_seconds: float
    keyframe_path: str | None = None


class ClipFrames(BaseModel):
    """What frame_analysis decoded, in source presentation seconds: RGB thumbnails with their face counts, and
    the grey analysis stream."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    times: list[float]
    frames: list[np.ndarray]
    face_counts: list[int]
    motion_times: list[float]
    motion_frames: list[np.ndarray]


def _inside(times: list[float], start: float, end: float, first: bool, last: bool) -> range:
    """Indexes of the sorted `times` in [start, end); the first scene also takes what is before it and the last
    what is after it (a thumbnail a rounding before the first analysis frame is still the clip's)."""
    lo = 0 if first else bisect.bisect_left(times, start)
    hi = len(times) if last else bisect.bisect_left(times, end)
    return range(lo, hi)


def describe_scenes(scenes: list[SceneBounds], clip: ClipFrames, classifier: FrameClassifier) -> list[VisualSegment]:
    """One VisualSegment per scene that holds at least one thumbnail, with the scene's own start and end."""
    order = sorted(range(len(clip.times)), key=lambda i: clip.times[i])
    times = [clip.times[i] for i in order]
    motion_order = sorted(range(len(clip.motion_times)), key=lambda i: clip.motion_times[i])
    motion_times = [clip.motion_times[i] for i in motion_order]
    described: list[VisualSegment] = []
    for n, scene in enumerate(scenes):
        first, last = n == 0, n == len(scenes) - 1
        picked = [order[i] for i in _inside(times, scene.start_seconds, scene.end_seconds, first, last)]
        if not picked:
            continue
        moving = [motion_order[i] for i in _inside(motion_times, scene.start_seconds, scene.end_seconds, first, last)]
        segment = describe_scene(
            [clip.times[i] for i in picked], [clip.frames[i] for i in picked], classifier,
            face_counts=[clip.face_counts[i] for i in picked],
            motion_times=[clip.motion_times[i] for i in moving], motion_frames=[clip.motion_frames[i] for i in moving],
            end_seconds=scene.end_seconds,
        )
        described.append(segment.model_copy(update={
            "start_seconds": round(scene.start_seconds, 4), "scene_index": scene.index,
            "keyframe_path": scene.keyframe_path,
        }))
    return described
