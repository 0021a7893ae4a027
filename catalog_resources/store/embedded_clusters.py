"""The clusters under the runtime root (as root, one per catalog home): which home owns each, and removing
those whose home is gone or has moved on to another cluster (`video-catalog db list-clusters`, `db prune`)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from catalog_resources.store.embedded_host import CLUSTER_ID, EmbeddedServerError, is_root, read_cluster_id, recorded_home
from catalog_resources.store.embedded_server import EmbeddedPostgres


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
    home = recorded_home(cluster_dir)
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
    if not is_root() or not folder.is_dir():
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
