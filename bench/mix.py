"""Ingest speed on a realistic mix, before and after, in one run: x real time, cores busy, CPU by step, peak RSS.

The mix: a 60 s 1080p30 H.264 camera-like take at ~62 Mb/s (testsrc2 under moving grain, a caption and a spoken
line, encoded by ffmpeg here) plus the real clips the tests already use (tests/fixtures/real: PySceneDetect's
testvideo and fades, a GoPro Max clip, moviepy's chaplin, smpte, fire2 and video_with_failing_audio) and the
demo set's rooftop interview (speech). Every variant ingests the same folder into its own fresh catalog home,
in its own process, with the full default pipeline (offline analysis on) or the non-AI steps only:

- `before`: clips of a batch step one after another (VIDEO_CATALOG_CLIP_WORKERS=1) and a new Dagster storage
  connection per query (dagster-postgres' default), the old behaviour;
- `after`: clips side by side up to the usable cores (VIDEO_CATALOG_CLIP_WORKERS=0, the default).

Baseline measured in the same run: `ffmpeg -i clip -f null -` for every clip (a full decode and nothing else).

Per variant: wall seconds of the ingest (the database started and migrated and Dagster loaded first, as a user's
catalog is; model loads count), x real time (footage seconds / wall), cores busy (CPU / wall: this process, its
subprocesses and the embedded PostgreSQL's backends), CPU per footage second and its ratio to the decode, CPU by
step (each materialization's `cpu_seconds`), and the ingest process's peak RSS. `--batch-sizes 4,16,64` also
ingests --memory-clips short clips at each batch size and prints the peak RSS of each.

    .venv/bin/python bench/mix.py                       # before/after, full and non-AI, on the mix
    .venv/bin/python bench/mix.py --variants after      # one variant
    .venv/bin/python bench/mix.py --batch-sizes 4,16,64 --variants after
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REAL = ROOT / "tests" / "fixtures" / "real"
REAL_CLIPS = ["pyscenedetect/testvideo.mp4", "pyscenedetect/fades.mp4", "gopro/max-heromode.mp4",
              "moviepy/chaplin.mp4", "moviepy/smpte-2997.mp4", "moviepy/fire2.mp4",
              "moviepy/video_with_failing_audio.mp4"]
NON_AI_STEPS = ["clip_source", "technical_metadata", "proxy", "thumbnails", "frame_analysis", "catalog_record"]
VARIANTS = {  # name: (clip workers, steps: "default" or the non-AI list)
    "before": (1, "default"), "after": (0, "default"),
    "before-non-ai": (1, "non-ai"), "after-non-ai": (0, "non-ai"),
}
LINE = ("A sixty second take from camera A. The light is changing over the harbour while the crew waits for "
        "the ferry to come in, and the sound recordist asks for one more minute of quiet.")


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def duration_of(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout.strip()
    return float(out)


# ---- footage ---------------------------------------------------------------------------------------


def camera_take(path: Path, seconds: float) -> Path:
    """1080p30 with moving grain (so the decoder works as on camera footage), ~62 Mb/s, speech then a tone."""
    speech = path.with_suffix(".wav")
    subprocess.run(["espeak-ng", "-v", "en", "-s", "150", "-w", str(speech), LINE], check=True)
    font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
    video = (f"testsrc2=size=1920x1080:rate=30:duration={seconds},noise=alls=24:allf=t+u,"
             f"drawtext=fontfile={font}:text='CAMERA A HARBOUR':fontsize=72:fontcolor=white:x=80:y=900")
    ffmpeg("-f", "lavfi", "-i", video, "-i", str(speech), "-af", f"apad=whole_dur={seconds}",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-b:v", "62M", "-maxrate", "62M",
           "-bufsize", "62M", "-c:a", "aac", "-b:a", "128k", "-t", str(seconds), str(path))
    speech.unlink()
    return path


def make_mix(folder: Path, seconds: float) -> list[Path]:
    from catalog_resources.media.samples import DEMO_SET, make_clip

    folder.mkdir(parents=True)
    clips = [camera_take(folder / "A001 harbour take.mp4", seconds)]
    for name in REAL_CLIPS:
        target = folder / name.replace("/", " - ")
        shutil.copyfile(REAL / name, target)
        clips.append(target)
    interview = next(spec for spec in DEMO_SET if spec.name.startswith("rooftop"))
    clips.append(make_clip(folder / interview.name, interview))
    return clips


def make_short_clips(folder: Path, count: int) -> list[Path]:
    """`count` different 4 s 640x360 clips with speech (copies of one encode with their own comment tag)."""
    from catalog_resources.media.samples import ClipSpec, make_clip

    folder.mkdir(parents=True)
    master = make_clip(folder.parent / "short-master.mp4", ClipSpec(name="m.mp4", seconds=4, caption="SHORT TAKE",
                                                                     speech="One more short take for the memory test."))
    clips = []
    for i in range(count):
        target = folder / f"short_{i:03d}.mp4"
        ffmpeg("-i", str(master), "-map", "0", "-c", "copy", "-metadata", f"comment=short-{i}", str(target))
        clips.append(target)
    master.unlink()
    return clips


# ---- the decode baseline ---------------------------------------------------------------------------


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def decode_baseline(clips: list[Path]) -> dict[str, float]:
    """One full decode of every clip (video and audio), ffmpeg's own threads: CPU and wall seconds."""
    cpu0, wall0 = children_cpu(), time.perf_counter()
    for clip in clips:
        subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "quiet", "-i", str(clip), "-f", "null", "-"],
                       check=False)
    return {"cpu_seconds": round(children_cpu() - cpu0, 2), "wall_seconds": round(time.perf_counter() - wall0, 2)}


# ---- one variant, in its own process ---------------------------------------------------------------


def postgres_cpu(data_dir: Path) -> float:
    """CPU seconds of the embedded server's processes so far (its postmaster pid and that pid's children)."""
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return 0.0
    root = pid_file.read_text().split()[0]
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = stat.parent.name, fields[1]
        if pid == root or ppid == root:
            total += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
    return total


def cpu_by_step(instance, run_ids: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Each asset's `cpu_seconds` (a batch-wide value, the same on every clip's event), summed over the runs; and
    the offline analysis' parts (each clip's `timings`: wall seconds, model loads included) summed over clips."""
    from dagster import DagsterEventType

    totals: dict[str, float] = {}
    parts: dict[str, float] = {}
    for run_id in run_ids:
        per_run: dict[str, float] = {}
        for record in instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records:
            materialization = record.event_log_entry.asset_materialization
            if materialization is None:
                continue
            key = materialization.asset_key.to_user_string()
            for name, suffix in (("cpu_seconds", ""), ("compute_seconds", " wall")):
                value = materialization.metadata.get(name)
                if value is not None:
                    per_run[key + suffix] = float(value.value)
            timings = materialization.metadata.get("timings")
            if materialization.asset_key.to_user_string() == "ai_analysis" and timings is not None:
                for part, seconds in (timings.value or {}).items():
                    parts[part] = parts.get(part, 0.0) + float(seconds)
        for key, value in per_run.items():
            totals[key] = totals.get(key, 0.0) + value
    return totals, parts


def old_connections(instance) -> None:
    """The `before` variants' Dagster storage connections: dagster-postgres' default, a new server connection per
    query (NullPool), as the catalog had it before it pooled them (catalog_assets/catalog_app.py)."""
    from dagster_postgres.utils import create_pg_engine
    from sqlalchemy.pool import NullPool

    for storage in (instance.event_log_storage, instance.run_storage, instance.schedule_storage):
        storage._engine = create_pg_engine(storage.postgres_url, None, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def child(args: argparse.Namespace) -> None:
    """Ingest args.folder into a fresh home; print one RESULT line."""
    from bench.ingest import close_app, open_warm_app
    from catalog_assets.steps import select_steps
    from catalog_resources.store.endpoint import embedded_server
    from catalog_resources.work.cpu import cpu_seconds

    steps = select_steps() if args.steps == "default" else NON_AI_STEPS
    app = open_warm_app(Path(args.home), "batch", args.batch_size)
    if args.old_connections:
        old_connections(app.instance)
    try:
        data_dir = embedded_server(app.settings).data_dir
        pg0, cpu0, wall0 = postgres_cpu(data_dir), cpu_seconds(), time.perf_counter()
        summary = app.ingest([Path(args.folder)], steps=steps)
        wall, cpu, pg = time.perf_counter() - wall0, cpu_seconds() - cpu0, postgres_cpu(data_dir) - pg0
        runs = [r.dagster_run.run_id for r in app.instance.get_run_records()]
        by_step, ai_parts = cpu_by_step(app.instance, runs)
    finally:
        close_app(app)
    if summary.failed:
        raise SystemExit(f"failures: {[(f.path, f.reason) for f in summary.failed]}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    steps_cpu = sum(v for k, v in by_step.items() if not k.endswith(" wall"))
    print("RESULT " + json.dumps({"wall": wall, "cpu": cpu, "postgres_cpu": pg, "peak_rss_mb": rss,
                                  "start_cpu": cpu0, "outside_steps_cpu": cpu + pg - steps_cpu,
                                  "clips": len(summary.new), "cpu_by_step": by_step,
                                  "ai_parts": ai_parts}), flush=True)


def run_variant(name: str, workers: int, steps: str, folder: Path, workdir: Path, batch_size: int) -> dict[str, Any]:
    home = workdir / f"home-{name}-{batch_size}"
    env = {**os.environ, "VIDEO_CATALOG_CLIP_WORKERS": str(workers)}
    env.pop("DAGSTER_HOME", None)
    cmd = [sys.executable, __file__, "--child", "--home", str(home), "--folder", str(folder), "--steps", steps,
           "--batch-size", str(batch_size), *(["--old-connections"] if name.startswith("before") else [])]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"{name}: the ingest process failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def describe(name: str, r: dict[str, Any], footage: float, decode: dict[str, float]) -> dict[str, Any]:
    total_cpu = r["cpu"] + r["postgres_cpu"]
    row = {
        "variant": name, "wall_seconds": round(r["wall"], 1), "x_real_time": round(footage / r["wall"], 2),
        "cores_busy": round(total_cpu / r["wall"], 2), "cpu_seconds": round(r["cpu"], 1),
        "postgres_cpu_seconds": round(r["postgres_cpu"], 1),
        "cpu_per_footage_second": round(total_cpu / footage, 3),
        "cpu_vs_decode": round(total_cpu / decode["cpu_seconds"], 2), "peak_rss_mb": round(r["peak_rss_mb"]),
        "cpu_per_footage_second_by_step": {k: round(v / footage, 3) for k, v in r["cpu_by_step"].items()
                                           if not k.endswith(" wall")},
        "cores_busy_by_step": {k: round(v / r["cpu_by_step"][k + " wall"], 2) for k, v in r["cpu_by_step"].items()
                               if r["cpu_by_step"].get(k + " wall")},
        "wall_seconds_by_step": {k[:-5]: round(v, 1) for k, v in r["cpu_by_step"].items() if k.endswith(" wall")},
        "ai_part_seconds": {k: round(v, 1) for k, v in sorted(r["ai_parts"].items(), key=lambda kv: -kv[1])},
    }
    print(f"[{name}] {row['wall_seconds']} s wall, {row['x_real_time']}x real time, {row['cores_busy']} cores busy, "
          f"{row['cpu_per_footage_second']} CPU s per footage s ({row['cpu_vs_decode']}x the decode; PostgreSQL "
          f"{row['postgres_cpu_seconds']} s of it), peak RSS {row['peak_rss_mb']} MB")
    for step, value in row["cpu_per_footage_second_by_step"].items():
        print(f"    {step:<20} {value:.3f} CPU s per footage s, {row['wall_seconds_by_step'].get(step, 0):5.1f} s wall, "
              f"{row['cores_busy_by_step'].get(step, 0):.2f} cores busy")
    steps_wall = sum(row["wall_seconds_by_step"].values())
    print(f"    outside the steps (scan, plan, run setup, IO manager, checks): {row['wall_seconds'] - steps_wall:.1f} s wall")
    if row["ai_part_seconds"]:
        print("    ai_analysis parts (wall s, summed over clips): "
              + ", ".join(f"{k} {v}" for k, v in row["ai_part_seconds"].items()))
    return row


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the 1080p take (default 60)")
    parser.add_argument("--batch-size", type=int, default=16, help="clips per Dagster run (default 16)")
    parser.add_argument("--batch-sizes", default="", help="also measure peak RSS at these batch sizes, e.g. 4,16,64")
    parser.add_argument("--memory-clips", type=int, default=64, help="short clips for --batch-sizes (default 64)")
    parser.add_argument("--one-clip", action="store_true", help="also measure a one-clip ingest's fixed cost, before and after")
    parser.add_argument("--footage", type=Path, help="ingest this folder instead of making the mix (e.g. to repeat a run)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--steps", default="default", help=argparse.SUPPRESS)
    parser.add_argument("--old-connections", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if any(v not in VARIANTS for v in args.variants):
        parser.error(f"--variants takes {', '.join(VARIANTS)}")
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    return args


def main() -> None:
    args = parse_args()
    if args.child:
        return child(args)
    workdir = Path(tempfile.mkdtemp(prefix="vc-bench-mix-"))
    try:
        clips = sorted(args.footage.iterdir()) if args.footage else make_mix(workdir / "mix", args.seconds)
        mix = args.footage or workdir / "mix"
        footage = sum(duration_of(c) for c in clips)
        megabytes = sum(c.stat().st_size for c in clips) / 1e6
        print(f"mix: {len(clips)} clips, {footage:.1f} s of footage, {megabytes:.0f} MB; {os.cpu_count()} cores, "
              f"load {os.getloadavg()[0]:.1f} at the start")
        decode = decode_baseline(clips)
        print(f"[decode] ffmpeg -f null: {decode['cpu_seconds']} CPU s ({decode['cpu_seconds'] / footage:.3f} per "
              f"footage s), {decode['wall_seconds']} s wall ({footage / decode['wall_seconds']:.1f}x real time)")
        rows = {}
        for name in args.variants:
            workers, steps = VARIANTS[name]
            rows[name] = describe(name, run_variant(name, workers, steps, mix, workdir, args.batch_size),
                                  footage, decode)
        for plain in ("", "-non-ai"):
            before, after = rows.get(f"before{plain}"), rows.get(f"after{plain}")
            if before and after:
                print(f"after / before{plain}: {after['x_real_time'] / before['x_real_time']:.2f}x the speed, "
                      f"{after['cores_busy'] / before['cores_busy']:.2f}x the cores busy, "
                      f"{after['cpu_per_footage_second'] / before['cpu_per_footage_second']:.2f}x the CPU")
        one_clip = {}
        if args.one_clip:  # the fixed cost: a one-clip ingest, everything but the steps' own work
            one = workdir / "one"
            one.mkdir()
            shutil.copyfile(next(c for c in clips if c.name.startswith("rooftop")), one / "rooftop interview.mp4")
            for name in ("before", "after"):
                result = run_variant(name, VARIANTS[name][0], "default", one, workdir, args.batch_size)
                one_clip[name] = {"wall": round(result["wall"], 2), "cpu": round(result["cpu"] + result["postgres_cpu"], 2),
                                  "outside_steps_cpu": round(result["outside_steps_cpu"], 2),
                                  "process_start_cpu": round(result["start_cpu"], 2)}
                print(f"[one clip, {name}] {one_clip[name]['wall']} s wall, {one_clip[name]['cpu']} CPU s, of which "
                      f"{one_clip[name]['outside_steps_cpu']} outside the steps (scan, plan, Dagster runs, events, IO "
                      f"manager, checks, PostgreSQL); process start (imports, a new catalog database made and migrated, Dagster "
                      f"loaded) {one_clip[name]['process_start_cpu']} CPU s before it")
            if len(one_clip) == 2 and one_clip["after"]["outside_steps_cpu"]:
                print(f"one-clip overhead before / after: "
                      f"{one_clip['before']['outside_steps_cpu'] / one_clip['after']['outside_steps_cpu']:.2f}x")
        memory = {}
        if args.batch_sizes:
            short = make_short_clips(workdir / "short", args.memory_clips)
            for size in args.batch_sizes:
                name = args.variants[-1]
                workers, steps = VARIANTS[name]
                result = run_variant(name, workers, steps, workdir / "short", workdir, size)
                memory[size] = round(result["peak_rss_mb"])
                print(f"[memory] {len(short)} clips of 4 s at batch size {size} ({name}): peak RSS {memory[size]} MB, "
                      f"{result['wall']:.1f} s wall")
        print("RESULT " + json.dumps({"footage_seconds": round(footage, 1), "clips": len(clips), "decode": decode,
                                      "variants": rows, "peak_rss_mb_by_batch_size": memory, "one_clip": one_clip,
                                      "load_at_end": round(os.getloadavg()[0], 1)}, sort_keys=True))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
