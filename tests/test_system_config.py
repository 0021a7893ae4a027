"""`system status|healthchecks|tasks` and `config ...` against a real catalog: the embedded PostgreSQL, a real Dagster
instance with a real ingest run and a real failed run, the real ffmpeg / ExifTool binaries, and config.toml files.

Commands run in this process through Typer's runner (the console script's code without a Python start per call);
one real console-script call checks a bad config file ends a command in one line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import psycopg
import pytest

from catalog_resources.settings import CatalogSettings, load_settings


def cli(*args: str) -> subprocess.CompletedProcess:
    from typer.testing import CliRunner

    from catalog_cli.main import app

    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def catalog(module_catalog_env, media_library, tmp_path_factory):
    """One short clip ingested by the real runner (clip_source, technical_metadata: one successful Dagster run),
    and one failed run: a partition registered for a clip no scan ever saw, so clip_source fails on it."""
    from catalog_assets.catalog_app import CatalogApp
    from catalog_assets.ingest_runner import execute_clips, register_partitions

    folder = tmp_path_factory.mktemp("system-footage")
    shutil.copy2(media_library["short.mp4"], folder / "short.mp4")
    app = CatalogApp(CatalogSettings())
    summary = app.ingest([folder], steps=["clip_source", "technical_metadata"])
    (clip_id,) = [item.clip_id for item in summary.new]
    ghost = "0" * 16
    register_partitions(app.instance, {ghost: "ghost.mp4"})
    results = execute_clips(app.defs, app.instance, [ghost], ["clip_source"])
    assert not results[ghost].success
    return {"app": app, "clip_id": clip_id, "ghost": ghost, "failed_run": results[ghost].run_id}


# ------------------------------------------------------------------------------------------------ system status


def test_status_json_reports_real_values(catalog, module_catalog_env):
    result = cli("system", "status", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    with psycopg.connect(module_catalog_env.database_url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    assert info["database"]["server_version"] == version and info["database"]["pending_migrations"] == []
    assert info["database"]["database_bytes"] > 1_000_000
    ffmpeg_line = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.splitlines()[0]
    assert info["tools"]["ffmpeg"]["line"] == ffmpeg_line and info["tools"]["ffmpeg"]["version"] in ffmpeg_line
    exiftool = subprocess.run(["exiftool", "-ver"], capture_output=True, text=True).stdout.strip()
    assert info["tools"]["exiftool"]["version"] == exiftool
    assert info["tools"]["mediainfo"]["ok"] and info["tools"]["mediainfo"]["version"][0].isdigit()
    state = catalog["app"].store.clip_states()[catalog["clip_id"]].state  # incomplete: only two steps were run
    assert info["clips"] == {"total": 1, "by_state": {state: 1}}
    assert info["dagster"]["runs"]["failed"] == 1 and info["dagster"]["daemon_running"] is False
    assert info["dagster"]["home"] == str(Path(os.environ["DAGSTER_HOME"]))
    assert info["disk"]["free_bytes"] == pytest.approx(shutil.disk_usage(module_catalog_env.home).free, rel=0.05)
    assert {"whisper", "ocr", "spacy", "embedder", "faces"} <= set(info["models"])
    assert all(m["ok"] for m in info["models"].values()), info["models"]
    names = [c["name"] for c in info["checks"]]
    assert names[:2] == ["database", "dagster"] and "clips" in names


def test_healthchecks_pass_on_a_healthy_home(catalog):
    result = cli("system", "healthchecks")
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("ok: all ")


def test_healthchecks_fail_with_the_database_down_and_name_the_fix(catalog, monkeypatch, tmp_path):
    monkeypatch.setenv("VIDEO_CATALOG_DATABASE_URL", f"postgresql://nobody@/catalog?host={tmp_path}")
    result = cli("system", "healthchecks")
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert lines[0].startswith("problem: database: cannot connect to the catalog database")
    assert "video-catalog db start" in lines[0]
    data = json.loads(cli("system", "healthchecks", "--json").stdout)
    assert data["exit_code"] == 2 and {c["name"] for c in data["checks"] if c["level"] == "problem"} == {"database", "dagster"}


def test_healthchecks_fail_when_a_binary_is_missing(catalog, monkeypatch, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "exiftool").symlink_to(shutil.which("exiftool"))
    monkeypatch.setenv("PATH", str(bin_dir))
    result = cli("system", "healthchecks")
    assert result.returncode == 2
    assert result.stdout.splitlines() == ["problem: ffmpeg: not found on PATH; install it (Debian: apt-get install ffmpeg)"]


def test_watched_folders_need_the_daemon_and_must_exist(catalog, monkeypatch, tmp_path):
    monkeypatch.setenv("VIDEO_CATALOG_WATCH", f"{tmp_path}:{tmp_path / 'unmounted'}")
    result = cli("system", "healthchecks")
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        "problem: daemon: not running, so the watched folders are not cataloged; start it with `video-catalog ui` "
        "(webserver and daemon)",
        f"problem: watch: watched folders missing: {tmp_path / 'unmounted'}; mount them, or change "
        "`video-catalog config set watch FOLDER:FOLDER`"]


def test_config_and_status_imports(catalog):
    """`config show` is a read-only command: no Dagster, no model runtime (tests/test_layers.py's probe)."""
    from tests.test_layers import HEAVY, loaded_by

    assert loaded_by("config", "show", "--json") & set(HEAVY) == set()


# ------------------------------------------------------------------------------------------------- system tasks


def test_tasks_list_the_failed_run_with_its_clip(catalog):
    found = json.loads(cli("system", "tasks", "--status", "failed", "--json").stdout)
    assert list(found) == ["failed"]
    (task,) = found["failed"]
    assert task["run_id"] == catalog["failed_run"] and task["clips"] == [catalog["ghost"]]
    assert task["partitions"] == [f"ghost.mp4-{catalog['ghost']}"] and task["launched_by"].startswith("ingest pid ")
    table = cli("system", "tasks").stdout
    assert catalog["failed_run"][:8] in table and "ghost.mp4" in table


def test_retry_re_executes_the_failed_run(catalog):
    result = cli("system", "tasks", "--retry", catalog["failed_run"][:8], "--json")
    assert result.returncode == 1, result.stderr  # the ghost clip still has no file: it fails again
    retried = json.loads(result.stdout)
    assert retried["parent_run_id"] == catalog["failed_run"] and retried["clips"] == [catalog["ghost"]]
    run = catalog["app"].instance.get_run_by_id(retried["run_id"])
    assert run.parent_run_id == run.root_run_id == catalog["failed_run"] and run.status.value == "FAILURE"
    assert run.tags["dagster/partition"] == f"ghost.mp4-{catalog['ghost']}"
    again = cli("system", "tasks", "--retry", catalog["clip_id"][:8])
    assert again.returncode == 2 and "no such run" in again.stderr


def test_cancel_a_queued_run(catalog):
    from dagster import DagsterRunStatus
    from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
    from dagster._core.test_utils import create_run_for_test

    instance = catalog["app"].instance
    key = f"short.mp4-{catalog['clip_id']}"
    # A run as the sensor queues it for the daemon (which is not running here, so it stays queued).
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("video_catalog"), "__repository__"), "ingest")
    queued = create_run_for_test(instance, job_name="ingest", status=DagsterRunStatus.QUEUED, remote_job_origin=origin,
                                 tags={"dagster/partition": key, "dagster/sensor_name": "footage_sensor"})
    listed = json.loads(cli("system", "tasks", "--status", "queued", "--json").stdout)["queued"]
    assert [(t["run_id"], t["clips"], t["launched_by"]) for t in listed] == [
        (queued.run_id, [catalog["clip_id"]], "sensor footage_sensor")]
    warned = cli("system", "healthchecks")
    assert warned.returncode == 1 and "1 queued runs wait for it" in warned.stdout
    result = cli("system", "tasks", "--cancel", queued.run_id)
    assert result.returncode == 0 and "canceled" in result.stdout
    assert instance.get_run_by_id(queued.run_id).status == DagsterRunStatus.CANCELED
    again = cli("system", "tasks", "--cancel", queued.run_id[:8])
    assert again.returncode == 2 and "already ended (CANCELED)" in again.stderr


def test_cancel_a_run_of_an_ingest(catalog):
    """A run inside a live `ingest` names that process; one whose ingest is gone is marked canceled."""
    from dagster import DagsterRunStatus
    from dagster._core.test_utils import create_run_for_test

    from catalog_assets.ingest_runner import HOST_TAG, PID_TAG
    from catalog_resources.store.ingest_state import this_host

    instance = catalog["app"].instance
    gone = subprocess.Popen(["true"])
    gone.wait()
    runs = {pid: create_run_for_test(instance, job_name="ingest", status=DagsterRunStatus.STARTED,
                                     tags={PID_TAG: str(pid), HOST_TAG: this_host()})
            for pid in (os.getpid(), gone.pid)}
    live = cli("system", "tasks", "--cancel", runs[os.getpid()].run_id)
    assert live.returncode == 2 and f"runs inside `video-catalog ingest` (pid {os.getpid()})" in live.stderr
    assert instance.get_run_by_id(runs[os.getpid()].run_id).status == DagsterRunStatus.STARTED
    dead = cli("system", "tasks", "--cancel", runs[gone.pid].run_id, "--json")
    assert dead.returncode == 0 and json.loads(dead.stdout)["result"] == "marked canceled (its ingest process was gone)"
    assert instance.get_run_by_id(runs[gone.pid].run_id).status == DagsterRunStatus.CANCELED
    instance.report_run_canceled(runs[os.getpid()])  # leave no run "in progress" behind for the module's other tests


# ------------------------------------------------------------------------------------------------------- config


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A catalog home with no database: config commands never need one."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("VIDEO_CATALOG_HOME", str(home))
    for key in [k for k in os.environ if k.startswith("VIDEO_CATALOG_") and k != "VIDEO_CATALOG_HOME"]:
        monkeypatch.delenv(key)
    return home


def _show(key: str) -> dict:
    result = cli("config", "show", key, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["settings"][0]


def test_config_set_show_and_the_environment_wins(home, monkeypatch):
    assert _show("thumbnail_count")["source"] == "default"
    assert cli("config", "set", "thumbnail-count", "12").returncode == 0
    assert tomllib.loads((home / "config.toml").read_text()) == {"thumbnail_count": 12}
    assert (home / "config.toml").stat().st_mode & 0o777 == 0o600  # it may hold API keys
    assert load_settings().thumbnail_count == 12  # what every command, the definitions and the sensor read
    row = _show("VIDEO_CATALOG_THUMBNAIL_COUNT")
    assert (row["value"], row["source"]) == (12, "file")
    monkeypatch.setenv("VIDEO_CATALOG_THUMBNAIL_COUNT", "7")
    row = _show("thumbnail_count")
    assert (row["value"], row["source"], row["file_value"]) == (7, "env", 12)
    assert load_settings().thumbnail_count == 7
    monkeypatch.delenv("VIDEO_CATALOG_THUMBNAIL_COUNT")
    assert cli("config", "set", "watch", str(home)).returncode == 0
    assert cli("config", "set", "auto_refresh_cloud", "yes").returncode == 0
    settings = load_settings()
    assert settings.watch_folders == [home] and settings.auto_refresh_cloud is True
    from catalog_assets.definitions import build_definitions

    defs = build_definitions(settings)
    assert defs.resources["thumbnailer"].count == 12
    assert cli("config", "unset", "thumbnail_count").returncode == 0
    assert _show("thumbnail_count")["source"] == "default" and load_settings().thumbnail_count == 30


def test_config_set_refuses_bad_values_in_one_line(home):
    before = "thumbnail_count = 12\n"
    (home / "config.toml").write_text(before)
    for args, words in [
        (("thumbnail_count", "abc"), "thumbnail_count: 'abc' is not accepted"),
        (("thumbnail_count", "500"), "accepts a whole number >= 1 and <= 200"),
        (("thumbnail_format", "png"), "accepts one of jpeg, webp"),
        (("thumbnail_cont", "3"), "did you mean thumbnail_count"),
        (("home", "/elsewhere"), "set VIDEO_CATALOG_HOME in the environment"),
    ]:
        result = cli("config", "set", *args)
        assert result.returncode == 2, args
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert (home / "config.toml").read_text() == before


def test_config_init_keeps_comments_and_backup_restore_round_trip(home, tmp_path):
    assert cli("config", "init").returncode == 0
    assert cli("config", "init").returncode == 2  # never replaced without --force
    template = (home / "config.toml").read_text()
    assert tomllib.loads(template) == {} and "# thumbnail_count = 30" in template
    assert cli("config", "set", "thumbnail_count", "20").returncode == 0
    assert cli("config", "set", "watch", 'a "quoted" folder:/mnt/ünï').returncode == 0
    text = (home / "config.toml").read_text()
    assert "thumbnail_count = 20" in text and "# Candidate frames per clip" in text  # edited in place
    backup = tmp_path / "saved.toml"
    assert cli("config", "backup", str(backup)).returncode == 0 and backup.read_text() == text
    assert cli("config", "unset", "watch").returncode == 0
    assert cli("config", "restore", str(backup)).returncode == 0
    assert (home / "config.toml").read_text() == text
    assert load_settings().watch == 'a "quoted" folder:/mnt/ünï'
    bad = tmp_path / "bad.toml"
    bad.write_text("batch_size = 0\n")
    result = cli("config", "restore", str(bad))
    assert result.returncode == 2 and "nothing was restored" in result.stderr
    assert (home / "config.toml").read_text() == text


def test_a_bad_file_ends_a_command_in_one_line(home):
    (home / "config.toml").write_text("thumbnail_count = 999\n")
    result = subprocess.run([str(Path(sys.executable).with_name("video-catalog")), "config", "show"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: bad setting in {home / 'config.toml'}: thumbnail_count: Input should be less than or equal to 200; "
        "fix it with `video-catalog config set KEY VALUE` or `video-catalog config unset KEY`"]
    (home / "config.toml").write_text("thumbnail_count = \n")
    broken = cli("config", "show")
    assert broken.returncode == 2 and "is not valid TOML" in broken.stderr
    assert cli("config", "set", "thumbnail_count", "5").returncode == 2  # refuses to edit what it cannot read
    assert cli("config", "init", "--force").returncode == 0 and load_settings().thumbnail_count == 30
