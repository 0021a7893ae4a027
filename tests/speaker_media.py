"""Dialogue audio with KNOWN speakers for the speaker tests, made by espeak-ng and ffmpeg at test time.

Two synthetic voices that differ in accent, formants and pitch take turns; each line is spoken alone, measured
from its samples (espeak-ng adds its own lead-in), and the lines are joined with short pauses, so the true turn
boundaries are known to 10 ms. The same voice with other words in another clip is "the same speaker".

    python -m tests.speaker_media OUT.mp4    # a 1-second-per-frame black video with a two-voice dialogue
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from tests.speech_media import SAMPLE_RATE, _ffmpeg, _run, _tool, read_wav, speech_interval

# (espeak-ng voice, pitch 0-99): a low American male voice and a high British female variant
VOICE_A = ("en-us", 35)
VOICE_B = ("en-gb-x-rp+f2", 75)
VOICE_C = ("en-gb+f3", 85)  # the issue's own example of a second voice, higher pitched

INTERVIEW = [
    (VOICE_A, "Good morning, and thank you for coming to talk with us about the harbour today."),
    (VOICE_B, "It is a pleasure. I have worked on these boats for nearly thirty years now."),
    (VOICE_A, "What has changed the most in all that time on the water?"),
    (VOICE_B, "The fish, mostly. There are fewer of them, and the seasons have moved."),
    (VOICE_A, "And the people who work here, are they still the same families as before?"),
    (VOICE_B, "Some are. My brother still sails, and his daughter runs the market stall."),
]


class Turn(BaseModel):
    voice: str
    start: float
    end: float


def speak(path: Path, text: str, voice: tuple[str, int], words_per_minute: int = 150) -> np.ndarray:
    """One line as 16 kHz mono float samples, trimmed to its audible part."""
    name, pitch = voice
    raw = path.with_suffix(".raw.wav")
    _run([_tool("espeak-ng"), "-v", name, "-p", str(pitch), "-s", str(words_per_minute), "-w", str(raw), text])
    _run(_ffmpeg("-i", str(raw), "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le", "-f", "wav", str(path)))
    samples, _rate = read_wav(path)
    start, end = speech_interval(path)
    return samples[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)]


def write_wav(path: Path, samples: np.ndarray) -> Path:
    """Float samples as 16 kHz mono 16-bit WAV."""
    import wave

    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return path


def make_dialogue_wav(path: Path, lines: Sequence[tuple[tuple[str, int], str]] = INTERVIEW, pause: float = 0.4,
                      lead: float = 0.5) -> list[Turn]:
    """The lines spoken in turn with `pause` seconds between them; returns each line's true (voice, start, end)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pieces, turns, t = [np.zeros(int(lead * SAMPLE_RATE), np.float32)], [], lead
    with tempfile.TemporaryDirectory(prefix="dialogue-") as tmp:
        for i, (voice, text) in enumerate(lines):
            line = speak(Path(tmp) / f"line{i}.wav", text, voice)
            turns.append(Turn(voice=f"{voice[0]}:{voice[1]}", start=round(t, 3), end=round(t + len(line) / SAMPLE_RATE, 3)))
            t += len(line) / SAMPLE_RATE + pause
            pieces += [line, np.zeros(int(pause * SAMPLE_RATE), np.float32)]
    write_wav(path, np.concatenate(pieces))
    return turns


def make_dialogue_video(path: Path, lines: Sequence[tuple[tuple[str, int], str]] = INTERVIEW, **kwargs) -> list[Turn]:
    """A small black H.264 video (2 fps, 160x90) carrying the dialogue as AAC; returns the true turns."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="dialogue-") as tmp:
        wav = Path(tmp) / "dialogue.wav"
        turns = make_dialogue_wav(wav, lines, **kwargs)
        _run(_ffmpeg("-f", "lavfi", "-i", "color=c=black:s=160x90:r=2", "-i", str(wav), "-shortest",
                     "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "96k", str(path)))
    return turns


if __name__ == "__main__":
    out = Path(sys.argv[1])
    made = make_dialogue_video(out) if out.suffix != ".wav" else make_dialogue_wav(out)
    for turn in made:
        print(turn.voice, turn.start, turn.end)
    subprocess.run([_tool("ffprobe"), "-hide_banner", "-loglevel", "error", "-show_entries", "format=duration", str(out)])
