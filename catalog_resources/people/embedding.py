"""128-d face vectors from dlib's ResNet model (face-recognition-models), aligned by its 5-point landmarks.

The 5-point landmark model is used, never the 68-point one: that one was trained on data (iBUG 300-W) whose
licence forbids commercial use. Boxes come from the packaged CNN detector frame_analysis already runs
(media/faces.py): it finds faces dlib's HOG detector misses (a grey cameraman) at no extra cost, and its boxes
embed within 0.1 of HOG's (dlib's same-person threshold is 0.6). The network costs ~40-150 ms a face on a
shared CPU, so callers embed few faces (tracks.py joins the rest by position).
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

from catalog_resources.errors import SetupError
from catalog_resources.models.media import Face

MODEL_NAME = "dlib-resnet-v1+5pt"
LANDMARKS_FILE = "shape_predictor_5_face_landmarks.dat"
NETWORK_FILE = "dlib_face_recognition_resnet_model_v1.dat"
MIN_FACE_PIXELS = 36  # shorter faces embed poorly (the chip is 150 px); they count as found, not as a person
MARGIN = 0.4  # of the box, kept around it when cropping before alignment


class FaceModelError(SetupError):
    """dlib or the face-recognition-models package is missing or broken."""


def models_dir() -> Path:
    """The packaged model files, found without importing face_recognition_models (its __init__ needs
    pkg_resources, which new setuptools no longer ship)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FaceModelError("face-recognition-models is not installed: pip install 'face-recognition-models>=0.3'")
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    for name in (LANDMARKS_FILE, NETWORK_FILE):
        if not (folder / name).is_file():
            raise FaceModelError(f"{folder / name} is missing: reinstall face-recognition-models")
    return folder


@functools.cache
def _models():
    """(landmarks, network), loaded once per process (~0.3 s)."""
    try:
        import dlib
    except ImportError as exc:
        raise FaceModelError(f"dlib is not installed ({exc}): pip install 'dlib-bin>=20'") from None
    folder = models_dir()
    return dlib.shape_predictor(str(folder / LANDMARKS_FILE)), dlib.face_recognition_model_v1(str(folder / NETWORK_FILE))


def pixel_box(face: Face, width: int, height: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) in pixels of a face given in fractions of the frame."""
    return (round(face.x * width), round(face.y * height),
            round((face.x + face.width) * width), round((face.y + face.height) * height))


def embeddable(face: Face, width: int, height: int) -> bool:
    left, top, right, bottom = pixel_box(face, width, height)
    return bottom - top >= MIN_FACE_PIXELS and right - left >= MIN_FACE_PIXELS * 0.6


def embed_face(rgb: np.ndarray, face: Face) -> np.ndarray:
    """The unit-length 128-d vector of one face of an RGB frame (H, W, 3 uint8)."""
    import dlib

    landmarks, network = _models()
    height, width = rgb.shape[:2]
    left, top, right, bottom = pixel_box(face, width, height)
    pad_x, pad_y = round((right - left) * MARGIN), round((bottom - top) * MARGIN)
    x0, y0 = max(0, left - pad_x), max(0, top - pad_y)
    crop = np.ascontiguousarray(rgb[y0:min(height, bottom + pad_y), x0:min(width, right + pad_x)], dtype=np.uint8)
    shape = landmarks(crop, dlib.rectangle(left - x0, top - y0, right - x0, bottom - y0))
    chip = dlib.get_face_chip(crop, shape, size=150, padding=0.25)
    vector = np.asarray(network.compute_face_descriptor(chip), dtype=np.float32)
    return vector / max(float(np.linalg.norm(vector)), 1e-9)


def face_crop(rgb: np.ndarray, face: Face, size: int = 160) -> np.ndarray:
    """A square face thumbnail with some margin (what `people list` points at)."""
    from PIL import Image

    height, width = rgb.shape[:2]
    left, top, right, bottom = pixel_box(face, width, height)
    side = round(max(right - left, bottom - top) * 1.5)
    cx, cy = (left + right) // 2, (top + bottom) // 2
    x0, y0 = max(0, cx - side // 2), max(0, cy - side // 2)
    image = Image.fromarray(rgb[y0:min(height, y0 + side), x0:min(width, x0 + side)])
    image.thumbnail((size, size))
    return np.asarray(image)
