"""Probe benchmark: milliseconds per clip for the technical_metadata work, whole and per tool.

Makes the technical fixtures (tests/tech_media.py: HEVC HDR10/HLG, ProRes, DNxHD, interlaced MPEG-2,
VFR, rotated, anamorphic, multi-audio, subtitles, camera tags, timecode...) plus a 60 s 1080p H.264
clip (--seconds), then probes each file --rounds times with PyAV, MediaInfo and ExifTool (one
`-stay_open` process, as the asset uses it) and reconciles. Prints p50 / p95 milliseconds per tool
and for the whole clip, the cost of starting ExifTool once, and one JSON line prefixed "RESULT ".

    .venv/bin/python bench/probe.py
    .venv/bin/python bench/probe.py --rounds 10 --seconds 120
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import percentile  # noqa: E402
from catalog_resources.media.reconcile import reconcile  # noqa: E402
from catalog_resources.resources.probes import ExifToolProbe, MediaInfoProbe, PyAVProbe  # noqa: E402
from catalog_resources.media.samples import ClipSpec, make_clip  # noqa: E402
from tests.tech_media import make_tech_fixtures  # noqa: E402

TOOLS = ("pyav", "mediainfo", "exiftool", "reconcile", "total")


def make_inputs(folder: Path, seconds: float) -> list[Path]:
    fixtures = make_tech_fixtures(folder / "tech")
    paths = [f.path for f in fixtures.values() if not f.expected_issue_codes]
    long_clip = make_clip(
        folder / "long_1080p.mp4",
        ClipSpec(name="long_1080p.mp4", width=1920, height=1080, fps=30, seconds=seconds, extra=["-b:v", "8M"]),
    )
    return [*paths, long_clip]


def measure(paths: list[Path], rounds: int) -> tuple[dict[str, list[float]], float]:
    pyav, mediainfo, exiftool = PyAVProbe(), MediaInfoProbe(), ExifToolProbe()
    timings: dict[str, list[float]] = {tool: [] for tool in TOOLS}
    started = time.perf_counter()
    exiftool.probe(paths[0])  # starts the stay_open process: a one-off cost per run
    exiftool_start_ms = (time.perf_counter() - started) * 1000
    try:
        for _ in range(rounds):
            for path in paths:
                t0 = time.perf_counter()
                raw_av = pyav.probe(path)
                t1 = time.perf_counter()
                raw_mi = mediainfo.probe(path)
                t2 = time.perf_counter()
                raw_ex = exiftool.probe(path)
                t3 = time.perf_counter()
                reconcile(path.name, path, path.stat().st_size, raw_av, raw_mi, raw_ex)
                t4 = time.perf_counter()
                for tool, value in zip(TOOLS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0)):
                    timings[tool].append(value * 1000)
    finally:
        exiftool.close()
    return timings, exiftool_start_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the 1080p clip")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vc-probe-bench-"))
    try:
        paths = make_inputs(folder, args.seconds)
        timings, exiftool_start_ms = measure(paths, args.rounds)
        long_name = paths[-1].name
        per_long = {tool: None for tool in TOOLS}
        print(f"{len(paths)} clips x {args.rounds} rounds; ExifTool stay_open start: {exiftool_start_ms:.0f} ms (once per run)")
        print(f"{'tool':<10} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}")
        result = {"clips": len(paths), "rounds": args.rounds, "exiftool_start_ms": round(exiftool_start_ms, 1)}
        for tool in TOOLS:
            values = timings[tool]
            p50, p95, mean = percentile(values, 0.5), percentile(values, 0.95), statistics.fmean(values)
            print(f"{tool:<10} {p50:8.1f} {p95:8.1f} {mean:8.1f}")
            result[tool] = {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2), "mean_ms": round(mean, 2)}
        # the long clip alone: every round's last entry
        n = len(paths)
        for tool in TOOLS:
            per_long[tool] = round(statistics.fmean(timings[tool][n - 1 :: n]), 2)
        print(f"{long_name} ({args.seconds:g} s 1080p): " + ", ".join(f"{t} {v} ms" for t, v in per_long.items()))
        result["long_clip_ms"] = per_long
        print("RESULT " + json.dumps(result, sort_keys=True))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
