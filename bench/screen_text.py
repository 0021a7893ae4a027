"""Screen text OCR benchmark: engine load time, then seconds per 720p, 1080p and 2160p frame.

Makes JPEG frames like a news clip's thumbnails (gradient and noise background, a title, a lower third and
a small caption), then in one process:
- load: building the RapidOCR engine (ONNX det + rec models from the wheel), including the import;
- per size: `ScreenTextReader.read` on `--repeat` frames, one at a time; median and mean wall and CPU
  seconds per frame (1080p and 2160p are shrunk to 1280 px long side before OCR).
CPU seconds are printed beside wall seconds because this machine may be shared with other work.

Then the reader (detector at DET_LONG_SIDE) against RapidOCR's default detector size (the baseline, measured in
the same run) on 720p frames with text (the drawn ones) and without (photographs that ship in scikit-image):
CPU s per frame each way, the ratio, and any line the baseline read that the reader did not.

    .venv/bin/python bench/screen_text.py [--threads 2] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"  # Debian: fonts-dejavu-core
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080), "2160p": (3840, 2160)}


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(FONT, size) if Path(FONT).is_file() else ImageFont.load_default(size=size)


def make_frame(path: Path, size: tuple[int, int], index: int) -> Path:
    """A busy-ish frame with three text lines scaled to the frame height (as broadcast graphics are)."""
    width, height = size
    rng = np.random.default_rng(index)
    ramp = np.linspace(30, 140, width, dtype=np.float32)[None, :, None]
    base = np.broadcast_to(ramp, (height, width, 3)) + rng.normal(0, 12, (height, width, 3))
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    unit = height / 720
    draw.text((int(90 * unit), int(120 * unit)), f"QUARTERLY REVIEW {2020 + index}", font=font(int(64 * unit)),
              fill=(255, 255, 255))
    draw.rectangle((0, int(560 * unit), width, int(640 * unit)), fill=(10, 20, 60))
    draw.text((int(90 * unit), int(575 * unit)), "Berlin Office - Anna Schmidt, Head of Sales",
              font=font(int(40 * unit)), fill=(255, 220, 0))
    draw.text((int(90 * unit), int(660 * unit)), "Live from the Berlin studio", font=font(int(24 * unit)),
              fill=(230, 230, 230))
    image.save(path, quality=88)
    return path


def photo_frames(folder: Path, count: int) -> list[Path]:
    """720p frames of packaged photographs: no text on them (what most thumbnails are)."""
    from skimage import data

    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket(), data.hubble_deep_field(),
              data.immunohistochemistry(), data.cat()]
    paths = []
    for i in range(count):
        path = folder / f"photo_{i}.jpg"
        Image.fromarray(photos[i % len(photos)]).convert("RGB").resize(SIZES["720p"]).save(path, quality=88)
        paths.append(path)
    return paths


def detector_size_figures(reader, text_frames: list[Path], photos: list[Path]) -> dict[str, float]:
    """CPU s per frame of the reader against an engine at RapidOCR's default detector size."""
    from catalog_resources.analysis.local.screen_text import build_engine, load_frame

    baseline = build_engine(reader.threads, det_long_side=None)
    figures: dict[str, float] = {}
    for kind, paths in (("text", text_frames), ("photo", photos)):
        full_cpu, reader_cpu, lost = [], [], 0
        for i, path in enumerate(paths):
            bgr, _scale, _size = load_frame(path)
            cpu0 = cpu_seconds()
            full = baseline(bgr)
            full_cpu.append(cpu_seconds() - cpu0)
            cpu0 = cpu_seconds()
            read = reader.read([(float(i), path)])
            reader_cpu.append(cpu_seconds() - cpu0)
            wanted = {t for t, score in zip(full.txts or (), full.scores or ()) if score >= reader.min_confidence}
            lost += len(wanted - {line.text for line in read.lines})
        base, mine = statistics.median(full_cpu), statistics.median(reader_cpu)
        print(f"  720p {kind:5s}: default detector size {base:.3f} CPU s/frame, reader {mine:.3f} ({base / mine:.2f}x"
              f" faster), lines lost: {lost}")
        figures |= {f"{kind}_default_cpu_s": round(base, 3), f"{kind}_reader_cpu_s": round(mine, 3),
                    f"{kind}_lines_lost": lost}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vc-ocr-bench-"))
    try:
        frames = {name: [make_frame(folder / f"{name}_{i}.jpg", size, i) for i in range(args.repeat)]
                  for name, size in SIZES.items()}
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; threads={args.threads}")

        wall0, cpu0 = time.perf_counter(), cpu_seconds()
        from catalog_resources.analysis.local.screen_text import ScreenTextReader, model_label

        reader = ScreenTextReader(threads=args.threads)
        reader.warm_up()
        load_wall, load_cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
        print(f"{model_label()}: load {load_wall:.2f} wall s, {load_cpu:.2f} CPU s")

        result: dict[str, object] = {"load_wall_s": round(load_wall, 3), "load_cpu_s": round(load_cpu, 3),
                                     "threads": args.threads, "model": model_label()}
        for name, paths in frames.items():
            walls, cpus, found = [], [], []
            for i, path in enumerate(paths):
                wall0, cpu0 = time.perf_counter(), cpu_seconds()
                report = reader.read([(float(i), path)])
                walls.append(time.perf_counter() - wall0)
                cpus.append(cpu_seconds() - cpu0)
                found.append(len(report.lines))
            print(f"  {name:6s}: median {statistics.median(walls):.3f} wall s/frame (mean {statistics.mean(walls):.3f}),"
                  f" median {statistics.median(cpus):.3f} CPU s/frame; lines found per frame {found} (drawn: 3)")
            result[f"{name}_wall_s_per_frame"] = round(statistics.median(walls), 3)
            result[f"{name}_cpu_s_per_frame"] = round(statistics.median(cpus), 3)
        result |= detector_size_figures(reader, frames["720p"], photo_frames(folder, args.repeat))
        print("RESULT " + json.dumps(result, sort_keys=True))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
