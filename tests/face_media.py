"""Silent clips of real face photographs that ship in packages, for the people tests and bench/faces.py.

scikit-image's `astronaut()` (Eileen Collins) and `camera()` (the cameraman) are the two people (matplotlib, with its
grace_hopper.jpg sample, is not a dependency here). Variants move, zoom, darken and mirror the face as footage
does; a two-person frame and a cut from an empty shot to a face give the tracks something to tell apart.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps
from skimage import data

SIZE = (640, 360)
FPS = 25


def astronaut() -> Image.Image:
    return Image.fromarray(data.astronaut()).convert("RGB")


def cameraman() -> Image.Image:
    return Image.fromarray(data.camera()).convert("RGB")


def no_face() -> Image.Image:
    return Image.fromarray(data.coffee()).convert("RGB")


def _fit(picture: Image.Image, zoom: float = 1.0, shift: float = 0.0) -> Image.Image:
    """The picture letterboxed on grey in a 640x360 frame, zoomed about its centre and shifted sideways (px)."""
    picture = picture.copy()
    picture.thumbnail(SIZE)
    if zoom != 1.0:
        w, h = picture.size
        cw, ch = round(w / zoom), round(h / zoom)
        picture = picture.crop(((w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw, (h - ch) // 2 + ch)).resize((w, h))
    frame = Image.new("RGB", SIZE, (60, 60, 60))
    frame.paste(picture, ((SIZE[0] - picture.width) // 2 + round(shift), (SIZE[1] - picture.height) // 2))
    return frame


def side_by_side(left: Image.Image, right: Image.Image) -> Image.Image:
    frame = Image.new("RGB", SIZE, (60, 60, 60))
    for n, picture in enumerate((left, right)):
        picture = picture.copy()
        picture.thumbnail((SIZE[0] // 2, SIZE[1]))
        frame.paste(picture, (n * SIZE[0] // 2 + (SIZE[0] // 2 - picture.width) // 2, (SIZE[1] - picture.height) // 2))
    return frame


def write_clip(out: Path, frame_at: Callable[[float], Image.Image], seconds: float) -> Path:
    """An H.264 clip, no audio, whose frame at time t is frame_at(t); a keyframe every 0.4 s (more thumbnails)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
         "-s", f"{SIZE[0]}x{SIZE[1]}", "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-preset", "ultrafast",
         "-g", "10", "-pix_fmt", "yuv420p", "-an", str(out)], stdin=subprocess.PIPE)
    for n in range(round(seconds * FPS)):
        process.stdin.write(np.asarray(frame_at(n / FPS).convert("RGB"), dtype=np.uint8).tobytes())
    process.stdin.close()
    assert process.wait() == 0
    return out


def _mirror_dark(_t: float) -> Image.Image:
    return ImageEnhance.Brightness(ImageOps.mirror(_fit(astronaut()))).enhance(0.6)


# file name -> (who is on screen: set of people, frame at time t, seconds). Names say nothing of who is in them.
CLIPS: dict[str, tuple[frozenset[str], Callable[[float], Image.Image], float]] = {
    "a_zoom.mp4": (frozenset({"astronaut"}), lambda t: _fit(astronaut(), zoom=1.0 + 0.2 * t), 2.0),
    "b_pan.mp4": (frozenset({"astronaut"}), lambda t: _fit(astronaut(), shift=-80 + 80 * t), 2.0),
    "c_dark_mirror.mp4": (frozenset({"astronaut"}), _mirror_dark, 2.0),
    "d_other.mp4": (frozenset({"cameraman"}), lambda t: _fit(cameraman(), zoom=1.6), 2.0),
    "e_two.mp4": (frozenset({"astronaut", "cameraman"}), lambda t: side_by_side(astronaut(), cameraman()), 2.0),
    "f_cut.mp4": (frozenset({"astronaut"}), lambda t: _fit(no_face()) if t < 2.0 else _fit(astronaut(), zoom=1.2), 4.0),
    "g_empty.mp4": (frozenset(), lambda t: _fit(no_face(), zoom=1.0 + 0.1 * t), 2.0),
}


def make_face_clips(folder: Path) -> dict[str, Path]:
    """file name -> the clip in `folder`."""
    return {name: write_clip(folder / name, frame_at, seconds) for name, (_who, frame_at, seconds) in CLIPS.items()}
