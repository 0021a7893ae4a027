"""Scanner benchmark: first scan of a mixed tree versus a repeat scan answered entirely from the cache.

Builds a temporary tree of --files files (default 10,000) in nested folders of 100: mostly small
non-video files (text, CSV/JSON, logs, random binary, a few empty files and a few text files named
.mp4), plus real tiny clips (20 different 0.5 s 160x120 clips made with ffmpeg, each present 4 times
under different names, so 60 of them are duplicates). In a temporary catalog home (embedded
PostgreSQL) it then runs `catalog_resources.ingest.scanner.scan()` twice on the tree root:

- first scan: every file is probed (PyAV) and videos fingerprinted; the answers are recorded.
- repeat scan: the tree is unchanged, so every file must come from the cache (probed == 0, asserted).

Prints files, seconds and files/s of both scans, the repeat/first speed ratio, probed counts and the
kinds found, then the same figures as one JSON line prefixed "RESULT ".

    .venv/bin/python bench/scan.py                  # 10,000 files
    .venv/bin/python bench/scan.py --files 2000     # quicker
    .venv/bin/python bench/scan.py --keep           # leave the tree in place (its path is printed)

The catalog home and its embedded server are always removed at the end; the tree too unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog_assets.catalog_app import CatalogApp  # noqa: E402
from catalog_resources.resources.catalog import CatalogResource  # noqa: E402
from catalog_resources.store.endpoint import embedded_server  # noqa: E402
from catalog_resources.models.clips import ScanReport  # noqa: E402
from catalog_resources.media.samples import ClipSpec, make_clip  # noqa: E402
from catalog_resources.ingest.scanner import scan  # noqa: E402
from catalog_resources.settings import CatalogSettings  # noqa: E402

FILES_PER_FOLDER = 100
FOLDERS_PER_GROUP = 10
DISTINCT_CLIPS = 20
COPIES_PER_CLIP = 4  # the original and three duplicates under other names
SEED = 20240611
PATTERNS = [
    "testsrc2", "smptebars", "rgbtestsrc", "testsrc", "smptehdbars", "yuvtestsrc", "pal75bars", "pal100bars",
    "colorspectrum", "mandelbrot",
]
CLIP_SUFFIXES = [".mp4", ".mov", ".mkv", ".mp4"]
WORDS = "clip take scene shot camera roll audio sync note edit frame grade log proxy export".split()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000, help="files in the tree (default 10000)")
    parser.add_argument("--keep", action="store_true", help="do not delete the generated tree")
    args = parser.parse_args()
    if args.files < DISTINCT_CLIPS * COPIES_PER_CLIP:
        parser.error(f"--files must be at least {DISTINCT_CLIPS * COPIES_PER_CLIP} (the video files)")
    return args


# ---- the tree --------------------------------------------------------------------------------------


def folder_for(slot: int) -> Path:
    """Slot i lives in group_GG/folder_FFF: 100 files per folder, 10 folders per group."""
    folder = slot // FILES_PER_FOLDER
    return Path(f"group_{folder // FOLDERS_PER_GROUP:02d}") / f"folder_{folder:03d}"


def make_distinct_clips(workdir: Path) -> list[Path]:
    """DISTINCT_CLIPS tiny clips with different bytes (pattern, rate, container and a metadata tag)."""
    clips = []
    for i in range(DISTINCT_CLIPS):
        suffix = CLIP_SUFFIXES[i % len(CLIP_SUFFIXES)]
        spec = ClipSpec(
            name=f"source_{i:02d}{suffix}",
            width=160,
            height=120,
            fps=25 if i % 2 == 0 else 30,
            seconds=0.5,
            pattern=PATTERNS[i % len(PATTERNS)],
            extra=["-metadata", f"comment=bench clip {i}"],
        )
        clips.append(make_clip(workdir / spec.name, spec))
    return clips


def write_non_video(path: Path, rng: random.Random) -> Path:
    """One small non-video file of a random kind; returns the path actually written (suffix chosen here)."""
    kind = rng.choices(
        ["txt", "csv", "json", "log", "bin", "dat", "empty", "fake_mp4"], weights=[25, 10, 10, 10, 20, 15, 5, 5]
    )[0]
    if kind == "empty":
        target = path.with_suffix(".txt")
        target.touch()
    elif kind in ("bin", "dat"):
        target = path.with_suffix(f".{kind}")
        target.write_bytes(rng.randbytes(rng.randint(256, 16 * 1024)))
    elif kind == "csv":
        target = path.with_suffix(".csv")
        rows = [f"{rng.choice(WORDS)},{rng.randint(0, 9999)},{rng.random():.4f}" for _ in range(rng.randint(5, 100))]
        target.write_text("name,count,score\n" + "\n".join(rows) + "\n")
    elif kind == "json":
        target = path.with_suffix(".json")
        target.write_text(json.dumps({rng.choice(WORDS): rng.randint(0, 10**6) for _ in range(rng.randint(2, 40))}))
    else:  # txt, log, and text named .mp4 (has a video extension but is not video)
        target = path.with_suffix({"txt": ".txt", "log": ".log", "fake_mp4": ".mp4"}[kind])
        lines = [" ".join(rng.choices(WORDS, k=rng.randint(3, 12))) for _ in range(rng.randint(1, 60))]
        target.write_text("\n".join(lines) + "\n")
    return target


def build_tree(root: Path, files: int) -> dict[str, int]:
    """Write the tree; returns how many files of each sort were made."""
    rng = random.Random(SEED)
    clips = make_distinct_clips(root.parent / "clip-sources")
    video_slots = set(rng.sample(range(files), DISTINCT_CLIPS * COPIES_PER_CLIP))
    video_jobs = iter([(clip, copy) for copy in range(COPIES_PER_CLIP) for clip in clips])
    made: Counter[str] = Counter()
    for slot in range(files):
        folder = root / folder_for(slot)
        folder.mkdir(parents=True, exist_ok=True)
        if slot in video_slots:
            clip, copy = next(video_jobs)
            name = clip.stem.replace("source", "A001_C") + (f"_copy{copy}" if copy else "") + clip.suffix
            shutil.copyfile(clip, folder / name)
            made["video (duplicate copy)" if copy else "video (first copy)"] += 1
        else:
            target = write_non_video(folder / f"file_{slot:05d}", rng)
            made[f"non-video {target.suffix}" if target.stat().st_size else "non-video empty"] += 1
    shutil.rmtree(root.parent / "clip-sources")
    return dict(sorted(made.items()))


# ---- the scans -------------------------------------------------------------------------------------


def timed_scan(root: Path, store: CatalogResource) -> tuple[ScanReport, float]:
    started = time.perf_counter()
    report = scan([root], store)
    return report, time.perf_counter() - started


def remove_server(settings: CatalogSettings) -> None:
    """Stop the home's embedded server and delete its data (as root it lives under pg_runtime_root)."""
    server = embedded_server(settings)
    server.remove()
    if server.base_dir.exists():
        print(f"warning: embedded server data left at {server.base_dir}", file=sys.stderr)


def run_scans(root: Path, home: Path, files: int) -> dict[str, Any]:
    settings = CatalogSettings(home=home, database_url=None, dagster_database_url=None)
    try:
        store = CatalogApp(settings).store  # starts the embedded server and migrates: not part of the timing
        first, first_wall = timed_scan(root, store)
        repeat, repeat_wall = timed_scan(root, store)
    finally:
        remove_server(settings)
    assert len(first.files) == files, f"first scan saw {len(first.files)} files, expected {files}"
    assert len(repeat.files) == files, f"repeat scan saw {len(repeat.files)} files, expected {files}"
    assert first.probed == files, f"first scan probed {first.probed} of {files} files"
    assert repeat.probed == 0, f"repeat scan probed {repeat.probed} files; expected every answer from the cache"
    assert all(f.cached for f in repeat.files), "repeat scan returned uncached answers"
    kinds = Counter(f.kind for f in first.files)
    clip_ids = {f.fingerprint for f in first.files if f.kind == "video"}
    return {
        "files": files,
        "first_seconds": round(first_wall, 3),
        "first_files_per_s": round(files / first_wall, 1),
        "first_probed": first.probed,
        "repeat_seconds": round(repeat_wall, 3),
        "repeat_files_per_s": round(files / repeat_wall, 1),
        "repeat_probed": repeat.probed,
        "repeat_cached": sum(f.cached for f in repeat.files),
        "speedup_repeat_over_first": round(first_wall / repeat_wall, 1),
        "kinds": dict(sorted(kinds.items())),
        "distinct_clip_ids": len(clip_ids),
        "expected_videos": DISTINCT_CLIPS * COPIES_PER_CLIP,
        "expected_clip_ids": DISTINCT_CLIPS,
    }


def print_report(result: dict[str, Any], made: dict[str, int], build_seconds: float) -> None:
    print(f"tree: {result['files']} files built in {build_seconds:.1f} s")
    for sort, count in made.items():
        print(f"  {sort:<26} {count}")
    print(f"first scan : {result['first_seconds']:8.3f} s  {result['first_files_per_s']:9.1f} files/s  "
          f"probed {result['first_probed']}")
    print(f"repeat scan: {result['repeat_seconds']:8.3f} s  {result['repeat_files_per_s']:9.1f} files/s  "
          f"probed {result['repeat_probed']} (cached {result['repeat_cached']})")
    print(f"repeat scan is {result['speedup_repeat_over_first']}x the speed of the first scan")
    print(f"kinds found: {result['kinds']}; distinct clip ids: {result['distinct_clip_ids']}")
    videos = result["kinds"].get("video", 0)
    if videos != result["expected_videos"] or result["distinct_clip_ids"] != result["expected_clip_ids"]:
        print(f"note: the tree holds {result['expected_videos']} video files ({result['expected_clip_ids']} clips); "
              f"the scanner called {videos} files video ({result['distinct_clip_ids']} clip ids)")
    print("RESULT " + json.dumps(result, sort_keys=True))


def main() -> None:
    args = parse_args()
    os.environ.pop("DAGSTER_HOME", None)  # the catalog's own instance, never the caller's
    workdir = Path(tempfile.mkdtemp(prefix="vc-bench-scan-"))
    root = workdir / "tree"
    try:
        started = time.perf_counter()
        made = build_tree(root, args.files)
        build_seconds = time.perf_counter() - started
        result = run_scans(root, workdir / "home", args.files)
        print_report(result, made, build_seconds)
    finally:
        if args.keep:
            shutil.rmtree(workdir / "home", ignore_errors=True)
            print(f"tree kept at {root}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
