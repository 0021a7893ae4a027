"""Ingest benchmark: throughput and Dagster's per-clip overhead, batch mode against per-clip mode, in one run.

Makes a folder of --clips clips (default 8) of --seconds seconds (default 60) 1080p30 H.264 (~8 Mb/s,
~60 MB a minute) with AAC audio. One master is encoded with ffmpeg (testsrc2, libx264 ultrafast); the
others are stream copies with a different `comment` tag, so every file has different bytes and
therefore its own fingerprint (clip id). Then for each run mode ("batch", "per-clip") it opens a
fresh temporary catalog home (embedded PostgreSQL), warms it up (database started and migrated,
Dagster instance and definitions created: one-off costs, not per-clip ones), and times
`CatalogApp.ingest([folder], steps=<the default steps>)`.

Per mode it prints clips, wall seconds of the whole ingest (scan + plan + Dagster runs), clips per
minute, seconds of footage cataloged per second, Dagster runs, seconds inside assets, and Dagster's
overhead ((wall time of the runs - time inside asset functions) / clips, also as % of compute time); then the
ratio of per-clip to batch overhead measured in this same run, and one JSON line prefixed "RESULT ".

"Compute seconds" is RunStats.compute_seconds: time inside the asset functions, which each asset
reports as `compute_seconds` materialization metadata. Overhead is everything else inside the runs:
run setup, event writes, the IO manager, the asset-check steps.

    .venv/bin/python bench/ingest.py                          # 8 clips x 60 s
    .venv/bin/python bench/ingest.py --clips 3 --seconds 10   # quick check
    .venv/bin/python bench/ingest.py --keep                   # keep the generated footage (path printed)

The footage was just written, so it is read from the page cache in both modes (hashing is not
disk-bound here). Catalog homes and their embedded servers are always removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog_assets.catalog_app import CatalogApp  # noqa: E402
from catalog_assets.steps import select_steps  # noqa: E402
from catalog_resources.store.endpoint import embedded_server  # noqa: E402
from catalog_resources.media.fingerprint import sampled_fingerprint  # noqa: E402
from catalog_resources.media.samples import require_ffmpeg  # noqa: E402
from catalog_resources.settings import CatalogSettings  # noqa: E402

STEPS = select_steps()  # the default pipeline, as `video-catalog ingest` runs it
MODES = ("batch", "per-clip")
WIDTH, HEIGHT, FPS = 1920, 1080, 30
VIDEO_BITRATE = "8M"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=8, help="clips to ingest (default 8)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each clip in seconds (default 60)")
    parser.add_argument("--batch-size", type=int, default=16, help="clips per Dagster run in batch mode (default 16)")
    parser.add_argument(
        "--modes", default=",".join(MODES), help="run modes to measure, in this order (default batch,per-clip)"
    )
    parser.add_argument("--keep", action="store_true", help="do not delete the generated footage")
    args = parser.parse_args()
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if args.clips < 1 or args.seconds <= 0:
        parser.error("--clips and --seconds must be positive")
    if not args.modes or any(m not in MODES for m in args.modes):
        parser.error(f"--modes takes a comma-separated list of {', '.join(MODES)}")
    return args


# ---- footage ---------------------------------------------------------------------------------------


def ffmpeg(*args: str) -> None:
    subprocess.run([require_ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def encode_master(path: Path, seconds: float) -> Path:
    """The one real encode: testsrc2 1080p30 H.264 at ~8 Mb/s plus a 440 Hz AAC tone."""
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
        "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-b:v", VIDEO_BITRATE,
        "-c:a", "aac", "-b:a", "128k", "-shortest",
        str(path),
    )
    return path


def derive_clips(master: Path, folder: Path, count: int) -> list[Path]:
    """Stream copies of the master, each with its own comment tag: same footage, different bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    clips = []
    for i in range(1, count + 1):
        target = folder / f"clip_{i:03d}.mp4"
        ffmpeg("-i", str(master), "-map", "0", "-c", "copy", "-metadata", f"comment=clip-{i}", str(target))
        clips.append(target)
    fingerprints = {sampled_fingerprint(p) for p in clips}
    if len(fingerprints) != count:
        raise RuntimeError(f"the {count} derived clips have only {len(fingerprints)} distinct fingerprints")
    return clips


def make_footage(workdir: Path, count: int, seconds: float) -> tuple[Path, float]:
    """The folder to ingest (the master stays outside it) and the seconds it took to make."""
    started = time.perf_counter()
    master = encode_master(workdir / "master.mp4", seconds)
    folder = workdir / "footage"
    derive_clips(master, folder, count)
    master.unlink()
    return folder, time.perf_counter() - started


# ---- one mode --------------------------------------------------------------------------------------


def open_warm_app(home: Path, mode: str, batch_size: int) -> CatalogApp:
    """A fresh catalog home with its one-off costs paid: server up, schema migrated, Dagster instance made."""
    settings = CatalogSettings(
        home=home, run_mode=mode, batch_size=batch_size, database_url=None, dagster_database_url=None
    )
    os.environ.pop("DAGSTER_HOME", None)  # a caller's DAGSTER_HOME would take precedence over the temp home
    app = CatalogApp(settings)
    _ = app.store, app.instance, app.defs
    if Path(app.instance.root_directory) != settings.dagster_home:
        raise RuntimeError(f"Dagster instance at {app.instance.root_directory}, expected {settings.dagster_home}")
    return app


def close_app(app: CatalogApp) -> None:
    """Release the Dagster instance, stop the embedded server and delete its data and the home."""
    try:
        if "instance" in app.__dict__:  # a cached_property that was created
            app.instance.dispose()
    finally:
        server = embedded_server(app.settings)
        server.remove()
        if server.base_dir.exists():
            print(f"warning: embedded server data left at {server.base_dir}", file=sys.stderr)
        shutil.rmtree(app.settings.home, ignore_errors=True)


def measure_mode(mode: str, folder: Path, clips: int, seconds: float, batch_size: int, workdir: Path) -> dict[str, Any]:
    app = open_warm_app(workdir / f"home-{mode}", mode, batch_size)
    try:
        started = time.perf_counter()
        summary = app.ingest([folder], steps=STEPS)
        wall = time.perf_counter() - started
        stats = app.last_stats
    finally:
        close_app(app)
    assert not summary.failed, f"{mode}: failures: {[(f.path, f.reason) for f in summary.failed]}"
    assert len(summary.new) == clips, f"{mode}: {len(summary.new)} new clips, expected {clips}"
    overhead = stats.overhead_seconds
    return {
        "mode": mode,
        "clips": clips,
        "wall_seconds": round(wall, 3),
        "clips_per_minute": round(clips / wall * 60, 2),
        "footage_seconds_per_second": round(clips * seconds / wall, 2),
        "dagster_runs": stats.runs,
        "run_wall_seconds": round(stats.wall_seconds, 3),
        "compute_seconds": round(stats.compute_seconds, 3),
        "outside_runs_seconds": round(wall - stats.wall_seconds, 3),
        "overhead_seconds": round(overhead, 3),
        "overhead_seconds_per_clip": round(overhead / clips, 3),
        "overhead_percent_of_compute": round(100 * overhead / stats.compute_seconds, 1) if stats.compute_seconds else None,
    }


# ---- report ----------------------------------------------------------------------------------------


def print_mode(r: dict[str, Any]) -> None:
    print(f"[{r['mode']}]")
    print(f"  clips                      {r['clips']}")
    print(f"  wall seconds (ingest)      {r['wall_seconds']:.2f}")
    print(f"  clips per minute           {r['clips_per_minute']:.2f}")
    print(f"  footage seconds per second {r['footage_seconds_per_second']:.2f}")
    print(f"  Dagster runs               {r['dagster_runs']}")
    print(f"  wall seconds in runs       {r['run_wall_seconds']:.2f}  (scan + plan + partitions: "
          f"{r['outside_runs_seconds']:.2f})")
    print(f"  compute seconds            {r['compute_seconds']:.2f}  (inside the asset functions)")
    print(f"  Dagster overhead per clip  {r['overhead_seconds_per_clip']:.3f} s "
          f"({r['overhead_percent_of_compute']}% of compute time)")


def overhead_ratio(results: dict[str, dict[str, Any]]) -> float | None:
    if "batch" not in results or "per-clip" not in results:
        return None
    batch = results["batch"]["overhead_seconds_per_clip"]
    return round(results["per-clip"]["overhead_seconds_per_clip"] / batch, 2) if batch > 0 else None


def main() -> None:
    args = parse_args()
    os.environ.pop("DAGSTER_HOME", None)  # the catalog's own instance, never the caller's
    workdir = Path(tempfile.mkdtemp(prefix="vc-bench-ingest-"))
    footage = workdir / "footage"
    try:
        footage, make_seconds = make_footage(workdir, args.clips, args.seconds)
        total_bytes = sum(p.stat().st_size for p in footage.iterdir())
        print(f"footage: {args.clips} clips x {args.seconds:g} s {WIDTH}x{HEIGHT}p{FPS} H.264 + AAC, "
              f"{total_bytes / 1e6:.1f} MB, made in {make_seconds:.1f} s")
        results: dict[str, dict[str, Any]] = {}
        for mode in args.modes:
            results[mode] = measure_mode(mode, footage, args.clips, args.seconds, args.batch_size, workdir)
            print_mode(results[mode])
        ratio = overhead_ratio(results)
        if ratio is not None:
            print(f"per-clip overhead / batch overhead: {ratio}x")
        print("RESULT " + json.dumps({
            "clips": args.clips, "seconds_per_clip": args.seconds, "footage_bytes": total_bytes,
            "batch_size": args.batch_size, "modes": results, "overhead_ratio_per_clip_vs_batch": ratio,
        }, sort_keys=True))
    finally:
        if args.keep and footage.exists():
            for leftover in workdir.iterdir():
                if leftover.is_dir() and leftover != footage:
                    shutil.rmtree(leftover, ignore_errors=True)
                elif leftover.is_file():
                    leftover.unlink()
            print(f"footage kept at {footage}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
