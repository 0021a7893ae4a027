"""Hostile input through the real CLI: every file of tests/hostile_media.py's corpus ends complete (every default
step materialized), metadata-only with its reason, or named in `not_video` / `failed` with its reason; no
traceback; exit code 1 exactly when some file is expected to fail (a damaged MP4, a dangling symlink), else 0;
a second plain ingest reports the same, with every clip already cataloged.

And issue 13 item 8 end to end: special files, broken links, loops and unreadable paths are named in the
summary of `CatalogApp.ingest` and of `video-catalog ingest --json`; `ingest fifo.mp4` fails with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psycopg
import pytest

from catalog_assets.steps import select_steps
from catalog_resources.store.ingest_state import METADATA_ONLY_STEPS
from tests.hostile_media import (
    COMPLETE, METADATA_ONLY, lock_out, make_fifo, make_socket, without_root_override,
)
from tests.media import copy

pytestmark = pytest.mark.slow

CLI = str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "video-catalog")
CLIP_BUCKETS = ("new", "existing", "duplicates", "moved", "resumed", "in_progress")
BUCKETS = (*CLIP_BUCKETS, "not_video", "failed")
SPECIAL = "not a regular file: skipped without reading"


def _rows(sql: str, *params) -> list[tuple]:
    with psycopg.connect(os.environ["VIDEO_CATALOG_DATABASE_URL"]) as conn:
        return conn.execute(sql, params).fetchall()


def _ingest(*args: str) -> tuple[subprocess.CompletedProcess, dict]:
    result = subprocess.run([CLI, "ingest", *args, "--json"], capture_output=True, text=True, timeout=1800)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-4000:]
    try:
        return result, json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"stdout is not the JSON summary (exit {result.returncode}): {result.stdout[-2000:]!r} "
                    f"stderr: {result.stderr[-2000:]!r}")


def _clip_state(clip_id: str, default_steps: list[str]) -> str:
    """complete / metadata-only, or what is wrong, read back from clips and asset_versions (one row per
    (asset, clip) by its primary key)."""
    status = _rows("SELECT status FROM clips WHERE clip_id = %s", clip_id)
    if not status:
        return "no clips row"
    made = {r[0] for r in _rows("SELECT asset FROM asset_versions WHERE clip_id = %s", clip_id)}
    if (status[0][0] or "").startswith(METADATA_ONLY):
        reason = status[0][0][len(METADATA_ONLY):].lstrip(": ")
        expected = {s for s in default_steps if s in METADATA_ONLY_STEPS}
        if not reason:
            return "metadata-only without a reason"
        return METADATA_ONLY if made == expected else f"metadata-only with steps {sorted(made)}"
    missing = [s for s in default_steps if s not in made]
    return COMPLETE if not missing else f"incomplete, missing {missing} (status {status[0][0]!r})"


def _listings(summary: dict, root: Path) -> dict[str, list[tuple[str, dict]]]:
    """name relative to root -> every (bucket, item) that lists it."""
    found: dict[str, list[tuple[str, dict]]] = {}
    for bucket in BUCKETS:
        for item in summary.get(bucket, []):
            found.setdefault(str(Path(item["path"]).relative_to(root)), []).append((bucket, item))
    return found


def _mismatches(summary: dict, root: Path, expected: dict[str, str], default_steps: list[str]) -> list[str]:
    """One line per file not reported as expected (all of them, so a failure names every defect at once)."""
    wrong = []
    listings = _listings(summary, root)
    for name in sorted(set(expected) | set(listings)):
        want, got = expected.get(name, "not in the corpus"), listings.get(name, [])
        if len(got) != 1:
            wrong.append(f"{name!r}: expected {want!r}, listed {len(got)} times: {got}")
            continue
        bucket, item = got[0]
        if want in (COMPLETE, METADATA_ONLY):
            state = _clip_state(item["clip_id"], default_steps) if bucket == "new" else f"{bucket}: {item['reason']}"
            if state != want:
                wrong.append(f"{name!r}: expected {want!r}, got {state!r}")
            continue
        want_bucket, _, want_reason = want.partition(": ")
        if bucket != want_bucket or not item["reason"] or want_reason not in item["reason"]:
            wrong.append(f"{name!r}: expected {want!r}, got {bucket}: {item['reason']!r}")
    return wrong


def test_hostile_corpus_every_file_complete_or_named(catalog_env, hostile_corpus):
    root, expected = hostile_corpus.root, hostile_corpus.expected
    default_steps = select_steps()
    expected_code = 1 if any(v.startswith("failed") for v in expected.values()) else 0

    first, summary = _ingest(str(root))
    wrong = _mismatches(summary, root, expected, default_steps)
    assert not wrong, "\n".join(wrong)
    assert first.returncode == expected_code, first.stderr[-4000:]

    # a second plain ingest: every clip already cataloged, the same files named for the same reasons
    second, again = _ingest(str(root))
    clips = {n for n, v in expected.items() if v in (COMPLETE, METADATA_ONLY)}
    listings = _listings(again, root)
    wrong = [f"{name!r}: second run listed {listings.get(name)}" for name in sorted(clips)
             if [b for b, _ in listings.get(name, [])] != ["existing"]]
    assert not wrong, "\n".join(wrong)
    for bucket in ("not_video", "failed"):
        assert sorted(map(json.dumps, again[bucket])) == sorted(map(json.dumps, summary[bucket])), bucket
    assert second.returncode == first.returncode, second.stderr[-4000:]


# ---- item 8 end to end: nothing skipped silently ---------------------------------------------------------


def _special_tree(root: Path) -> dict[str, tuple[str, str]]:
    """Special files and bad links under root -> (bucket, reason) the summary must give each."""
    fifo = make_fifo(root / "fifo.mp4")
    sock = make_socket(root / "s.sock")
    dangling = root / "gone.mp4"
    dangling.symlink_to(root.parent / "unmounted" / "gone.mp4")
    loop = root / "sub" / "back"
    loop.parent.mkdir()
    loop.symlink_to(root, target_is_directory=True)
    return {
        str(fifo): ("not_video", f"has a video extension but is not video: FIFO (named pipe), {SPECIAL}"),
        str(sock): ("not_video", f"socket, {SPECIAL}"),
        str(dangling): ("failed", f"dangling symlink to {root.parent / 'unmounted' / 'gone.mp4'}"),
        str(loop): ("not_video", f"symlink loop: {loop} leads back to {root}, already scanned"),
    }


def _named(summary) -> dict[str, tuple[str, str]]:
    if not isinstance(summary, dict):
        summary = summary.model_dump()
    return {item["path"]: (bucket, item["reason"]) for bucket in BUCKETS for item in summary.get(bucket, [])}


@pytest.mark.timeout(300)  # a FIFO opened for reading blocks: the timeout makes that a failure, not a hang
def test_catalog_app_ingest_names_special_files(catalog_env, tmp_path):
    from catalog_assets.catalog_app import CatalogApp

    root = tmp_path / "tree"
    root.mkdir()
    expected = _special_tree(root)
    summary = CatalogApp(catalog_env).ingest([root], steps=select_steps())
    assert _named(summary) == expected


@pytest.mark.timeout(600)
def test_cli_names_special_and_unreadable_paths(catalog_env, tmp_path, media_library):
    """As root, the unreadable folder and file are enforced by a user namespace (tests/hostile_media.py)."""
    root = tmp_path / "tree"
    root.mkdir()
    expected = _special_tree(root)
    secret = lock_out(copy(media_library["short.mp4"], root / "secret.mp4"))
    copy(media_library["short.mp4"], root / "locked" / "inside.mp4")
    locked = lock_out(root / "locked")
    expected[str(secret)] = ("failed", "permission denied")
    expected[str(locked)] = ("failed", "cannot read folder: Permission denied")

    result = without_root_override([CLI, "ingest", str(root), "--json"], env=dict(os.environ), timeout=600)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-4000:]
    assert _named(json.loads(result.stdout)) == expected
    assert result.returncode == 1, result.stderr[-4000:]

    fifo = root / "fifo.mp4"
    result = subprocess.run([CLI, "ingest", str(fifo), "--json"], capture_output=True, text=True, timeout=300)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-4000:]
    assert _named(json.loads(result.stdout)) == {
        str(fifo): ("failed", f"has a video extension but is not video: FIFO (named pipe), {SPECIAL}")}
    assert result.returncode == 1, result.stderr[-4000:]
