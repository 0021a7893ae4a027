"""The embedded server: one server from concurrent first starts, reuse, stop, and no widened permissions."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from catalog_resources.embedded_pg import EmbeddedPostgres
from catalog_resources.settings import CatalogSettings

REPO = Path(__file__).resolve().parent.parent
START_SCRIPT = """
import json, sys
from pathlib import Path
from catalog_resources.embedded_pg import EmbeddedPostgres
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
