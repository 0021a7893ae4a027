"""Visual-analysis benchmark: CPU seconds per frame and per second of footage for the offline visual slice.

Makes a 720p 25 fps clip of a slow pan across a photograph (scikit-image's astronaut), decodes it the way the
pipeline has it (RGB frames like the thumbnails, 64 px grey frames at the source rate like the analysis stream)
and prints, as process CPU time (all threads; onnxruntime runs on one):
- the one-time ONNX export (first use of a fresh models folder) and session load;
- per frame: classification (batch 8), light, faces (frame_analysis already runs the face detector on every
  thumbnail, so the wiring reuses its counts);
- motion per second of footage, on the 64 px grey analysis stream (what the wiring uses) and on 720p RGB;
- describe_scene end to end per second of footage, with its default 1 labelled frame a second, and the cost if
  every one of a clip's 30 thumbnails were labelled instead, for 10 s and 60 s clips.
The issue's budget is <= 0.05 s of CPU per second of footage.

    .venv/bin/python bench/visual.py [--seconds 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog_resources.analysis.local.visual import FrameClassifier, describe_scene  # noqa: E402
from catalog_resources.analysis.local.visual.classifier import onnx_path  # noqa: E402
from catalog_resources.analysis.local.visual.light import measure_light  # noqa: E402
from catalog_resources.analysis.local.visual.motion import camera_motion  # noqa: E402
from catalog_resources.analysis.local.visual.people import count_faces  # noqa: E402
from catalog_resources.media.samples import require_ffmpeg  # noqa: E402

BUDGET = 0.05
FPS = 25
THUMBNAILS_PER_CLIP = 30


def make_clip(folder: Path, seconds: float) -> Path:
    from skimage import data

    Image.fromarray(data.astronaut()).resize((2048, 2048)).save(folder / "photo.png")
    out = folder / "pan.mp4"
    subprocess.run([require_ffmpeg(), "-nostdin", "-y", "-loglevel", "error", "-loop", "1", "-i", str(folder / "photo.png"),
                    "-vf", f"crop=1280:720:x='t*{600 / seconds:.3f}':y=600,format=yuv420p", "-t", str(seconds),
                    "-r", str(FPS), "-c:v", "libx264", "-preset", "ultrafast", str(out)], check=True)
    return out


def decode(path: Path) -> tuple[list[float], list[np.ndarray], list[np.ndarray]]:
    times, rgb, grey = [], [], []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            times.append(float(frame.time))
            rgb.append(frame.to_ndarray(format="rgb24"))
            grey.append(frame.reformat(width=64, height=36, format="gray").to_ndarray())
    return times, rgb, grey


def cpu(fn, repeat: int) -> float:
    """Best-of-`repeat` process CPU seconds of fn()."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-visual-") as tmp:
        folder = Path(tmp)
        times, rgb, grey = decode(make_clip(folder, args.seconds))
        footage = args.seconds
        classifier = FrameClassifier(folder / "models")
        started = time.process_time()
        onnx_path(classifier.cache_dir)
        export = time.process_time() - started
        started = time.process_time()
        classifier.classify(rgb[:1])
        load = time.process_time() - started
        print(f"footage: {footage:g} s, {len(rgb)} frames 1280x720 at {FPS} fps (+ 64x36 grey analysis frames)")
        print(f"once: ONNX export {export:.2f} s CPU, session load + first frame {load:.2f} s CPU")

        sample = rgb[:: max(1, len(rgb) // 16)][:16]
        per_classify = cpu(lambda: classifier.classify(sample), args.repeat) / len(sample)
        per_light = cpu(lambda: [measure_light([f]) for f in sample], args.repeat) / len(sample)
        per_faces = cpu(lambda: count_faces(sample), args.repeat) / len(sample)
        motion_grey = cpu(lambda: camera_motion(times, grey), args.repeat) / footage
        motion_rgb = cpu(lambda: camera_motion(times, rgb), args.repeat) / footage
        print(f"per frame: classify {per_classify * 1000:.1f} ms, light {per_light * 1000:.1f} ms,"
              f" faces {per_faces * 1000:.1f} ms (already paid by frame_analysis)")
        from catalog_resources.media import faces as face_detector

        chosen = face_detector.DETECT_LONG_SIDE
        face_detector.DETECT_LONG_SIDE = 640  # the size before, measured in the same run
        per_faces_640 = cpu(lambda: count_faces(sample), args.repeat) / len(sample)
        found_640 = count_faces(sample)
        face_detector.DETECT_LONG_SIDE = chosen
        print(f"face detector per frame: {per_faces * 1000:.1f} ms at {chosen} px, {per_faces_640 * 1000:.1f} ms at 640 px"
              f" ({per_faces_640 / per_faces:.2f}x); faces found {sum(count_faces(sample))} vs {sum(found_640)}")
        print(f"motion per footage second: {motion_grey * 1000:.1f} ms on the 64 px grey analysis stream,"
              f" {motion_rgb * 1000:.1f} ms on 720p RGB (incl. grey + resize)")

        def scene() -> None:
            describe_scene(times, rgb, classifier, face_counts=[0] * len(rgb), motion_times=times, motion_frames=grey)

        whole = cpu(scene, args.repeat) / footage
        verdict = "within" if whole <= BUDGET else "OVER"
        print(f"describe_scene (1 labelled frame/s, faces reused, motion on the analysis stream):"
              f" {whole:.4f} s CPU per footage second — {verdict} the {BUDGET} s budget")
        for clip_seconds in (10.0, 60.0):
            rate = THUMBNAILS_PER_CLIP / clip_seconds
            cost = rate * (per_classify + per_light) + motion_grey
            print(f"labelling all {THUMBNAILS_PER_CLIP} thumbnails of a {clip_seconds:g} s clip ({rate:g}/s):"
                  f" {cost:.4f} s CPU per footage second")


if __name__ == "__main__":
    main()
