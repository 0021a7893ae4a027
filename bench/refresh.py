"""`refresh --stale` planning at scale: how long finding the stale (asset, clip) pairs takes at N clips.

Opens a fresh temporary catalog home, registers --clips synthetic clips (rows in `clips`, a recorded code
version per asset in `asset_versions`, the sidecar files the plan checks), then times:
- planning with nothing changed (0 pairs expected),
- planning after a prompt change (ai_analysis + catalog_record for every clip expected),
- the CLI `video-catalog refresh --stale --dry-run --json` end to end (process start included).
Prints p50/p95 over --repeat runs and one JSON line prefixed "RESULT ".

    .venv/bin/python bench/refresh.py                 # 1,000 clips
    .venv/bin/python bench/refresh.py --clips 5000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import close_app, open_warm_app  # noqa: E402
from bench.stats import percentile  # noqa: E402
from catalog_assets.catalog_app import CatalogApp  # noqa: E402
from catalog_assets.refresh import current_versions  # noqa: E402
from catalog_resources.analysis.prompt import packaged_prompt_path  # noqa: E402


def seed(app: CatalogApp, clips: int) -> list[str]:
    versions, _children, _order = current_versions(app.defs)
    ids = [f"bench{i:011d}" for i in range(clips)]
    with app.store.connect() as conn, conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO clips (clip_id, file_name, path, size_bytes, md5, fast_hash, fingerprint)"
            " VALUES (%s, %s, %s, 1, %s, %s, %s)",
            [(c, f"{c}.mp4", f"/footage/{c}.mp4", c, c, c) for c in ids],
        )
        for asset, version in versions.items():
            app.store.record_versions(conn, asset, version, ids, "bench")
    for clip_id in ids:
        folder = app.settings.media_dir / clip_id
        folder.mkdir(parents=True, exist_ok=True)
        for asset in versions:
            (folder / f"{asset}.json").write_text("{}")
    return ids


def timed(fn, repeat: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="vc-bench-refresh-"))
    app = open_warm_app(workdir / "home", "batch", 16)
    try:
        ids = seed(app, args.clips)
        unchanged, plan = timed(lambda: app.plan_refresh(stale=True), args.repeat)
        assert not plan.pairs, "nothing changed, nothing should be stale"
        prompt = workdir / "prompt.md"
        prompt.write_text(packaged_prompt_path().read_text() + "\nAlso describe the weather.\n")
        changed_app = CatalogApp(app.settings.model_copy(update={"analysis_prompt_file": prompt}))
        changed, plan = timed(lambda: changed_app.plan_refresh(stale=True), args.repeat)
        _versions, children, order = current_versions(app.defs)
        redone = {"ai_analysis"}  # the prompt's asset and everything downstream of it
        for asset in order:
            if asset in redone:
                redone.update(children[asset])
        assert len(plan.pairs) == len(redone) * len(ids), (len(plan.pairs), sorted(redone))
        env = {**os.environ, "VIDEO_CATALOG_HOME": str(app.settings.home),
               "VIDEO_CATALOG_ANALYSIS_PROMPT_FILE": str(prompt)}
        cli_times, out = timed(lambda: subprocess.run(
            [sys.executable, "-m", "catalog_cli.main", "refresh", "--stale", "--dry-run", "--json"],
            capture_output=True, text=True, env=env, check=True).stdout, 3)
        assert len(json.loads(out)["pairs"]) == len(redone) * len(ids)
        result = {
            "clips": len(ids), "assets": len(order), "pairs_after_prompt_change": len(plan.pairs),
            "plan_unchanged_p50_s": round(statistics.median(unchanged), 4),
            "plan_changed_p50_s": round(statistics.median(changed), 4),
            "plan_changed_p95_s": round(percentile(changed, 0.95), 4),
            "cli_dry_run_p50_s": round(statistics.median(cli_times), 3),
        }
        print(f"{len(ids)} clips x {len(order)} assets")
        print(f"  plan, nothing changed:      p50 {result['plan_unchanged_p50_s'] * 1000:.1f} ms")
        print(f"  plan after prompt change:   p50 {result['plan_changed_p50_s'] * 1000:.1f} ms, "
              f"p95 {result['plan_changed_p95_s'] * 1000:.1f} ms ({len(plan.pairs)} pairs)")
        print(f"  CLI refresh --stale --dry-run (process start included): p50 {result['cli_dry_run_p50_s']:.2f} s")
        print("RESULT " + json.dumps(result))
    finally:
        close_app(app)


if __name__ == "__main__":
    main()
