"""The shared 16 kHz mono decoder (analysis/local/audio.py), on real files made with ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from catalog_resources.analysis.local.audio import SAMPLE_RATE, read_pcm16k
from catalog_resources.media.samples import require_ffmpeg


def _ffmpeg(*args: str) -> None:
    subprocess.run([require_ffmpeg(), "-nostdin", "-y", "-loglevel", "error", *args], check=True)


def _proxy_wav(path: Path, seconds: float) -> Path:
    """What the proxy step writes: pcm_s16le, 16 kHz, mono (catalog_resources/media/ffmpeg.py)."""
    _ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
            "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-f", "wav", str(path))
    return path


@pytest.mark.parametrize("sample_format", ["flt", "s16"])
def test_proxy_wav_has_its_length_and_level(tmp_path, sample_format):
    wav = _proxy_wav(tmp_path / "audio_16k.wav", 2.5)
    samples = read_pcm16k(wav, sample_format=sample_format)
    assert samples is not None and samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) - 2.5 * SAMPLE_RATE) <= 160  # within 10 ms of 40,000 samples
    assert 0.1 < float(np.abs(samples).max()) <= 1.0  # ffmpeg's sine source peaks at 1/8 of full scale
    # a 440 Hz tone: the spectrum's peak lands on 440 Hz
    spectrum = np.abs(np.fft.rfft(samples))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / len(samples) - 440) < 2


def test_both_paths_agree_on_the_proxy_wav(tmp_path):
    """The speech (s16) and sound-event (flt) paths give the same numbers on the file both are fed."""
    wav = _proxy_wav(tmp_path / "audio_16k.wav", 1.0)
    assert np.array_equal(read_pcm16k(wav, sample_format="s16"), read_pcm16k(wav, sample_format="flt"))


def test_resampled_stereo_input_is_mono_16k(tmp_path):
    m4a = tmp_path / "stereo.m4a"
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100:duration=3", "-ac", "2", "-c:a", "aac",
            str(m4a))
    samples = read_pcm16k(m4a)
    assert samples is not None and abs(len(samples) - 3 * SAMPLE_RATE) <= 0.05 * SAMPLE_RATE  # AAC priming/padding


def test_no_audio_stream_is_none_and_empty_stream_is_empty(tmp_path):
    video = tmp_path / "silent.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc=duration=1:size=64x64", "-c:v", "mpeg4", str(video))
    assert read_pcm16k(video) is None
    empty = tmp_path / "empty.wav"
    _ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "0", "-c:a", "pcm_s16le", str(empty))
    samples = read_pcm16k(empty)
    assert samples is not None and samples.dtype == np.float32 and len(samples) == 0
