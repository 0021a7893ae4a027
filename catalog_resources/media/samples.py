"""Small clips with known properties, made with ffmpeg: the demo's sample folder and the tests' fixtures.

    python -m catalog_resources.media.samples DIR      # makes the demo set in DIR (kept if present)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel

from catalog_resources.files import atomic_path
from catalog_resources.media.ffmpeg import FFmpegMissing


class ClipSpec(BaseModel):
    name: str
    width: int = 640
    height: int = 360
    fps: float = 25
    seconds: float = 2.0
    video_codec: str = "libx264"
    audio: bool = True
    pattern: str = "testsrc2"  # any lavfi video source: testsrc2, smptebars, mandelbrot, rgbtestsrc...
    extra: list[str] = []
    speech: str | None = None  # spoken by espeak-ng as the audio track (a tone when espeak-ng is missing)
    caption: str | None = None  # drawn on every frame (ffmpeg drawtext)


DEMO_SET = [
    ClipSpec(name="rooftop interview.mp4", width=1280, height=720, fps=25, seconds=9, caption="ROOFTOP INTERVIEW",
             speech="Welcome to the rooftop interview. Today we talk about pricing for the new solar panels in Berlin."),
    ClipSpec(name="b-roll city (take 2).mov", width=960, height=540, fps=30, seconds=3, pattern="smptebars"),
    ClipSpec(name="drone_pass.mkv", width=854, height=480, fps=24, seconds=3, video_codec="libvpx-vp9", audio=False,
             pattern="mandelbrot", extra=["-deadline", "realtime", "-cpu-used", "8", "-b:v", "500k"]),
    ClipSpec(name="CAMERA_A/00001.MTS", width=1280, height=720, fps=25, seconds=3, video_codec="mpeg2video",
             extra=["-f", "mpegts"]),
]


def require_ffmpeg() -> str:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise FFmpegMissing("ffmpeg not found on PATH; install it (Debian: apt-get install ffmpeg) or run `make install`")
    return ffmpeg


def make_clip(path: Path, spec: ClipSpec) -> Path:
    """Encode one clip; written to a temporary name first so a failure leaves nothing half-made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = f"{spec.width}x{spec.height}"
    video_src = f"{spec.pattern}=size={size}:rate={spec.fps}:duration={spec.seconds}"
    if spec.pattern == "mandelbrot":
        video_src = f"mandelbrot=size={size}:rate={spec.fps},trim=duration={spec.seconds}"
    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
    if spec.caption and font.exists():
        text = spec.caption.replace("\\", "").replace("'", "").replace(":", "\\:")
        video_src += (f",drawtext=fontfile={font}:text='{text}':fontsize=h/12:fontcolor=white:box=1:boxcolor=black@0.6"
                      ":x=(w-tw)/2:y=h*0.8")
    cmd = [require_ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", video_src]
    spoken = _speech_wav(path, spec) if spec.audio and spec.speech else None
    if spoken:
        cmd += ["-i", str(spoken), "-af", f"adelay=500:all=1,apad=whole_dur={spec.seconds}"]
    elif spec.audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={spec.seconds}"]
    cmd += ["-c:v", spec.video_codec, "-pix_fmt", "yuv420p"]
    if spec.video_codec == "libx264":
        cmd += ["-preset", "ultrafast"]
    if spec.audio:
        cmd += ["-c:a", "aac" if path.suffix.lower() != ".mkv" else "libopus", "-b:a", "96k", "-shortest"]
    cmd += [*spec.extra] if "-f" in spec.extra else [*spec.extra, "-f", _muxer(path)]
    try:
        with atomic_path(path) as tmp:
            subprocess.run([*cmd, "--", str(tmp)], check=True)
    finally:
        if spoken:
            spoken.unlink(missing_ok=True)
    return path


def _speech_wav(path: Path, spec: ClipSpec) -> Path | None:
    """espeak-ng's reading of spec.speech, after half a second of silence; None without espeak-ng."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        return None
    wav = path.with_name(f".speech-{path.stem}.wav")
    subprocess.run([espeak, "-v", "en", "-s", "150", "-g", "4", "-w", str(wav), spec.speech or ""], check=True)
    return wav


def _muxer(path: Path) -> str:
    return {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".mts": "mpegts", ".ts": "mpegts",
            ".avi": "avi", ".mxf": "mxf"}.get(path.suffix.lower(), "mp4")


def make_demo_set(folder: Path) -> list[Path]:
    made = []
    for spec in DEMO_SET:
        target = folder / spec.name
        if not target.exists():
            make_clip(target, spec)
        made.append(target)
    return made


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ".demo-footage")
    clips = make_demo_set(target)
    print(f"sample footage: {len(clips)} clips in {target}")
