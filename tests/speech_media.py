"""Audio fixtures with KNOWN content for the speech tests, made by espeak-ng and ffmpeg at test time.

Everything is written as 16 kHz mono 16-bit WAV, the format the proxy step hands to speech models, so the
tests exercise the same input the pipeline produces. Speech boundaries are measured from the samples (not
assumed from the requested silence) because espeak-ng adds its own short lead-in/tail silence.

Needs the `espeak-ng` and `ffmpeg` binaries (Debian: apt-get install espeak-ng ffmpeg).

    python -m tests.speech_media OUT.wav "Some text to speak"   # makes one speech WAV and prints its interval
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
_WAV_OUT = ["-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le", "-f", "wav"]


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found; install it (Debian: apt-get install {name})")
    return found


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()[-800:]}")


def _ffmpeg(*args: str) -> list[str]:
    return [_tool("ffmpeg"), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Samples as float32 in [-1, 1] (first channel) and the sample rate."""
    with wave.open(str(path), "rb") as wav:
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
        raw = wav.readframes(wav.getnframes())
    if width != 2:
        raise ValueError(f"{path}: expected 16-bit PCM, got {8 * width}-bit")
    samples = np.frombuffer(raw, dtype="<i2").reshape(-1, channels)[:, 0]
    return samples.astype(np.float32) / 32768.0, rate


def speech_interval(path: Path, window: float = 0.01, rel_threshold: float = 0.02) -> tuple[float, float]:
    """(start, end) seconds of the audible part: first/last 10 ms window whose RMS exceeds 2 % of the loudest.

    Relative to the peak so it works whatever level espeak-ng speaks at; the fixtures have digital silence
    around the speech, so any threshold above zero finds the same edges to within a window.
    """
    samples, rate = read_wav(path)
    hop = max(1, int(window * rate))
    frames = len(samples) // hop
    if frames == 0:
        raise ValueError(f"{path}: no samples")
    rms = np.sqrt(np.mean(samples[: frames * hop].reshape(frames, hop) ** 2, axis=1))
    loud = np.flatnonzero(rms > rel_threshold * float(rms.max())) if rms.max() > 0 else np.array([])
    if loud.size == 0:
        raise ValueError(f"{path}: no audible samples")
    return round(float(loud[0]) * hop / rate, 3), round(float(loud[-1] + 1) * hop / rate, 3)


def make_speech_wav(
    path: Path,
    text: str,
    lead_silence: float = 1.0,
    voice: str = "en",
    tail_silence: float = 1.0,
    words_per_minute: int = 150,
) -> tuple[float, float]:
    """Speak `text` with espeak-ng after `lead_silence` seconds of digital silence; return the measured
    (start, end) of the speech in seconds.

    espeak-ng writes 22.05 kHz WAV; ffmpeg pads silence on both sides and resamples to 16 kHz mono.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="espeak-") as tmp:
        raw = Path(tmp) / "raw.wav"
        _run([_tool("espeak-ng"), "-v", voice, "-s", str(words_per_minute), "-w", str(raw), text])
        delay_ms = int(round(lead_silence * 1000))
        _run(_ffmpeg("-i", str(raw), "-af", f"adelay={delay_ms}:all=1,apad=pad_dur={tail_silence}", *_WAV_OUT, str(path)))
    return speech_interval(path)


def make_silence_wav(path: Path, seconds: float) -> Path:
    """Digital silence: the case where Whisper likes to hallucinate "Thank you." without a VAD."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _run(_ffmpeg("-f", "lavfi", "-i", f"anullsrc=r={SAMPLE_RATE}:cl=mono", "-t", str(seconds), *_WAV_OUT, str(path)))
    return path


def make_tone_wav(
    path: Path, seconds: float, freqs: Sequence[float] = (261.63, 329.63, 392.0, 523.25), note: float = 0.4
) -> Path:
    """Music-like audio without words: the notes `freqs` played in turn (`note` seconds each, with a soft
    attack/decay) over a quiet sustained chord of the same notes. Default is a C-major arpeggio."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not freqs:
        raise ValueError("make_tone_wav needs at least one frequency")
    cycle = note * len(freqs)
    # Envelope within a note: rises over 20 ms, then decays exponentially (a plucked/struck sound).
    env = f"min(1,mod(t,{note})/0.02)*exp(-3*mod(t,{note}))"
    melody = "+".join(
        f"between(mod(t,{cycle}),{i * note},{(i + 1) * note - 1e-4})*sin(2*PI*{f}*t)" for i, f in enumerate(freqs)
    )
    chord = "+".join(f"sin(2*PI*{f / 2}*t)" for f in freqs)
    expr = f"0.5*{env}*({melody})+{0.15 / len(freqs)}*({chord})"
    _run(_ffmpeg("-f", "lavfi", "-i", f"aevalsrc='{expr}':s={SAMPLE_RATE}:c=mono:d={seconds}", *_WAV_OUT, str(path)))
    return path


if __name__ == "__main__":
    out, words = Path(sys.argv[1]), " ".join(sys.argv[2:]) or "The quick brown fox jumps over the lazy dog."
    print(out, make_speech_wav(out, words))
