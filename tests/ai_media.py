"""Clips with known sound and picture for the analysis tests: speech with names, silence, music, a
caption drawn on the frames and a face, each muxed by ffmpeg from fixtures whose content is measured."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PIL import Image
from skimage import data

from tests.sound_media import make_music
from tests.speech_media import make_silence_wav, make_speech_wav

SENTENCE = "Angela Merkel visited the Siemens factory in Munich on Tuesday to discuss solar energy."
CAPTION = "QUARTERLY REVIEW"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def _with_audio(out: Path, wav: Path, pattern: str = "testsrc2") -> Path:
    _ffmpeg("-f", "lavfi", "-i", f"{pattern}=size=640x360:rate=25", "-i", str(wav), "-shortest",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25",
            "-c:a", "aac", "-b:a", "96k", str(out))
    return out


def make_ai_set(folder: Path) -> dict[str, dict]:
    """name -> {"path": clip, plus what is known about it}."""
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / ".work"
    work.mkdir(exist_ok=True)
    speech_wav = work / "speech.wav"
    interval = make_speech_wav(speech_wav, SENTENCE, lead_silence=1.0, tail_silence=1.0)
    made = {
        "speech": {"path": _with_audio(folder / "speech interview.mp4", speech_wav), "interval": interval,
                   "text": SENTENCE},
        "silence": {"path": _with_audio(folder / "silence.mp4", make_silence_wav(work / "silence.wav", 4.0))},
        "music": {"path": _with_audio(folder / "music.mp4", make_music(work / "music.wav", 4.0), pattern="smptebars")},
    }
    text = CAPTION.replace(" ", "\\ ")
    caption = folder / "caption.mp4"
    _ffmpeg("-f", "lavfi", "-i", "color=c=0x203040:size=1280x720:rate=25:duration=3",
            "-vf", f"drawtext=fontfile={FONT}:text={text}:fontsize=96:fontcolor=white:x=(w-tw)/2:y=(h-th)/2",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(caption))
    made["caption"] = {"path": caption, "text": CAPTION}
    photo = Image.fromarray(data.astronaut()).resize((1000, 1000))  # face ~0.3 of the frame height: close-up
    frame = Image.new("RGB", (1280, 720), (90, 90, 90))
    frame.paste(photo, (640 - 431, 360 - 238))  # her face (centre 221, 122 of 512) in the middle
    still = work / "face.png"
    frame.save(still)
    face = folder / "face.mp4"
    _ffmpeg("-loop", "1", "-i", str(still), "-t", "2", "-r", "25", "-c:v", "libx264", "-preset", "ultrafast",
            "-pix_fmt", "yuv420p", str(face))
    made["face"] = {"path": face}
    for item in work.iterdir():
        item.unlink()
    work.rmdir()
    return made
