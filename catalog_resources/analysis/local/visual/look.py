"""A scene's look: the classifier's 1280-d pooled features (mean over the scene's labelled frames, L2-normalised),
stored in pgvector so `similar --by look` and `search --image` find shots that look alike.

The features are what the ImageNet classifier sees before it names a class, so two pictures of the same thing,
framed or lit a little differently, land close; they are non-negative (after ReLU6), so unrelated pictures are
not at cosine 0 but around 0.15. LOOK_CUTOFF / LOOK_SURE are measured by bench/look.py on scikit-image photos
(the same photo re-encoded, cropped, brightened, blurred or letterboxed, against the other photos): see there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from catalog_resources.analysis.local.visual.classifier import _EXPORT_VERSION, MODEL_NAME, FrameClassifier
from catalog_resources.errors import UsageError

LOOK_MODEL = f"{MODEL_NAME}/onnx-v{_EXPORT_VERSION}"  # scene_looks.model: vectors of one model are compared only
LOOK_DIMENSION = 1280
# Measured by bench/look.py calibrate (18 scikit-image photos x 6 variants, 153 pairs of different photos):
# same photo min 0.66, p10 0.81, median 0.94; different photos median 0.16, p90 0.24, p99 0.40, max 0.50
# (hubble_deep_field ~ moon: two dark, speckled pictures).
LOOK_CUTOFF = 0.55  # 50 %: above every pair of different photos measured, below every variant of the same photo
LOOK_SURE = 0.81  # 100 %: nine in ten variants of the same photo are at least this close
FRAME_LONG_SIDE = 640  # frame_analysis classifies thumbnails at this size; a query image is brought to it too


class ImageUnreadable(UsageError):
    """The image given to `search --image` is missing or is not a picture; the message is the whole line."""


def scene_look(features: np.ndarray) -> list[float] | None:
    """The mean of these frames' pooled features (N, 1280), L2-normalised, rounded for the sidecar; None for none."""
    if len(features) == 0:
        return None
    mean = np.asarray(features, dtype=np.float64).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    if norm == 0.0:
        return None
    return [round(float(v), 6) for v in mean / norm]


def read_image(path: Path) -> np.ndarray:
    """An image file as RGB (H, W, 3 uint8), at most FRAME_LONG_SIDE on its long side, as the frames were seen."""
    path = Path(path)
    if not path.is_file():
        raise ImageUnreadable(f"{path}: no such image file")
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            image.thumbnail((FRAME_LONG_SIDE, FRAME_LONG_SIDE))
            return np.asarray(image)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageUnreadable(f"{path}: not a readable image ({exc.__class__.__name__}); give a JPEG, PNG or WebP") from exc


def image_look(path: Path, classifier: FrameClassifier) -> list[float]:
    """The look vector of one image file, made as a scene's is."""
    _probabilities, features = classifier.classify([read_image(path)])
    look = scene_look(features)
    if look is None:  # an all-black picture has no features to compare
        raise ImageUnreadable(f"{path}: the image is blank; nothing to compare")
    return look
