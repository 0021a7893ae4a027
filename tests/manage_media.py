"""A small catalog for the catalog-management tests (collections, tags, segments, reports): a spoken interview,
a silent b-roll, a clip without audio, and a second clip under the same file name in another folder (so a file
name names two clips). Made by the product's own sample maker (ffmpeg + espeak-ng) and ingested once by the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from catalog_resources.media.samples import ClipSpec, make_clip
from tests.test_ingest import cli

SPEECH = ("Welcome to the rooftop interview. Today we talk about pricing for the new solar panels. "
          "Later the drone flies over the harbour at sunset.")
CLIPS = [
    ClipSpec(name="rooftop interview.mp4", width=640, height=360, fps=25, seconds=12, speech=SPEECH),
    ClipSpec(name="b-roll.mov", width=640, height=360, fps=30, seconds=2, pattern="smptebars"),
    ClipSpec(name="drone.mkv", width=320, height=240, fps=24, seconds=2, video_codec="libvpx-vp9", audio=False,
             pattern="mandelbrot", extra=["-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"]),
    ClipSpec(name="day2/b-roll.mov", width=320, height=180, fps=25, seconds=2, pattern="rgbtestsrc"),
]


def ingest_library(folder: Path, *extra: str, copies: dict[str, str] | None = None) -> dict[str, str]:
    """{relative name: clip id} of the clips, ingested by `video-catalog ingest --json`; `copies` {copy: original}
    are byte-for-byte copies made before the ingest (the same content at a second path)."""
    for spec in CLIPS:
        make_clip(folder / spec.name, spec)
    for copy, original in (copies or {}).items():
        (folder / copy).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(folder / original, folder / copy)
    result = cli("ingest", "--json", *extra, str(folder))
    assert result.returncode == 0, result.stderr
    by_path = {item["path"]: item["clip_id"] for item in json.loads(result.stdout)["new"]}
    return {spec.name: by_path[str(folder / spec.name)] for spec in CLIPS}


def run(*args: str) -> subprocess.CompletedProcess:
    """`video-catalog ARGS` run in this process (Typer's test runner: the real app, parser, error boundary and exit
    codes, without a Python start and a database handshake per call), as a CompletedProcess."""
    from typer.testing import CliRunner

    from catalog_cli.main import app

    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(["video-catalog", *args], result.exit_code, result.stdout, result.stderr)
