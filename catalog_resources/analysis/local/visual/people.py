"""People in a scene from face counts: no people / one person / a few people / a crowd.

Faces come from the packaged libfacedetection CNN (catalog_resources.media.faces), which frame_analysis already
runs on every kept thumbnail. A scene's count is the upper quartile of its frames' counts: one frame's false face
does not make a person, and a person seen in a third of the scene still counts.
"""

from __future__ import annotations

import numpy as np

from catalog_resources.media.faces import detect_faces
from catalog_resources.models.visual import People, PeopleBucket

CROWD_FROM = 6  # six or more faces at once reads as a crowd; two to five as "a few"


def bucket(faces: int) -> PeopleBucket:
    if faces <= 0:
        return "no people"
    if faces == 1:
        return "one person"
    return "a few people" if faces < CROWD_FROM else "a crowd"


def count_faces(frames: list[np.ndarray]) -> list[int]:
    """Faces per RGB frame, from the packaged detector."""
    return [len(detect_faces(frame)) for frame in frames]


def scene_people(face_counts: list[int]) -> People:
    if not face_counts:
        return People(faces=0, bucket="no people")
    typical = int(np.percentile(face_counts, 75, method="nearest"))
    return People(faces=typical, bucket=bucket(typical))
