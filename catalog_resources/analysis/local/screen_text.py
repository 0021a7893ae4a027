"""On-screen text (titles, lower thirds, slides, signs) read from thumbnail frames with RapidOCR.

Why RapidOCR: it runs PP-OCR detection + recognition through onnxruntime on the CPU, and its wheel ships
the ONNX models, so it works offline. It would download a model whose file it cannot find, so the engine
is built with explicit paths to the files inside the installed wheel: a missing file raises
`ScreenTextError` instead of reaching for the network.

Free of Dagster/Typer/Rich so that it can be used and tested on its own.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import importlib.util
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, Field

from catalog_resources.errors import SetupError
from catalog_resources.media.frame_metrics import miniature, same_picture
from catalog_resources.model_cache import cached

log = logging.getLogger(__name__)

MAX_LONG_SIDE = 1280
"""Frames larger than this (long side, px) are shrunk first: detection time grows with pixel count, and
text that is legible on a 4K frame stays legible at 1280 px."""

DET_LONG_SIDE = 800
"""The detector sees the frame with its long side scaled to this (never up). RapidOCR's default scales the
short side to 736 px, a 1280x720 thumbnail to 1308x736: 2.7 times the pixels, for no text found that this
misses. Measured on 720p frames (bench/screen_text.py, both in one run; 2 threads, CPU s per frame): a
photograph without text 0.82 -> 0.34 (2.45x), a frame with a title, a lower third and a caption 1.16 -> 0.80
(1.45x), no line lost; captions 10-28 px high on three photographs read as often as at the default (at 640 px,
12 px captions start to go)."""

DEDUP_RATIO = 0.85
"""difflib ratio at or above which two normalised readings count as the same text (OCR jitters a letter
or two between frames of the same title)."""

DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
MODEL_NAME = "PP-OCRv6 small det+rec"


class ScreenTextError(SetupError, RuntimeError):
    """RapidOCR or the models inside its wheel are missing."""


class ScreenTextLine(BaseModel):
    """One distinct piece of on-screen text, with every time it was seen."""

    text: str
    confidence: float = Field(description="Best recognition score (0-1) among the sightings.")
    box: tuple[int, int, int, int] = Field(
        description="x, y, w, h in pixels of the original image, of the best-scored sighting.")
    seconds: list[float] = Field(description="Every frame time (s) the text was seen on, ascending.")


class ScreenTextReport(BaseModel):
    lines: list[ScreenTextLine] = Field(default_factory=list)
    frames_read: int = 0
    seconds_taken: float = 0.0
    model: str = ""


# --- engine: one per process (per thread count, in catalog_resources.model_cache), loaded on first use ----

_RUN_LOCK = threading.Lock()  # one OCR at a time: the engine already uses `threads` cores


def model_dir() -> Path:
    """The `models` folder inside the installed rapidocr wheel (found without importing rapidocr)."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise ScreenTextError("rapidocr is not installed: pip install 'rapidocr>=3.10' onnxruntime")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def model_paths() -> dict[str, Path]:
    """The ONNX files the engine loads; each must exist, so that rapidocr has nothing to download."""
    folder = model_dir()
    paths = {"det": folder / DET_MODEL, "rec": folder / REC_MODEL}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise ScreenTextError(
            f"RapidOCR models missing from the wheel ({', '.join(missing)}); "
            "reinstall the pinned wheel: pip install --force-reinstall 'rapidocr==3.10.*'")
    return paths


def model_label() -> str:
    try:
        version = importlib.metadata.version("rapidocr")
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    return f"rapidocr {version} {MODEL_NAME}"


def build_engine(threads: int, det_long_side: int | None = DET_LONG_SIDE) -> Any:
    """A new RapidOCR engine with both models loaded now (not on the first frame), no cache.

    `det_long_side`: see DET_LONG_SIDE; None keeps RapidOCR's own default (the bench's baseline).

    Angle classification is off: video overlays are upright, and it would cost one more model per line.
    The score filter is off too (text_score 0): `ScreenTextReader.min_confidence` applies it instead.
    """
    paths = model_paths()
    try:
        from rapidocr import RapidOCR
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ScreenTextError("rapidocr is not installed: pip install 'rapidocr>=3.10' onnxruntime") from exc
    engine = RapidOCR(params={
        "Global.log_level": "error",  # its default "info" logs every model path and empty frame
        "Global.text_score": 0.0,
        "Global.use_cls": False,
        "Global.model_root_dir": str(paths["det"].parent),
        "Det.model_path": str(paths["det"]),
        "Rec.model_path": str(paths["rec"]),
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        **({"Det.limit_type": "max", "Det.limit_side_len": det_long_side} if det_long_side else {}),
    })
    # RapidOCR loads each model lazily on its first use; load them now so that a broken install fails
    # here and the first frame's timing is not skewed. Private hooks: skipped if a release renames them.
    for hook in ("_load_det_model", "_load_rec_model"):
        loader = getattr(engine, hook, None)
        if callable(loader):
            loader()
    return engine


def get_engine(threads: int) -> Any:
    """The process-wide engine for this thread count, built on first call."""
    return cached(("rapidocr", threads), lambda: build_engine(threads))


# --- reading -------------------------------------------------------------------------------------------

def normalise(text: str) -> str:
    """Key for de-duplication: case and whitespace differences are OCR noise, not different text."""
    return " ".join(text.casefold().split())


def load_frame(path: Path, max_long_side: int = MAX_LONG_SIDE) -> tuple[np.ndarray, float, tuple[int, int]]:
    """BGR array (what RapidOCR expects) of the frame shrunk to `max_long_side`, the scale applied and
    the original (width, height).

    Pillow decodes JPEG/WebP/PNG alike; `thumbnail` lets the JPEG decoder skip most of a 4K frame's work.
    """
    with Image.open(path) as image:
        size = image.size
        image = image.convert("RGB") if image.mode != "RGB" else image
        if max(size) > max_long_side:
            image.thumbnail((max_long_side, max_long_side), Image.Resampling.BILINEAR)
        scale = image.size[0] / size[0]
        rgb = np.asarray(image)
    return np.ascontiguousarray(rgb[:, :, ::-1]), scale, size


def polygon_box(points: Any, scale: float, width: int, height: int) -> tuple[int, int, int, int]:
    """x, y, w, h in the original image of a detected quadrilateral found on the scaled image."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2) / scale
    x0, y0 = np.floor(pts.min(axis=0))
    x1, y1 = np.ceil(pts.max(axis=0))
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(width, int(x1)), min(height, int(y1))
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


@dataclass
class _Sighting:
    text: str
    confidence: float
    box: tuple[int, int, int, int]
    seconds: float


@dataclass
class _Group:
    key: str
    best: _Sighting
    first: tuple[float, int, int]
    seconds: set[float] = field(default_factory=set)


def merge_sightings(sightings: list[_Sighting], ratio: float = DEDUP_RATIO) -> list[ScreenTextLine]:
    """One line per distinct text: exact or fuzzy (difflib ratio >= `ratio`) matches of the normalised
    text are grouped, keeping the best-scored reading and every time; lines in order of first sighting."""
    groups: list[_Group] = []
    for s in sorted(sightings, key=lambda s: (s.seconds, s.box[1], s.box[0])):
        key = normalise(s.text)
        if not key:
            continue
        target = next((g for g in groups if g.key == key), None)
        if target is None:
            best_ratio = ratio
            matcher = difflib.SequenceMatcher(None, b=key)  # b is the side difflib indexes once
            for g in groups:
                matcher.set_seq1(g.key)
                if matcher.real_quick_ratio() >= best_ratio and matcher.quick_ratio() >= best_ratio:
                    r = matcher.ratio()
                    if r >= best_ratio:
                        target, best_ratio = g, r
        if target is None:
            target = _Group(key=key, best=s, first=(s.seconds, s.box[1], s.box[0]))
            groups.append(target)
        elif s.confidence > target.best.confidence:
            target.best = s
        target.seconds.add(s.seconds)
    groups.sort(key=lambda g: g.first)
    return [
        ScreenTextLine(text=g.best.text.strip(), confidence=round(g.best.confidence, 4), box=g.best.box,
                       seconds=sorted(g.seconds))
        for g in groups
    ]


class ScreenTextReader:
    """Reads on-screen text from a clip's thumbnail frames.

    `threads`: onnxruntime intra-op threads of the shared engine. `min_confidence`: lines the recogniser
    scores lower are dropped (they are mostly texture read as letters).
    """

    def __init__(self, threads: int = 2, min_confidence: float = 0.6) -> None:
        if threads < 1:
            raise ValueError("threads must be at least 1")
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError("min_confidence must be within 0..1")
        self.threads = threads
        self.min_confidence = min_confidence

    def warm_up(self) -> None:
        """Load the engine now (e.g. before timing, or at process start) rather than on the first read."""
        get_engine(self.threads)

    def _ocr(self, bgr: np.ndarray, scale: float, size: tuple[int, int], seconds: float) -> list[_Sighting]:
        """Text lines on one decoded frame above `min_confidence`, boxes in the original image's pixels."""
        with _RUN_LOCK:
            result = get_engine(self.threads)(bgr)
        boxes, txts, scores = (getattr(result, name, None) for name in ("boxes", "txts", "scores"))
        if boxes is None or txts is None or scores is None:
            return []
        return [
            _Sighting(text=str(text), confidence=float(score), box=polygon_box(box, scale, *size),
                      seconds=float(seconds))
            for box, text, score in zip(boxes, txts, scores)
            if float(score) >= self.min_confidence and str(text).strip()
        ]

    def read(self, frames: list[tuple[float, Path]]) -> ScreenTextReport:
        """OCR every (seconds, image path) frame and merge repeated text into one line with all its times.

        A frame that cannot be opened or decoded is logged and skipped (not counted in `frames_read`):
        one bad thumbnail should not cost the clip its other text. `seconds_taken` includes loading the
        engine when this is the process's first read.
        """
        started = time.perf_counter()
        sightings: list[_Sighting] = []
        frames_read = 0
        last: tuple[np.ndarray, list[_Sighting]] | None = None
        for seconds, path in sorted(frames, key=lambda f: f[0]):
            try:
                bgr, scale, size = load_frame(Path(path))
            except (OSError, UnidentifiedImageError, ValueError) as exc:  # missing, truncated, not an image
                log.warning("screen text: skipping unreadable frame %s: %s", path, exc)
                continue
            small = miniature(bgr)
            if last is not None and same_picture(last[0], small):  # a held frame: its text, not read twice
                seen = [replace(s, seconds=float(seconds)) for s in last[1]]
            else:
                seen = self._ocr(bgr, scale, size, seconds)
                last = (small, seen)
            sightings.extend(seen)
            frames_read += 1
        return ScreenTextReport(
            lines=merge_sightings(sightings), frames_read=frames_read,
            seconds_taken=round(time.perf_counter() - started, 4), model=model_label(),
        )
