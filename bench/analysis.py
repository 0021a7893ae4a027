"""Offline analysis speed: seconds of work per second of footage for each part of ai_analysis.

Makes a --seconds long 720p clip (default 60) whose audio is espeak-ng reading a paragraph (then
silence) and whose frames carry a caption, derives the proxy audio and thumbnails the way the pipeline
does, and runs the local analyzer twice: cold (models load in this process) and warm. Per part it prints
seconds and seconds per second of footage (lower is faster; 1.0 is real time), and one JSON line
prefixed "RESULT ".

    .venv/bin/python bench/analysis.py
    .venv/bin/python bench/analysis.py --seconds 120
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog_assets.ai_analysis import _inputs  # noqa: E402
from catalog_resources.analysis.local.pipeline import LocalPipeline  # noqa: E402
from catalog_resources.models.media import ProxySettings  # noqa: E402
from catalog_resources.settings import CatalogSettings  # noqa: E402
from catalog_resources.resources.media import FFmpegRunner, FrameInspector, Thumbnailer  # noqa: E402

PARAGRAPH = (
    "Good morning and welcome to the quarterly review. Our team in Berlin finished the solar roof project "
    "two weeks ahead of schedule. Sales in Munich grew by twelve percent, mostly from small businesses. "
    "Next quarter we will open an office in Hamburg and hire four engineers. Thank you all for your hard work."
)


def make_clip(folder: Path, seconds: float) -> Path:
    wav, clip = folder / "speech.wav", folder / "review.mp4"
    subprocess.run(["espeak-ng", "-v", "en", "-s", "150", "-w", str(wav), PARAGRAPH], check=True)
    font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
    subprocess.run([
        "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
        f"testsrc2=size=1280x720:rate=25:duration={seconds},drawtext=fontfile={font}:text=QUARTERLY REVIEW:"
        "fontsize=64:fontcolor=white:box=1:boxcolor=black:x=(w-tw)/2:y=h*0.8",
        "-i", str(wav), "-af", f"apad=whole_dur={seconds}", "-t", str(seconds),
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(clip),
    ], check=True)
    return clip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vc-bench-analysis-"))
    try:
        clip = make_clip(work, args.seconds)
        derived = FFmpegRunner(encoder="libx264").derive("bench", clip, work / "media", ProxySettings(),
                                                         duration=args.seconds, has_audio=True, hdr_transfer=None,
                                                         sample_aspect="1:1")
        thumbs = Thumbnailer().extract("bench", clip, work / "media" / "thumbs")
        fa = FrameInspector().analyze("bench", derived, thumbs, duration=args.seconds, start=0.0, focal_35mm=None)
        inputs = _inputs("bench", None, derived, thumbs, fa)
        inputs.duration = args.seconds
        settings = CatalogSettings()
        analyzer = LocalPipeline(settings.models_dir, ocr_frames=settings.analysis_ocr_frames)
        runs = {}
        for label in ("cold", "warm"):
            started = time.perf_counter()
            result = analyzer.analyze(inputs, code_version="bench")
            runs[label] = {"total": round(time.perf_counter() - started, 3), **result.timings}
        words = len(result.transcript.full_text.split()) if result.transcript else 0
        print(f"{args.seconds:.0f} s clip, {words} words transcribed, "
              f"{len(result.visual_analysis.text_and_graphics.items)} on-screen text lines from "
              f"{settings.analysis_ocr_frames} frames")
        print(f"{'part':<18}{'cold s':>9}{'warm s':>9}{'warm s/s footage':>18}")
        for part in runs["warm"]:
            print(f"{part:<18}{runs['cold'].get(part, 0):>9.2f}{runs['warm'][part]:>9.2f}"
                  f"{runs['warm'][part] / args.seconds:>18.4f}")
        print("RESULT " + json.dumps({"seconds": args.seconds, "words": words, **{
            f"{label}_{part}": value for label, parts in runs.items() for part, value in parts.items()}}))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
