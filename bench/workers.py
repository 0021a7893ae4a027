"""Workers benchmark: the same clips cataloged in process, on 1 Celery worker and on 2 (each `--concurrency 1`).

Makes --clips short clips (default 16, 3 s, 640x360 H.264 + AAC, each of different content), then for each setup
opens a fresh temporary catalog home (its own embedded PostgreSQL), and times `video-catalog ingest --json
<folder>` end to end, as a user runs it: in_process (the default executor), then VIDEO_CATALOG_EXECUTOR=celery
with a Redis broker started here on a free port (`redis-server --save '' --appendonly no`) and 1 or 2
`video-catalog worker --concurrency 1` processes. Every clip must come out `complete`.

Per setup it prints wall seconds, clips per minute, and from Dagster's event log: steps, mean seconds inside a step
(STEP_START to STEP_SUCCESS), and for celery the dispatch latency of a step (dagster-celery's "Submitting celery
task" event in the run's process to the step's STEP_START on the worker), split into the wait for a free worker
(to its "Executing steps" event: broker, queue) and the worker's setup (job rebuilt from its pointer, execution
plan, instance and resources: to STEP_START); plus the event-log rows written per clip and per second (what the
database takes). The run's process polls results once a second (dagster-celery's TICK_SECONDS), ~0.5 s more a step.
Then ratios against in-process, and one JSON line prefixed "RESULT ".

    .venv/bin/python bench/workers.py                   # 16 clips x 3 s
    .venv/bin/python bench/workers.py --clips 4 --setups in_process,celery-1   # quick check

On one 2-core machine the workers share the cores with the run's process, Postgres and Redis, so "2 workers"
measures the Celery path's overhead and parallelism on these cores, not two machines' worth of CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog_resources.media.samples import ClipSpec, make_clip  # noqa: E402

VC = str(Path(sys.executable).with_name("video-catalog"))
SETUPS = ("in_process", "celery-1", "celery-2")
PATTERNS = ("testsrc2", "smptebars", "rgbtestsrc", "mandelbrot", "testsrc", "yuvtestsrc", "pal100bars", "pal75bars")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--setups", default=",".join(SETUPS), help=f"comma separated, of {', '.join(SETUPS)}")
    args = parser.parse_args()
    args.setups = [s.strip() for s in args.setups.split(",") if s.strip()]
    if any(s not in SETUPS for s in args.setups):
        parser.error(f"--setups takes {', '.join(SETUPS)}")
    return args


def make_footage(folder: Path, count: int, seconds: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        pattern = PATTERNS[i % len(PATTERNS)]
        make_clip(folder / f"clip{i:02d}.mp4", ClipSpec(name=f"clip{i:02d}.mp4", width=640, height=360, fps=25,
                                                        seconds=seconds + 0.04 * i, pattern=pattern))
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind",
                                "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def start_workers(env: dict[str, str], count: int) -> list[subprocess.Popen]:
    workers = [subprocess.Popen([VC, "worker", "--queues", "ingest,processing,ai", "--concurrency", "1",
                                 "--name", f"bench{i}"], env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for i in range(count)]
    from catalog_assets.celery_worker import celery_app
    from catalog_resources.settings import CatalogSettings

    app = celery_app(CatalogSettings(broker_url=env["VIDEO_CATALOG_BROKER_URL"]))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len({n for reply in (app.control.ping(timeout=1) or []) for n in reply}) >= count:
            return workers
        if any(w.poll() is not None for w in workers):
            raise SystemExit(f"a worker exited: {[w.stderr.read() for w in workers if w.poll() is not None]}")
    raise SystemExit("workers did not answer")


def stop(processes: list[subprocess.Popen]) -> None:
    for p in processes:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in processes:
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def event_figures(env: dict[str, str]) -> dict[str, Any]:
    """Steps, seconds inside steps, dispatch latency and event rows, from the catalog's Dagster instance."""
    code = (
        "import json, os\n"
        "from dagster import DagsterInstance\n"
        "from catalog_resources.settings import CatalogSettings\n"
        "from catalog_resources.store.dagster_home import prepare_dagster_home\n"
        "from catalog_resources.store.endpoint import resolve_database\n"
        "s = CatalogSettings(); prepare_dagster_home(s, resolve_database(s))\n"
        "out = {'inside': [], 'dispatch': [], 'wait': [], 'setup': [], 'rows': 0, 'runs': 0}\n"
        "with DagsterInstance.get() as inst:\n"
        "    for run in inst.get_runs():\n"
        "        out['runs'] += 1\n"
        "        submitted, taken, started = {}, {}, {}\n"
        "        for e in inst.all_logs(run.run_id):\n"
        "            out['rows'] += 1\n"
        "            ev = e.dagster_event\n"
        "            if ev is None or not e.step_key: continue\n"
        "            t, msg = ev.event_type_value, ev.message or e.user_message or ''\n"
        "            if t == 'ENGINE_EVENT' and 'Submitting celery task' in msg:\n"
        "                submitted[e.step_key] = e.timestamp\n"
        "            elif t == 'ENGINE_EVENT' and 'Executing steps' in msg:\n"
        "                taken[e.step_key] = e.timestamp\n"
        "                if e.step_key in submitted: out['wait'].append(e.timestamp - submitted[e.step_key])\n"
        "            elif t == 'STEP_START':\n"
        "                started[e.step_key] = e.timestamp\n"
        "                if e.step_key in submitted: out['dispatch'].append(e.timestamp - submitted[e.step_key])\n"
        "                if e.step_key in taken: out['setup'].append(e.timestamp - taken[e.step_key])\n"
        "            elif t == 'STEP_SUCCESS' and e.step_key in started:\n"
        "                out['inside'].append(e.timestamp - started[e.step_key])\n"
        "print(json.dumps(out))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def remove_server(home: Path) -> None:
    """Stop the home's embedded server and delete its cluster (as root it lives outside the home)."""
    from catalog_resources.settings import CatalogSettings
    from catalog_resources.store.endpoint import embedded_server

    embedded_server(CatalogSettings(home=home)).remove()


def measure(setup: str, footage: Path, clips: int, workdir: Path) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix=f"bench-{setup}-", dir=workdir))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDEO_CATALOG_", "DAGSTER_"))}
    env |= {"VIDEO_CATALOG_HOME": str(home / "home")}
    processes: list[subprocess.Popen] = []
    try:
        subprocess.run([VC, "db", "start"], env=env, capture_output=True, check=True)
        (home / "home" / "media").mkdir(parents=True, exist_ok=True)
        workers = 0
        if setup.startswith("celery"):
            workers = int(setup.split("-")[1])
            redis, url = start_redis(home)
            processes.append(redis)
            env |= {"VIDEO_CATALOG_EXECUTOR": "celery", "VIDEO_CATALOG_BROKER_URL": url}
            processes[:0] = start_workers(env, workers)
        started = time.monotonic()
        result = subprocess.run([VC, "ingest", "--json", str(footage)], env=env, capture_output=True, text=True)
        wall = time.monotonic() - started
        if result.returncode != 0:
            raise SystemExit(f"{setup}: ingest failed: {result.stderr[-2000:]}")
        listed = json.loads(subprocess.run([VC, "list", "--json"], env=env, capture_output=True, text=True,
                                           check=True).stdout)
        complete = sum(1 for c in listed if c["status"] == "complete")
        figures = event_figures(env)
    finally:
        stop([p for p in processes if p.args[0] != (shutil.which("redis-server") or "redis-server")])
        for p in processes:
            if p.poll() is None:
                p.terminate()
                p.wait(30)
        remove_server(home / "home")
        shutil.rmtree(home, ignore_errors=True)
    inside, dispatch, wait, prep = figures["inside"], figures["dispatch"], figures["wait"], figures["setup"]
    return {
        "setup": setup, "workers": workers, "clips": clips, "complete": complete, "wall_s": round(wall, 1),
        "clips_per_min": round(clips / wall * 60, 2), "runs": figures["runs"], "steps": len(inside),
        "step_inside_mean_s": round(statistics.fmean(inside), 3) if inside else None,
        "dispatch_median_s": round(statistics.median(dispatch), 3) if dispatch else None,
        "dispatch_mean_s": round(statistics.fmean(dispatch), 3) if dispatch else None,
        "queue_wait_median_s": round(statistics.median(wait), 3) if wait else None,
        "worker_setup_mean_s": round(statistics.fmean(prep), 3) if prep else None,
        "event_rows_per_clip": round(figures["rows"] / clips, 1),
        "event_rows_per_s": round(figures["rows"] / wall, 1),
    }


def main() -> None:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    try:
        footage = make_footage(workdir / "footage", args.clips, args.seconds)
        results = {}
        for setup in args.setups:
            r = measure(setup, footage, args.clips, workdir)
            results[setup] = r
            print(f"{setup:>10}: {r['complete']}/{r['clips']} complete in {r['wall_s']} s ({r['clips_per_min']} clips/min), "
                  f"{r['runs']} runs, {r['steps']} steps, {r['step_inside_mean_s']} s inside a step; dispatch "
                  f"median {r['dispatch_median_s']} s / mean {r['dispatch_mean_s']} s; {r['event_rows_per_clip']} "
                  f"event rows per clip ({r['event_rows_per_s']}/s); on a worker: queue wait median {r['queue_wait_median_s']} s, "
                  f"setup before the step {r['worker_setup_mean_s']} s", flush=True)
        base = results.get("in_process")
        for setup, r in results.items():
            if base and setup != "in_process":
                r["speed_vs_in_process"] = round(base["wall_s"] / r["wall_s"], 2)
                print(f"{setup}: {r['speed_vs_in_process']}x the in-process speed")
        if "celery-1" in results and "celery-2" in results:
            ratio = round(results["celery-1"]["wall_s"] / results["celery-2"]["wall_s"], 2)
            print(f"2 workers vs 1: {ratio}x")
            results["two_vs_one"] = ratio
        print("RESULT " + json.dumps(results))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
