"""The embedded server: one server from concurrent first starts, reuse, stop, no widened permissions, and (as
root) a cluster that belongs to its home: a re-created home starts empty, orphans are listed and pruned."""

import json
import os
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from catalog_resources.store.embedded_host import read_cluster_id
from catalog_resources.store.embedded_server import EmbeddedPostgres
from catalog_resources.settings import CatalogSettings

REPO = Path(__file__).resolve().parent.parent
START_SCRIPT = """
import json, sys
from pathlib import Path
from catalog_resources.store.embedded_server import EmbeddedPostgres
server = EmbeddedPostgres(Path(sys.argv[1]), Path(sys.argv[2]))
info = server.ensure_running()
print(json.dumps({"pid": info.pid, "url": server.url()}))
"""


def _modes(paths):
    return {str(p): stat.S_IMODE(os.stat(p).st_mode) for p in paths}


def _ancestors(path: Path):
    return [path, *path.parents]


@pytest.fixture
def private_home(tmp_path):
    """A catalog home inside a 0700 folder, the way ~/ looks for root on Debian (/root is 0700)."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    return private / "home"


def test_concurrent_first_starts_make_one_server_and_widen_nothing(private_home, tmp_path):
    runtime_root = Path("/var/lib/video-catalog") if os.geteuid() == 0 else tmp_path / "runtime"
    venv_dirs = _ancestors(Path(sys.executable).parent)
    before = _modes(_ancestors(private_home.parent) + venv_dirs)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", START_SCRIPT, str(private_home / "pg"), str(runtime_root)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    server = EmbeddedPostgres(private_home / "pg", runtime_root)
    try:
        assert all(p.returncode == 0 for p in procs), [o[1] for o in outputs]
        answers = [json.loads(o[0]) for o in outputs]
        assert answers[0]["pid"] == answers[1]["pid"]
        postmasters = subprocess.run(["pgrep", "-f", f"postgres -D {server.data_dir}"], capture_output=True, text=True)
        assert len(postmasters.stdout.split()) == 1
        with psycopg.connect(server.url()) as conn:
            assert conn.execute("SELECT 1").fetchone()[0] == 1
            assert conn.execute("SELECT default_version FROM pg_available_extensions WHERE name='vector'").fetchone()[0]
            assert conn.execute("SHOW listen_addresses").fetchone()[0] == ""  # unix socket only
        # reuse: a second handle attaches to the same process
        assert EmbeddedPostgres(private_home / "pg", runtime_root).ensure_running().pid == answers[0]["pid"]
        assert _modes(_ancestors(private_home.parent) + venv_dirs) == before
        assert stat.S_IMODE(os.stat(private_home.parent).st_mode) == 0o700
        assert server.stop() is True
        assert server.info() is None
        assert server.stop() is False
        # a pid file left by a crash whose pid now belongs to another live process (here: this test)
        stale = ["%d" % os.getpid(), str(server.data_dir), "0", "5432", str(server.socket_dir), "", "0 0", "ready"]
        (server.data_dir / "postmaster.pid").write_text("\n".join(stale) + "\n")
        assert server.info() is None
        restarted = server.ensure_running()
        assert restarted.pid != os.getpid()
        with psycopg.connect(server.url()) as conn:
            assert conn.execute("SELECT 1").fetchone()[0] == 1
    finally:
        server.remove()
    assert not server.base_dir.exists()


def test_db_cli_status_start_stop_on_embedded_server(private_home, tmp_path):
    runtime_root = Path("/var/lib/video-catalog") if os.geteuid() == 0 else tmp_path / "runtime"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEO_CATALOG_") and k != "DAGSTER_HOME"}
    env.update({"VIDEO_CATALOG_HOME": str(private_home), "VIDEO_CATALOG_PG_RUNTIME_ROOT": str(runtime_root)})
    cli = [sys.executable, "-m", "catalog_cli.main"]
    settings = CatalogSettings(home=private_home, pg_runtime_root=runtime_root)
    server = EmbeddedPostgres(settings.pg_dir, runtime_root)
    try:
        started = subprocess.run([*cli, "db", "start"], env=env, capture_output=True, text=True, timeout=120)
        assert started.returncode == 0, started.stderr
        status = subprocess.run([*cli, "db", "status", "--json"], env=env, capture_output=True, text=True, timeout=60)
        assert status.returncode == 0, status.stderr
        info = json.loads(status.stdout)
        assert info["running"] is True and info["embedded"] is True
        assert info["server_version"].startswith("18")
        assert info["pgvector_version"] == info["pgvector_available"]
        assert info["migrations"] == [p.stem for p in sorted((Path(__file__).parent.parent / "sql").glob("[0-9]*.sql"))]
        assert info["database_bytes"] > 0
        url = subprocess.run([*cli, "db", "url"], env=env, capture_output=True, text=True, timeout=60).stdout.strip()
        assert url == server.url() and "host=" in url
        stopped = subprocess.run([*cli, "db", "stop"], env=env, capture_output=True, text=True, timeout=60)
        assert stopped.returncode == 0 and "stopped" in stopped.stdout
        assert server.info() is None
    finally:
        server.remove()


def test_unreachable_database_is_a_one_line_error_with_exit_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEO_CATALOG_") and k != "DAGSTER_HOME"}
    env.update({
        "VIDEO_CATALOG_HOME": str(tmp_path / "home"),
        "VIDEO_CATALOG_DATABASE_URL": f"postgresql://postgres@/video_catalog?host={tmp_path}/nowhere",
    })
    result = subprocess.run([sys.executable, "-m", "catalog_cli.main", "list"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "cannot connect to the catalog database" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines) <= 3  # one message (Rich may wrap it)


def test_database_that_cannot_start_is_a_one_line_error_with_exit_2(tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEO_CATALOG_") and k != "DAGSTER_HOME"}
    # the server's folder would have to be made inside a regular file
    env.update({"VIDEO_CATALOG_HOME": str(blocker / "home"), "VIDEO_CATALOG_PG_RUNTIME_ROOT": str(blocker / "runtime")})
    result = subprocess.run([sys.executable, "-m", "catalog_cli.main", "db", "start"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "cannot prepare the embedded database" in result.stderr and str(blocker) in result.stderr
    assert "Traceback" not in result.stderr


# ---- as root: each home's cluster under the runtime root belongs to that home --------------------------------

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="clusters live under the runtime root only as root")


@pytest.fixture
def own_runtime_root():
    """A runtime root of this test's own, under /var/lib/video-catalog (which the server user can traverse), so
    listing and pruning never see another test session's clusters."""
    root = Path("/var/lib/video-catalog") / f"t-{uuid.uuid4().hex[:8]}"
    yield root
    for cluster in sorted((root / "clusters").glob("*")):
        EmbeddedPostgres(cluster / "pg", root, cluster_id=cluster.name).remove()
    shutil.rmtree(root, ignore_errors=True)


def _db(env: dict, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "catalog_cli.main", "db", *args], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def _cli_env(home: Path, runtime_root: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEO_CATALOG_") and k != "DAGSTER_HOME"}
    env.update({"VIDEO_CATALOG_HOME": str(home), "VIDEO_CATALOG_PG_RUNTIME_ROOT": str(runtime_root)})
    return env


def _clip_count(server: EmbeddedPostgres) -> int:
    with psycopg.connect(server.url()) as conn:
        return conn.execute("SELECT count(*) FROM clips").fetchone()[0]


def _add_clip(server: EmbeddedPostgres) -> None:
    with psycopg.connect(server.url()) as conn:
        conn.execute("INSERT INTO clips (clip_id, file_name, path, size_bytes, md5, fast_hash, fingerprint) "
                     "VALUES ('c1', 'a.mp4', '/x/a.mp4', 1, 'm', 'f', 'c1')")


@root_only
def test_recreated_home_gets_a_fresh_catalog_and_prune_removes_the_old_cluster(private_home, own_runtime_root):
    env = _cli_env(private_home, own_runtime_root)
    _db(env, "start")
    first_id = read_cluster_id(private_home)
    first = EmbeddedPostgres(private_home / "pg", own_runtime_root)
    assert first.base_dir == own_runtime_root / "clusters" / first_id
    _add_clip(first)
    first_pid = first.info().pid
    # the cluster and everything the home holds are private
    assert stat.S_IMODE(os.stat(private_home).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(private_home / "cluster-id").st_mode) == 0o600
    for folder in (first.base_dir, first.data_dir, first.socket_dir, first.log_path.parent):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder
    assert (first.base_dir / "home").read_text().strip() == str(private_home)

    shutil.rmtree(private_home)  # the user deletes the catalog and starts again; its old server still runs
    _db(env, "start")
    second = EmbeddedPostgres(private_home / "pg", own_runtime_root)
    assert read_cluster_id(private_home) != first_id
    assert second.info().pid != first_pid
    assert _clip_count(second) == 0  # a fresh, empty catalog, not the old one re-attached

    status = json.loads(_db(env, "status", "--json").stdout)
    assert [(c["cluster_id"], c["pid"]) for c in status["orphan_clusters"]] == [(first_id, first_pid)]
    assert status["orphan_clusters"][0]["size_bytes"] > 10_000_000
    dry = json.loads(_db(env, "prune", "--dry-run", "--json").stdout)
    assert [c["cluster_id"] for c in dry["clusters"]] == [first_id] and first.base_dir.exists()
    pruned = json.loads(_db(env, "prune", "--json").stdout)
    assert [c["cluster_id"] for c in pruned["clusters"]] == [first_id]
    assert not first.base_dir.exists()
    assert not Path(f"/proc/{first_pid}").exists() or not Path(f"/proc/{first_pid}/cmdline").read_bytes()
    assert json.loads(_db(env, "status", "--json").stdout)["orphan_clusters"] == []
    assert second.info() is not None and _clip_count(second) == 0  # the home's own cluster is untouched


@root_only
def test_a_home_from_before_cluster_ids_keeps_its_catalog(private_home, own_runtime_root):
    """A cluster made before ids has no `home` record and the home no `cluster-id`; the home's `pg` link (which
    lives in the home, so it is gone with it) adopts it; until then prune leaves it alone."""
    env = _cli_env(private_home, own_runtime_root)
    _db(env, "start")
    server = EmbeddedPostgres(private_home / "pg", own_runtime_root)
    _add_clip(server)
    cluster_id = server.cluster_id
    (private_home / "cluster-id").unlink()
    (server.base_dir / "home").unlink()

    status = json.loads(_db(env, "status", "--json").stdout)
    assert [c["cluster_id"] for c in status["unclaimed_clusters"]] == [cluster_id]
    assert json.loads(_db(env, "prune", "--json").stdout)["clusters"] == []

    _db(env, "start")
    assert read_cluster_id(private_home) == cluster_id
    assert (server.base_dir / "home").read_text().strip() == str(private_home)
    assert _clip_count(EmbeddedPostgres(private_home / "pg", own_runtime_root)) == 1
    status = json.loads(_db(env, "status", "--json").stdout)
    assert status["orphan_clusters"] == [] and "unclaimed_clusters" not in status
