"""SQL for the scan cache (scanned_files): what the scanner last saw at each path, so an unchanged file is not
probed again.

A mixin of CatalogQueries (which provides `connect`).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path

import psycopg

from catalog_resources.models.clips import ScannedFile

PROBE_VERSION = 5  # bump when the scanner's classification changes, so cached answers are redone


class ScanCacheQueries:
    def connect(self) -> AbstractContextManager[psycopg.Connection]:  # provided by CatalogQueries
        raise NotImplementedError

    def scanned_under(self, roots: Iterable[Path]) -> dict[str, ScannedFile]:
        """What was last seen under these roots, keyed by path (one indexed range query per root)."""
        result: dict[str, ScannedFile] = {}
        with self.connect() as conn:
            for root in roots:
                prefix = str(root).rstrip("/") + "/"
                rows = conn.execute(
                    "SELECT path, size_bytes, mtime_ns, kind, fingerprint, reason, metadata_only FROM scanned_files "
                    "WHERE (path = %s OR (path >= %s AND path < %s)) AND probe_version = %s",
                    (str(root), prefix, prefix[:-1] + "0", PROBE_VERSION),  # '0' sorts right after '/'
                )
                for row in rows:
                    result[row["path"]] = ScannedFile(**row, cached=True)
        return result

    def record_scanned(self, files: Iterable[ScannedFile]) -> None:
        rows = [
            (f.path, f.size_bytes, f.mtime_ns, f.fingerprint, f.kind, f.reason, f.metadata_only, PROBE_VERSION)
            for f in files
            if not f.cached
        ]
        if not rows:
            return
        with self.connect() as conn, conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO scanned_files (path, size_bytes, mtime_ns, fingerprint, kind, reason, metadata_only,
                     probe_version)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (owner, path) DO UPDATE SET size_bytes = EXCLUDED.size_bytes, mtime_ns = EXCLUDED.mtime_ns,
                     fingerprint = EXCLUDED.fingerprint, kind = EXCLUDED.kind, reason = EXCLUDED.reason,
                     metadata_only = EXCLUDED.metadata_only, probe_version = EXCLUDED.probe_version,
                     last_seen = now()""",
                rows,
            )

    def forget_scanned(self, paths: list[str]) -> None:
        """Paths that vanished from a scanned root: drop them from the cache, mark their sources offline."""
        if paths:
            with self.connect() as conn:
                conn.execute("DELETE FROM scanned_files WHERE path = ANY(%s)", (paths,))
                conn.execute("UPDATE clip_sources SET online = FALSE WHERE path = ANY(%s)", (paths,))

    def paths_for_fingerprint(self, fingerprint: str) -> list[ScannedFile]:
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT path, size_bytes, mtime_ns, kind, fingerprint, reason FROM scanned_files "
                "WHERE fingerprint = %s AND kind = 'video' ORDER BY first_seen, path",
                (fingerprint,),
            )
            return [ScannedFile(**row, cached=True) for row in rows]
