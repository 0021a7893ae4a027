"""Optional zero-shot scene labels and focal-length category from a local image-text model (CLIP/SigLIP).

No such model ships inside a PyPI package, so this is off unless VIDEO_CATALOG_IMAGE_MODEL_PATH names
a folder saved with `save_pretrained` (model + processor). It loads with `local_files_only=True`, never
from a hub, once per process (catalog_resources.model_cache). transformers and torch are imported only when a
path is configured.
"""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import BaseModel, Field

from catalog_resources.errors import SetupError
from catalog_resources.model_cache import cached

SCENE_LABELS = (
    "indoor", "outdoor", "city street", "nature", "office", "studio", "stage", "beach", "water", "sky",
    "night", "crowd", "sports", "food", "vehicle", "animal",
)
FOCAL_PROMPTS = {
    "wide": "a photo taken with a wide-angle lens",
    "normal": "a photo taken with a normal lens",
    "telephoto": "a photo taken with a telephoto lens",
}


class ImageModelError(SetupError, RuntimeError):
    """The configured image model cannot be loaded; the message names the folder and the fix."""


class ImageLabels(BaseModel):
    labels: list[tuple[str, float]] = Field(default_factory=list, description="Clip-level label, mean probability; best first.")
    focal_length_category: str | None = None
    focal_probability: float | None = None
    frames: int = 0
    model: str
    seconds: float = 0.0


def _load(path: Path) -> tuple[object, object]:
    """(model, processor) of the folder, loaded on first use and then shared by the process."""

    def build() -> tuple[object, object]:
        if not (path / "config.json").exists():
            raise ImageModelError(
                f"image model folder {path} has no config.json; save a model there with save_pretrained"
                " or unset VIDEO_CATALOG_IMAGE_MODEL_PATH"
            )
        try:
            from transformers import AutoModel, AutoProcessor
        except ImportError as exc:
            raise ImageModelError(
                f"image model {path} needs transformers and torch: pip install torch==2.13.0 transformers"
            ) from exc
        try:
            model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
            processor = AutoProcessor.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ImageModelError(f"image model {path}: {exc}".splitlines()[0]) from exc
        return model, processor

    return cached(("image-model", str(path.resolve())), build)


class ImageLabeler:
    def __init__(self, model_path: Path, top: int = 3, min_probability: float = 0.2) -> None:
        self.model_path = Path(model_path)
        self.top = top
        self.min_probability = min_probability

    def label(self, images: list[Path]) -> ImageLabels:
        """Zero-shot probabilities over SCENE_LABELS and FOCAL_PROMPTS, averaged over the frames."""
        import numpy as np
        import torch
        from PIL import Image

        started = time.monotonic()
        model, processor = _load(self.model_path)
        result = ImageLabels(model=self.model_path.name, frames=len(images))
        if not images:
            return result
        pictures = []
        for path in images:
            with Image.open(path) as image:
                pictures.append(image.convert("RGB"))
        scene_texts = [f"a photo of {label}" for label in SCENE_LABELS]
        texts = scene_texts + list(FOCAL_PROMPTS.values())
        inputs = processor(text=texts, images=pictures, return_tensors="pt", padding=True)
        with torch.inference_mode():
            logits = model(**inputs).logits_per_image.float()  # (frames, texts)
        scene = torch.softmax(logits[:, : len(scene_texts)], dim=1).mean(dim=0).numpy()
        focal = torch.softmax(logits[:, len(scene_texts):], dim=1).mean(dim=0).numpy()
        order = np.argsort(-scene)[: self.top]
        result.labels = [(SCENE_LABELS[i], round(float(scene[i]), 4)) for i in order if scene[i] >= self.min_probability]
        best = int(np.argmax(focal))
        result.focal_length_category = list(FOCAL_PROMPTS)[best]
        result.focal_probability = round(float(focal[best]), 4)
        result.seconds = round(time.monotonic() - started, 3)
        return result
