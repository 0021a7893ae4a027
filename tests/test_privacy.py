"""Footage can be private: after a real ingest nothing in the catalog home is readable by anyone but its owner."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from catalog_resources.media.samples import ClipSpec, make_clip

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "catalog_cli.main"]


def _open_to_others(home: Path) -> list[str]:
    """Every file or folder under the home (the home included) with a group or other permission bit."""
    wide = []
    for root, dirs, files in os.walk(home):
        for path in [Path(root), *(Path(root) / name for name in dirs + files)]:
            info = path.lstat()
            if not stat.S_ISLNK(info.st_mode) and stat.S_IMODE(info.st_mode) & 0o077:
                wide.append(f"{oct(stat.S_IMODE(info.st_mode))} {path.relative_to(home)}")
    return sorted(set(wide))


def test_ingest_leaves_the_home_and_every_product_private(catalog_env, tmp_path):
    home = catalog_env.home
    home.mkdir(parents=True)
    home.chmod(0o755)  # an existing home of ours, made wide by an older version: narrowed, contents private
    clip = make_clip(tmp_path / "footage" / "interview.mp4",
                     ClipSpec(name="interview.mp4", width=320, height=180, seconds=2, speech="the patient said yes"))
    # A shell's usual umask: without the catalog's own, every product would come out 0644 / 0755
    result = subprocess.run([*CLI, "ingest", "--json", str(clip.parent)], capture_output=True, text=True,
                            timeout=600, umask=0o022)
    assert result.returncode == 0, result.stderr[-3000:]

    made = {p.name for p in home.rglob("*")}
    assert {"proxy.mp4", "audio_16k.wav", "contact_sheet.jpg", "clip_source.json", "ai_analysis.json",
            "dagster.yaml"} <= made, sorted(made)
    assert any(p.suffix == ".jpg" and p.name.startswith("thumb_") for p in home.rglob("*"))
    assert any((home / "dagster").rglob("*.out")) or any((home / "dagster" / "storage").iterdir())
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert _open_to_others(home) == []
