"""Thumbnail benchmark: 30 thumbnails by keyframe seek against the naive whole-clip ffmpeg pass.

Makes a 60 s 1080p25 H.264 clip (camera-like: High profile, 2 s GOP, 20 Mb/s), then in one run:
- naive: `ffmpeg -i clip -vf fps=30/60,scale=1280:-2 thumb_%03d.jpg` (decodes every frame);
- ours: Thumbnailer.extract (seek to the keyframe before each of 30 times, decode one frame each,
  score, write 320 + 1280 px images and a contact sheet), as JPEG (the default) and as WebP.
Prints wall and CPU seconds for both, frames decoded by ours, and the speed-up (goal: at least 10x).

    .venv/bin/python bench/thumbnails.py
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog_resources.media.samples import ClipSpec, make_clip, require_ffmpeg  # noqa: E402
from catalog_resources.resources.media import Thumbnailer  # noqa: E402
from catalog_resources.work.cpu import cpu_seconds  # noqa: E402


def timed(work) -> tuple[float, float]:
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    work()
    return time.perf_counter() - wall0, cpu_seconds() - cpu0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3, help="runs of ours per format (the median is reported)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vc-thumb-bench-"))
    try:
        clip = make_clip(folder / "clip.mp4", ClipSpec(
            name="clip.mp4", width=1920, height=1080, fps=25, seconds=args.seconds,
            extra=["-preset", "veryfast", "-profile:v", "high", "-b:v", "20M", "-g", "50"]))
        naive_dir, ours_dir = folder / "naive", folder / "ours"
        naive_dir.mkdir()
        rate = f"{args.count}/{args.seconds:g}"
        naive_wall, naive_cpu = timed(lambda: subprocess.run(
            [require_ffmpeg(), "-nostdin", "-loglevel", "error", "-i", str(clip), "-vf", f"fps={rate},scale=1280:-2",
             str(naive_dir / "thumb_%03d.jpg")], check=True))
        runs: dict[str, list[tuple[float, float]]] = {"jpeg": [], "webp": []}
        found = {}
        for round_ in range(args.rounds):
            for fmt in runs:
                out = ours_dir / f"{fmt}-{round_}"
                runs[fmt].append(timed(lambda: found.__setitem__(fmt, Thumbnailer(count=args.count, image_format=fmt)
                                                                   .extract("b", clip, out))))
        (ours_wall, ours_cpu), (webp_wall, webp_cpu) = (
            (statistics.median(w for w, _ in runs[f]), statistics.median(c for _, c in runs[f])) for f in ("jpeg", "webp"))
        result = found["jpeg"]
        speedup = naive_wall / ours_wall
        print(f"{clip.name}: {args.seconds:g} s 1080p25 H.264 High, {clip.stat().st_size / 1e6:.0f} MB, {args.count} thumbnails")
        print(f"  naive ffmpeg fps filter : {naive_wall:6.2f} wall s  {naive_cpu:6.2f} CPU s  ({len(list(naive_dir.iterdir()))} images)")
        print(f"  keyframe seek, JPEG     : {ours_wall:6.2f} wall s  {ours_cpu:6.2f} CPU s  "
              f"({result.frames_decoded} frames decoded of {int(args.seconds * 25)}, {len(result.thumbnails)} kept;"
              f" median of {args.rounds})")
        print(f"  keyframe seek, WebP     : {webp_wall:6.2f} wall s  {webp_cpu:6.2f} CPU s  ({naive_wall / webp_wall:.1f}x wall)")
        print(f"  speed-up (default JPEG): {speedup:.1f}x wall, {naive_cpu / ours_cpu:.1f}x CPU  (goal >= 10x)")
        print("RESULT " + json.dumps({
            "naive_wall_s": round(naive_wall, 2), "naive_cpu_s": round(naive_cpu, 2), "ours_wall_s": round(ours_wall, 2),
            "ours_cpu_s": round(ours_cpu, 2), "frames_decoded": result.frames_decoded, "kept": len(result.thumbnails),
            "speedup_wall": round(speedup, 1), "speedup_cpu": round(naive_cpu / ours_cpu, 1),
            "webp_wall_s": round(webp_wall, 2), "webp_cpu_s": round(webp_cpu, 2), "webp_speedup_wall": round(naive_wall / webp_wall, 1),
        }, sort_keys=True))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
