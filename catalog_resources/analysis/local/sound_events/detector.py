"""Sound-event detection: YAMNet's scores over a whole file turned into a timeline of categories (speech, music,
applause, silence...). The model and its front end are in model.py and features.py.

Silence is decided from the signal, not the model: stretches whose RMS stays under -50 dBFS for at least
min_event_seconds become "silence" and override whatever the model said there. YAMNet's "Silence" class is
commonly reported unreliable on digital silence; on this w8a8 export it did score 0.98 on all-zero patches and
0.7-1.0 on a -71 dBFS noise floor, but an energy test is still the better rule: it is defined by level (which
YAMNet largely ignores), and it places boundaries to 20 ms instead of to a 0.48 s patch hop. The class is kept
(category "silence") for quiet stretches above the threshold that the model calls silent.
"""

from __future__ import annotations

import time
from pathlib import Path

import av
import numpy as np
from pydantic import BaseModel, Field
from scipy.ndimage import median_filter
from scipy.special import expit

from catalog_resources.analysis.local.audio import SAMPLE_RATE, read_pcm16k
from catalog_resources.analysis.local.sound_events.errors import (
    SoundEventAudioError,
    SoundEventError,
    SoundEventModelError,
)
from catalog_resources.analysis.local.sound_events.features import (
    PATCH_HOP_SECONDS,
    PATCH_SECONDS,
    log_mel,
    pad_waveform,
    patches,
)
from catalog_resources.analysis.local.sound_events.model import MODEL_NAME, NUM_CLASSES, YamnetModel, load_model

SILENCE_DBFS = -50.0  # RMS under this (re full scale 1.0) is silence
SILENCE_WINDOW = 320  # 20 ms RMS windows: fine enough for boundaries, coarse enough to ignore zero crossings
SMOOTH_PATCHES = 3  # median over ~1.4 s removes one-patch blips without moving real boundaries
TOP_LABELS = 5

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


class DetectedSound(BaseModel):
    """One stretch of the clip where a single category dominates (the schema's `models.analysis.SoundEvent` is
    what the catalog stores; the local pipeline converts)."""

    label: str = Field(description="Most likely AudioSet class in the stretch (e.g. 'Speech', 'Music').")
    start: float = Field(description="Seconds from the first audio sample.")
    end: float
    confidence: float = Field(description="Mean category score (0-1) over the stretch; 1.0 for energy silence.")
    category: str = Field(description="One of CATEGORIES.")


class SoundEventReport(BaseModel):
    """Everything detect() found in one file."""

    events: list[DetectedSound] = Field(default_factory=list)
    frame_hop_seconds: float = PATCH_HOP_SECONDS
    duration: float = 0.0
    top_labels: list[tuple[str, float]] = Field(
        default_factory=list, description="Clip-level top AudioSet classes with their mean score over all patches."
    )
    model: str = MODEL_NAME
    seconds_taken: float = 0.0


# ---------------------------------------------------------------------------------------------------------------
# Silence and categories


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
        self._model: YamnetModel | None = None

    def model(self) -> YamnetModel:
        """The shared session (loaded on first use, then reused by every detector in the process)."""
        if self._model is None:
            self._model = load_model(self.cache_dir, self.threads)
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
            raise SoundEventAudioError(f"no such file: {audio_path}")
        waveform = _read(audio_path)
        if waveform is None or len(waveform) == 0:
            return SoundEventReport(seconds_taken=round(time.perf_counter() - started, 4))
        duration = len(waveform) / SAMPLE_RATE
        try:
            scores = self.scores(waveform)
        except SoundEventError:
            raise
        except Exception as exc:  # onnxruntime failures: name the file
            raise SoundEventModelError(f"sound event model failed on {audio_path}: {exc}") from exc
        labels = self.model().labels
        mean = scores.mean(axis=0)
        top = np.argsort(mean)[::-1][:TOP_LABELS]
        silences = silent_spans(waveform, self.min_event_seconds)
        events = self._model_events(scores, labels, duration, silences)
        events += [DetectedSound(label="Silence", start=round(a, 3), end=round(b, 3), confidence=1.0, category="silence")
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
    ) -> list[DetectedSound]:
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

        events: list[DetectedSound] = []
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
                        events.append(DetectedSound(label=label, start=round(start, 3), end=round(end, 3),
                                                    confidence=round(confidence, 4), category=CATEGORIES[c]))
            i = j + 1
        return events


def _read(audio_path: Path) -> np.ndarray | None:
    """The file's sound for YAMNet: `audio.read_pcm16k`'s float path, strict (a corrupt packet fails the step, as
    this reader always did), PyAV's errors turned into one naming the file."""
    try:
        return read_pcm16k(audio_path, sample_format="flt", tolerant=False)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise SoundEventAudioError(f"cannot decode audio from {audio_path}: {exc}") from exc
