"""Hostile input for the whole pipeline: broken, lying and oddly named media, special files and bad links,
made by ffmpeg and Python at test time, each with the outcome an ingest must report for it.

Also the means to make a path unreadable when the tests run as root (they do here): root overrides file
permissions, so `without_root_override` runs a command inside a user namespace in which root keeps its
powers over every file except those owned by LOCKED_UID.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import time
from pathlib import Path

from pydantic import BaseModel

# A uid outside the namespace's map (0..65535): root inside that namespace cannot override its files.
LOCKED_UID = 70000
MAPPED_IDS = "0 0 65536\n"


def lock_out(path: Path) -> Path:
    """Make path unreadable to a command run through `without_root_override` (mode 0; as root, also owned by
    LOCKED_UID so that root in the namespace has no override either)."""
    if os.geteuid() == 0:
        os.chown(path, LOCKED_UID, LOCKED_UID, follow_symlinks=False)
    path.chmod(0)
    return path


def without_root_override(argv: list[str], *, env: dict[str, str] | None = None,
                          timeout: float = 300) -> subprocess.CompletedProcess:
    """Run argv so that file permissions apply to it. As a normal user, plainly. As root, in a new user
    namespace mapping uids and gids 0..65535 onto themselves: the catalog home and the database socket
    (owned by root and the server's user) work as before, files of LOCKED_UID are denied.

    `unshare` cannot write a map of many ids without newuidmap, so root outside writes it: the command
    waits on stdin until the map is in place."""
    if os.geteuid() != 0:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    proc = subprocess.Popen(
        ["unshare", "--user", "sh", "-c", 'read go && exec "$@"', "sh", *argv],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    mine = os.readlink("/proc/self/ns/user")
    deadline = time.monotonic() + 10
    while os.readlink(f"/proc/{proc.pid}/ns/user") == mine:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"unshare --user did not start: {proc.communicate()[1]}")
        time.sleep(0.005)
    for name in ("uid_map", "gid_map"):
        Path(f"/proc/{proc.pid}/{name}").write_text(MAPPED_IDS)
    stdout, stderr = proc.communicate("go\n", timeout=timeout)
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


def make_fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def make_socket(path: Path) -> Path:
    """A Unix socket file left behind (bound, then closed): stat says socket, open fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
    return path
