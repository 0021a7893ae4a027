"""One scene's frames -> a VisualSegment: labels and general terms, people, light, camera motion, and its text.

The classifier, light and faces look at a few frames (LABEL_RATE a second, at most MAX_LABEL_FRAMES a scene:
a scene's content changes slowly, its cost would not), camera motion at MOTION_RATE pairs a second of the
frames given, or of a denser stream (the 64 px grey analysis frames) when one is passed.
"""

from __future__ import annotations

import time

import numpy as np

from catalog_resources.analysis.local.visual.classifier import FrameClassifier
from catalog_resources.analysis.local.visual.labels import general_terms, top_labels
from catalog_resources.analysis.local.visual.light import measure_light
from catalog_resources.analysis.local.visual.look import scene_look
from catalog_resources.analysis.local.visual.motion import camera_motion, pick
from catalog_resources.analysis.local.visual.people import count_faces, scene_people
from catalog_resources.models.visual import Light, MotionSpan, People, VisualFrame, VisualSegment

LABEL_RATE = 1.0
MAX_LABEL_FRAMES = 8
TEXT_LABELS = 3
TEXT_LABEL_MIN = 0.2  # below this a class is one guess among look-alikes: kept in labels, not put in the text
_LEVEL_WORDS = {"day": "daylight", "night": "night", "low light": "low light"}


def label_frames(times: list[float], rate: float = LABEL_RATE, limit: int = MAX_LABEL_FRAMES) -> list[int]:
    """Indexes of the frames to classify: about `rate` a second, at most `limit`, spread over the scene."""
    chosen = pick(times, rate)
    if len(chosen) > limit:
        chosen = [chosen[round(i * (len(chosen) - 1) / (limit - 1))] for i in range(limit)] if limit > 1 else chosen[:1]
    return chosen


def scene_text(segment: VisualSegment) -> str:
    """'espresso, coffee mug, drink, food; one person; daylight, warm, orange; static' for the search index.

    "no people" is left out: its word "people" would match a search for people.
    """
    words: list[str] = []
    named = [label.name for label in segment.labels[:TEXT_LABELS] if label.confidence >= TEXT_LABEL_MIN]
    for word in named + [t.term for t in segment.terms]:
        if word not in words:
            words.append(word)
    parts = [", ".join(words)] if words else []
    if segment.people.bucket != "no people":
        parts.append(segment.people.bucket)
    if segment.light is not None:
        light = segment.light
        parts.append(", ".join([_LEVEL_WORDS[light.level], light.temperature, *light.colours]))
    kinds: list[str] = []
    for span in segment.motion:
        kinds += [k for k in span.kinds if k not in kinds]
    if kinds:
        parts.append(", ".join(kinds))
    return "; ".join(parts)


def describe_scene(
    times: list[float], frames: list[np.ndarray], classifier: FrameClassifier, *,
    face_counts: list[int] | None = None,
    motion_times: list[float] | None = None, motion_frames: list[np.ndarray] | None = None,
    end_seconds: float | None = None,
) -> VisualSegment:
    """Describe one scene from its RGB frames (H, W, 3 uint8) at `times` (source presentation seconds).

    `face_counts` (one per frame) reuses faces frame_analysis already found instead of running the detector
    again; `motion_times`/`motion_frames` give camera motion a denser stream than `frames`.
    """
    started = time.monotonic()
    chosen = label_frames(times)
    picked = [frames[i] for i in chosen]
    probabilities, features = classifier.classify(picked)
    counts = [face_counts[i] for i in chosen] if face_counts is not None else count_faces(picked)
    per_frame = [
        VisualFrame(pts_seconds=round(times[i], 4), labels=top_labels(p), faces=n, light=measure_light([f]))
        for i, p, n, f in zip(chosen, probabilities, counts, picked)
    ]
    mean = probabilities.mean(axis=0) if len(picked) else np.zeros(1000)
    light: Light | None = measure_light(picked) if picked else None
    motion: list[MotionSpan] = camera_motion(
        motion_times if motion_times is not None else times,
        motion_frames if motion_frames is not None else frames,
    )
    people: People = scene_people(counts)
    start = times[0] if times else 0.0
    end = end_seconds if end_seconds is not None else (times[-1] if times else start)
    segment = VisualSegment(
        start_seconds=round(start, 4), end_seconds=round(end, 4), labels=top_labels(mean),
        terms=general_terms(mean), people=people, light=light, motion=motion, frames=per_frame,
        look=scene_look(features),
    )
    segment.text = scene_text(segment)
    segment.seconds = round(time.monotonic() - started, 4)
    return segment
