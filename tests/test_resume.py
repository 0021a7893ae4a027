"""Ingest finishes what a fault left: kill -9 mid-batch, a full disk, a file replaced mid-run, a second
ingest of the same folder at once, a dated camera file. Real CLI processes, real Postgres, real Dagster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from dagster import DagsterRunStatus

from catalog_resources.media.samples import ClipSpec, make_clip

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "catalog_cli.main"]
QUICK = ["--disable", "ai_analysis,embeddings"]  # resume does not depend on which steps; keep it fast
QUICK_STEPS = {"clip_source", "technical_metadata", "proxy", "thumbnails", "frame_analysis", "faces", "speakers", "catalog_record"}


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


def ingest_json(*args: str) -> tuple[int, dict, str]:
    result = cli("ingest", "--json", *args)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode in (0, 1), result.stderr[-3000:]
    return result.returncode, json.loads(result.stdout), result.stderr


def rows(sql: str, *params):
    with psycopg.connect(os.environ["VIDEO_CATALOG_DATABASE_URL"]) as conn:
        return conn.execute(sql, params).fetchall()


def made_steps() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for clip_id, asset in rows("SELECT clip_id, asset FROM asset_versions"):
        found.setdefault(clip_id, set()).add(asset)
    return found


def media_files(home: Path) -> list[Path]:
    return sorted(p for p in (home / "media").rglob("*") if p.is_file()) if (home / "media").exists() else []


def assert_no_orphans(home: Path) -> None:
    """Every file under media/<clip>/ is a recorded step's sidecar or a file such a sidecar names."""
    recorded = made_steps()
    for path in media_files(home):
        clip_id = path.relative_to(home / "media").parts[0]
        assert not path.name.startswith(".partial-") and not path.name.endswith(".tmp"), path
        if path.suffix == ".json" and path.parent.name == clip_id:
            assert path.stem in recorded.get(clip_id, set()), f"sidecar of a step never recorded: {path}"
            continue
        named = False
        for asset in recorded.get(clip_id, set()):
            sidecar = home / "media" / clip_id / f"{asset}.json"
            if sidecar.exists() and str(path) in sidecar.read_text():
                named = True
        assert named, f"orphan file: {path}"


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("resume-src")
    return [
        make_clip(folder / f"clip {i}.mp4", ClipSpec(name=f"clip {i}.mp4", width=640, height=360, seconds=3,
                                                     pattern=pattern))
        for i, pattern in enumerate(["testsrc2", "smptebars", "mandelbrot", "rgbtestsrc", "testsrc", "yuvtestsrc"])
    ]


def copy_to(folder: Path, files: list[Path]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        (folder / f.name).write_bytes(f.read_bytes())
    return folder


def test_dated_camera_file_catalogs_with_its_recording_date(catalog_env, tmp_path):
    """A datetime in catalog_record's metadata failed every dated file (DagsterInvalidMetadata)."""
    dated = tmp_path / "dated.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:duration=2",
                    "-metadata", "creation_time=2024-05-03T10:11:12Z", str(dated)], check=True)
    code, summary, stderr = ingest_json(str(dated), "--disable", "proxy,thumbnails,frame_analysis,faces,speakers,ai_analysis,embeddings")
    assert summary["failed"] == [] and code == 0, (summary["failed"], stderr)
    recorded = rows("SELECT recorded_at FROM catalog_records")
    assert [r[0].isoformat() for r in recorded] == ["2024-05-03T10:11:12+00:00"]


def test_kill_9_mid_batch_then_plain_ingest_finishes(catalog_env, clips, tmp_path):
    folder = copy_to(tmp_path / "shoot", clips)
    home = Path(os.environ["VIDEO_CATALOG_HOME"])
    proc = subprocess.Popen([*CLI, "ingest", "--json", str(folder), *QUICK], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True,
                            env={**os.environ, "VIDEO_CATALOG_BATCH_SIZE": "3"})
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # kill once some clips have some steps and none has all
        made = made_steps() if proc.poll() is None else {}
        if any("proxy" in s for s in made.values()):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the ingest finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = made_steps()
    assert not all(before.get(c, set()) >= QUICK_STEPS for c in before) or len(before) < len(clips), before

    # `list` says the truth about the half-done clips
    listed = json.loads(cli("list", "--json").stdout)
    assert listed and any(c["status"] != "complete" for c in listed), listed

    code, summary, stderr = ingest_json(str(folder), *QUICK)
    assert code == 0, stderr
    assert summary["failed"] == [] and summary["in_progress"] == []
    assert len(summary["new"]) + len(summary["resumed"]) + len(summary["existing"]) == len(clips)
    assert summary["resumed"], "clips the killed run left half-done must be reported as resumed"
    after = made_steps()
    assert len(after) == len(clips) and all(s == QUICK_STEPS for s in after.values()), after
    assert len(rows("SELECT clip_id FROM clips")) == len(clips)
    assert_no_orphans(home)

    # the run the killed process left STARTED is failed now, not hanging
    from tests.test_ingest import dagster_instance

    instance = dagster_instance()
    statuses = [r.status for r in instance.get_runs()]
    assert DagsterRunStatus.STARTED not in statuses and DagsterRunStatus.FAILURE in statuses, statuses

    listed = json.loads(cli("list", "--json").stdout)
    assert sorted(c["status"] for c in listed) == ["incomplete: missing ai_analysis, embeddings"] * len(clips)

    code, summary, _ = ingest_json(str(folder), *QUICK)  # nothing left: a plain re-run changes nothing
    assert code == 0 and len(summary["existing"]) == len(clips) and not summary["resumed"]


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)]).returncode != 0:
        pytest.fail("mounting a tmpfs needs root (the test suite runs as root here)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)])


def test_full_disk_fails_its_clips_cleanly_and_plain_ingest_finishes_after(catalog_env, clips, tmp_path,
                                                                          small_disk, monkeypatch):
    home = small_disk / "home"
    monkeypatch.setenv("VIDEO_CATALOG_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))  # Dagster's own logs are not the media store
    big = tmp_path / "big.mp4"
    make_clip(big, ClipSpec(name="big.mp4", width=1920, height=1080, seconds=6, pattern="mandelbrot",
                            extra=["-g", "1", "-crf", "8"]))
    folder = copy_to(tmp_path / "shoot", [big, *clips[:2]])
    (small_disk / "filler").write_bytes(os.urandom(2_200_000))  # leave ~0.8 MB for the media store

    code, summary, stderr = ingest_json(str(folder), *QUICK)
    assert code == 1 and summary["failed"], summary
    assert all("space" in (f["reason"] or "").lower() for f in summary["failed"]), summary["failed"]
    assert len(stderr.splitlines()) < 20, stderr  # no tracebacks on the terminal
    assert_no_orphans(home)
    failed_ids = {f["clip_id"] for f in summary["failed"]}
    listed = {c["clip_id"]: c["status"] for c in json.loads(cli("list", "--json").stdout)}
    for clip_id in failed_ids & set(listed):
        assert listed[clip_id].startswith("failed: "), listed

    (small_disk / "filler").unlink()
    subprocess.run(["mount", "-o", "remount,size=200m", str(small_disk)], check=True)
    code, summary, stderr = ingest_json(str(folder), *QUICK)
    assert code == 0 and summary["failed"] == [], stderr
    after = made_steps()
    assert len(after) == 3 and all(s == QUICK_STEPS for s in after.values()), after
    assert rows("SELECT count(*) FROM clip_failures")[0][0] == 0
    assert_no_orphans(home)


def test_file_replaced_mid_run_keeps_ids_true_to_content(catalog_env, clips, tmp_path):
    """The scan fingerprints the file, then it is replaced before clip_source hashes it."""
    from catalog_assets.catalog_app import CatalogApp
    from catalog_resources.settings import CatalogSettings

    folder = copy_to(tmp_path / "shoot", clips[:3])
    victim = folder / clips[0].name
    replacement = clips[4].read_bytes()

    def replace_once(scanned) -> None:
        if scanned.path.endswith(clips[2].name):
            victim.write_bytes(replacement)

    app = CatalogApp(CatalogSettings())
    summary = app.ingest([folder], steps=["clip_source", "catalog_record"], on_scan=replace_once)
    failed = {Path(f.path).name: f.reason for f in summary.failed}
    assert list(failed) == [victim.name] and "changed while" in failed[victim.name], failed
    for clip_id, md5 in rows("SELECT clip_id, md5 FROM clips"):  # no id stands for content it did not hash
        source = rows("SELECT path FROM clip_sources WHERE clip_id = %s AND online", clip_id)
        assert source, clip_id

    code, summary, _ = ingest_json(str(folder), "--disable", "proxy,thumbnails,frame_analysis,faces,speakers,ai_analysis,embeddings")
    assert code == 0, summary
    online = rows("SELECT path, count(*) FROM clip_sources WHERE online GROUP BY path")
    assert sorted((Path(p).name, n) for p, n in online) == sorted((c.name, 1) for c in clips[:3])
    import hashlib

    victim_md5 = hashlib.md5(victim.read_bytes()).hexdigest()
    assert rows("SELECT count(*) FROM clips c JOIN clip_sources s USING (clip_id) WHERE s.path = %s AND s.online"
                " AND c.md5 = %s", str(victim), victim_md5)[0][0] == 1


def test_two_ingests_at_once_do_the_work_once(catalog_env, clips, tmp_path):
    folder = copy_to(tmp_path / "shoot", clips)
    args = [*CLI, "ingest", "--json", str(folder), *QUICK]
    first = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not rows("SELECT 1 FROM ingest_claims"):
        time.sleep(0.05)
    second = subprocess.run(args, capture_output=True, text=True, timeout=300)
    out, err = first.communicate(timeout=300)
    one, two = json.loads(out), json.loads(second.stdout)
    assert first.returncode == 0 and second.returncode == 0, (err, second.stderr)
    assert len(one["new"]) == len(clips), one
    assert len(two["in_progress"]) + len(two["existing"]) == len(clips) and two["in_progress"], two
    assert all("another ingest" in i["reason"] for i in two["in_progress"])

    from dagster import AssetKey, DagsterEventType, EventRecordsFilter

    from tests.test_ingest import dagster_instance

    instance = dagster_instance()
    events = instance.get_event_records(EventRecordsFilter(
        event_type=DagsterEventType.ASSET_MATERIALIZATION, asset_key=AssetKey("clip_source")))
    assert len(events) == len(clips)  # each clip's work done once, not twice
    assert rows("SELECT count(*) FROM ingest_claims")[0][0] == 0


def test_database_stopped_mid_run_is_one_line_and_plain_ingest_finishes(clips, tmp_path, monkeypatch):
    """The embedded server of a home of its own is stopped while an ingest writes to it."""
    home = tmp_path / "own home"
    for key in ("VIDEO_CATALOG_DATABASE_URL", "VIDEO_CATALOG_DAGSTER_DATABASE_URL", "VIDEO_CATALOG_DAGSTER_PG_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("VIDEO_CATALOG_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    folder = copy_to(tmp_path / "shoot", clips)
    assert cli("db", "start").returncode == 0  # the home's own server, migrated
    url = cli("db", "url").stdout.strip()
    assert url.startswith("postgresql://"), url
    try:
        proc = subprocess.Popen([*CLI, "ingest", str(folder), *QUICK], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env={**os.environ, "VIDEO_CATALOG_BATCH_SIZE": "2"})
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            with psycopg.connect(url) as conn:
                if conn.execute("SELECT count(*) FROM asset_versions WHERE asset = 'proxy'").fetchone()[0]:
                    break
            time.sleep(0.05)
        assert proc.poll() is None, ("the ingest finished before the database could be stopped", proc.communicate())
        assert cli("db", "stop").returncode == 0
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 2, (out, err)
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) <= 3 and "Traceback" not in err and "database" in err.lower(), err

        result = cli("ingest", "--json", str(folder), *QUICK)  # starts the server again and finishes the work
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
        with psycopg.connect(url) as conn:
            made = conn.execute("SELECT clip_id, count(*) FROM asset_versions GROUP BY clip_id").fetchall()
            started = conn.execute("SELECT count(*) FROM clip_failures").fetchone()[0]
        assert len(made) == len(clips) and all(n == len(QUICK_STEPS) for _, n in made), made
        assert started == 0
        listed = json.loads(cli("list", "--json").stdout)
        assert {c["status"] for c in listed} == {"incomplete: missing ai_analysis, embeddings"}
    finally:
        from catalog_resources.store.endpoint import embedded_server
        from catalog_resources.settings import CatalogSettings

        embedded_server(CatalogSettings()).remove()  # this home's cluster: stopped and deleted


def test_metadata_only_clip_is_complete_with_three_steps_and_stays_so(catalog_env, tmp_path):
    """A clip no decoder here reads gets clip_source, technical_metadata and its search row, and a plain re-run
    does not try the frame steps again."""
    from tests.tech_media import make_lying_media

    folder = tmp_path / "card"
    folder.mkdir()
    (folder / "A001_C002.mov").write_bytes(make_lying_media(tmp_path / "lying")["no_decoder.mov"].read_bytes())
    code, summary, _ = ingest_json(str(folder))  # the full default pipeline
    assert code == 0 and len(summary["new"]) == 1, summary
    assert set(made_steps().popitem()[1]) == {"clip_source", "technical_metadata", "catalog_record"}
    listed = json.loads(cli("list", "--json").stdout)
    assert [c["status"] for c in listed] == ["metadata-only: no decoder for R3D1"]
    hits = json.loads(cli("search", "KOMODO", "--mode", "text", "--json").stdout)
    assert [h["clip_id"] for h in hits] == [listed[0]["clip_id"]]  # found by its metadata
    code, summary, _ = ingest_json(str(folder))
    assert code == 0 and len(summary["existing"]) == 1 and not summary["resumed"], summary


def test_kill_9_during_ai_analysis_frees_its_pool_slot(catalog_env, clips, tmp_path):
    """The killed run held the `ai` pool's only slot: a plain re-run used to wait for it forever."""
    folder = copy_to(tmp_path / "shoot", clips[:2])
    proc = subprocess.Popen([*CLI, "ingest", "--json", str(folder)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    from tests.test_ingest import dagster_instance

    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if rows("SELECT count(*) FROM asset_versions WHERE asset = 'frame_analysis'")[0][0] == 2:
            break  # ai_analysis (and its slot in the `ai` pool) comes next, before or after faces
        time.sleep(0.05)
    storage = dagster_instance().event_log_storage
    while time.monotonic() < deadline and proc.poll() is None and not storage.get_concurrency_run_ids():
        time.sleep(0.05)
    time.sleep(0.5)
    assert proc.poll() is None, "the ingest finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()

    assert dagster_instance().event_log_storage.get_concurrency_run_ids(), "the killed run held no slot"
    result = cli("ingest", "--json", str(folder), timeout=400)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["resumed"]) == 2
    assert all(len(s) == 10 for s in made_steps().values()) and len(made_steps()) == 2
    assert not dagster_instance().event_log_storage.get_concurrency_run_ids()
