"""Silent clips of photographs that ship with scikit-image, for the tests that find footage by what it shows.

No audio track and no text on screen: only vision can find them. File names say nothing of their subject.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

# file name -> the scikit-image photograph looped in it (chelsea: a tabby cat; coffee: a cup; rocket: a launch)
STILLS = {"still_a.mp4": "chelsea", "still_b.mp4": "coffee", "still_c.mp4": "rocket"}
SECONDS = 2.0


def load_photo(photo: str) -> np.ndarray:
    """A packaged photograph by name: a scikit-image `skimage.data` function ("chelsea"), the left view of its
    stereo pair ("stereo_motorcycle"), or one of scikit-learn's sample images ("sklearn:china.jpg")."""
    if photo.startswith("sklearn:"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(photo.removeprefix("sklearn:"))
    image = getattr(data, photo)()
    return image[0] if photo == "stereo_motorcycle" else image  # (left, right, disparity)


def photo(name: str) -> Image.Image:
    """A packaged photograph (see load_photo) as an RGB picture."""
    return Image.fromarray(load_photo(name)).convert("RGB")


def make_still_clip(out: Path, photo_name: str, seconds: float = SECONDS) -> Path:
    """A 640x360 H.264 clip, no audio, of one photograph letterboxed on grey, `seconds` long at 25 fps."""
    return make_picture_clip(out, photo(photo_name), seconds)


def make_picture_clip(out: Path, picture: Image.Image, seconds: float = SECONDS) -> Path:
    """A 640x360 H.264 clip, no audio, of one picture letterboxed on grey, `seconds` long at 25 fps."""
    picture = picture.copy()
    picture.thumbnail((640, 360))
    frame = Image.new("RGB", (640, 360), (60, 60, 60))
    frame.paste(picture, ((640 - picture.width) // 2, (360 - picture.height) // 2))
    still = out.with_suffix(".png")
    frame.save(still)
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-i", str(still),
                    "-t", str(seconds), "-r", "25", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    "-an", str(out)], check=True)
    still.unlink()
    return out


def make_stills(folder: Path) -> dict[str, Path]:
    """photo name -> its silent clip in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    return {picture: make_still_clip(folder / name, picture) for name, picture in STILLS.items()}
