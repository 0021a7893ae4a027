"""SQL for what an ingest needs to finish what it started: step failures, in-flight claims, the pipeline's
code versions, and each clip's state (complete, in progress, failed, incomplete, stale, metadata-only).

A mixin of CatalogQueries (which provides `connect`), like analysis_store.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from pydantic import BaseModel, Field

from catalog_resources.processes import process_alive

METADATA_ONLY_PREFIX = "metadata-only"
# What a clip whose frames no decoder here can read still gets: its identity, its metadata, its search row.
METADATA_ONLY_STEPS = ("clip_source", "technical_metadata", "catalog_record")
FOREIGN_CLAIM_HOURS = 24  # a claim from another host is trusted this long (its process cannot be checked)


class ClipFailure(BaseModel):
    asset: str
    error: str
    run_id: str | None = None


class ClipState(BaseModel):
    """What `list` and `show` say about a clip's progress through the pipeline."""

    clip_id: str
    state: str = Field(description="complete, in progress, failed, incomplete, stale or metadata-only")
    detail: str = ""
    missing: list[str] = Field(default_factory=list)
    stale: list[str] = Field(default_factory=list)
    failures: list[ClipFailure] = Field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.state}: {self.detail}" if self.detail else self.state


class Claim(BaseModel):
    clip_id: str
    host: str
    pid: int


def this_host() -> str:
    return socket.gethostname()


def _claim_live(row: Mapping[str, Any], host: str) -> bool:
    """A claim stands while its process runs (this host) or, from another host, for FOREIGN_CLAIM_HOURS."""
    return process_alive(row["pid"]) if row["host"] == host else not row["old"]


class IngestStateQueries:
    def connect(self) -> AbstractContextManager[psycopg.Connection]: ...  # provided by CatalogQueries

    # ---- failures ---------------------------------------------------------------------------------

    def record_failures(self, failures: Mapping[str, ClipFailure]) -> None:
        """clip id -> its failed step; replaces that step's earlier failure."""
        if not failures:
            return
        with self.connect() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO clip_failures (clip_id, asset, error, run_id) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (clip_id, asset) DO UPDATE SET error = EXCLUDED.error, run_id = EXCLUDED.run_id,"
                " failed_at = now()",
                [(clip_id, f.asset, f.error[:2000], f.run_id) for clip_id, f in failures.items()],
            )

    @staticmethod
    def clear_failures(conn: psycopg.Connection, asset: str, clip_ids: list[str]) -> None:
        """In the IO manager's transaction: the step succeeded, so its last failure no longer stands."""
        conn.execute("DELETE FROM clip_failures WHERE asset = %s AND clip_id = ANY(%s)", (asset, clip_ids))

    # ---- paths whose content changed ----------------------------------------------------------------

    def retire_replaced_paths(self, seen: Iterable[tuple[str, str]]) -> int:
        """(path, fingerprint) the scan found: a clip that was seen at that path with other content is no
        longer online there, so one path never shows two clips."""
        pairs = list(seen)
        if not pairs:
            return 0
        with self.connect() as conn:
            cur = conn.execute(
                "UPDATE clip_sources s SET online = false FROM unnest(%s::text[], %s::text[]) AS n(path, clip_id)"
                " WHERE s.path = n.path AND s.clip_id <> n.clip_id AND s.online",
                ([p for p, _ in pairs], [c for _, c in pairs]),
            )
            return cur.rowcount

    # ---- claims -----------------------------------------------------------------------------------

    def claim_clips(self, clip_ids: Iterable[str]) -> tuple[list[str], list[Claim]]:
        """Claim clips for this process; returns (claimed, held by another live ingest).

        A claim whose process is gone (kill -9, a crash, a lost database) is taken over.
        """
        wanted = list(dict.fromkeys(clip_ids))
        if not wanted:
            return [], []
        host, pid = this_host(), os.getpid()
        with self.connect() as conn:
            # DO NOTHING, not DO UPDATE: a second ingest inserting the same clip waits for the first's
            # commit and then leaves the claim to it
            claimed = [r["clip_id"] for r in conn.execute(
                "INSERT INTO ingest_claims (clip_id, host, pid) SELECT unnest(%s::text[]), %s, %s"
                " ON CONFLICT (clip_id) DO NOTHING RETURNING clip_id", (wanted, host, pid))]
            rest = [c for c in wanted if c not in set(claimed)]
            rows = conn.execute(
                "SELECT clip_id, host, pid, started_at < now() - make_interval(hours => %s) AS old"
                " FROM ingest_claims WHERE clip_id = ANY(%s) FOR UPDATE",
                (FOREIGN_CLAIM_HOURS, rest),
            ).fetchall()
            held: list[Claim] = []
            for row in rows:
                mine = row["host"] == host and row["pid"] == pid
                live = not mine and _claim_live(row, host)
                if live:
                    held.append(Claim(clip_id=row["clip_id"], host=row["host"], pid=row["pid"]))
                    continue
                conn.execute("UPDATE ingest_claims SET host = %s, pid = %s, started_at = now() WHERE clip_id = %s",
                             (host, pid, row["clip_id"]))
                claimed.append(row["clip_id"])
            released = [c for c in rest if c not in {r["clip_id"] for r in rows}]  # finished meanwhile
            for clip_id in released:
                conn.execute("INSERT INTO ingest_claims (clip_id, host, pid) VALUES (%s, %s, %s)"
                             " ON CONFLICT (clip_id) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid,"
                             " started_at = now()", (clip_id, host, pid))
                claimed.append(clip_id)
        order = {c: i for i, c in enumerate(wanted)}
        claimed.sort(key=order.__getitem__)
        return claimed, held

    def release_claims(self, clip_ids: Iterable[str]) -> None:
        ids = list(clip_ids)
        if not ids:
            return
        with self.connect() as conn:
            conn.execute(
                "DELETE FROM ingest_claims WHERE clip_id = ANY(%s) AND host = %s AND pid = %s",
                (ids, this_host(), os.getpid()),
            )

    def live_claims(self) -> dict[str, Claim]:
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT clip_id, host, pid, started_at < now() - make_interval(hours => %s) AS old FROM ingest_claims",
                (FOREIGN_CLAIM_HOURS,),
            ).fetchall()
        host = this_host()
        return {
            r["clip_id"]: Claim(clip_id=r["clip_id"], host=r["host"], pid=r["pid"])
            for r in rows
            if _claim_live(r, host)
        }

    # ---- the pipeline as last defined ---------------------------------------------------------------

    def record_pipeline(self, versions: Mapping[str, str], default_enabled: Mapping[str, bool],
                        inputs: Mapping[str, Sequence[str]] | None = None) -> None:
        """The pipeline as defined now: each step's code version, default, position and the `inputs` whose
        re-materialization makes its product out of date."""
        inputs = inputs or {}
        with self.connect() as conn:
            conn.execute("DELETE FROM pipeline_versions WHERE NOT (asset = ANY(%s))", (list(versions),))
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO pipeline_versions (asset, code_version, default_enabled, position, inputs)"
                    " VALUES (%s, %s, %s, %s, %s)"
                    " ON CONFLICT (asset) DO UPDATE SET code_version = EXCLUDED.code_version,"
                    " default_enabled = EXCLUDED.default_enabled, position = EXCLUDED.position,"
                    " inputs = EXCLUDED.inputs, updated_at = now()",
                    [(a, v, default_enabled.get(a, True), i, list(inputs.get(a, ())))
                     for i, (a, v) in enumerate(versions.items())],
                )

    def record_pipeline_signature(self, signature: str) -> None:
        with self.connect() as conn:
            conn.execute("INSERT INTO pipeline_signature (signature) VALUES (%s) ON CONFLICT (only_row)"
                         " DO UPDATE SET signature = EXCLUDED.signature, recorded_at = now()", (signature,))

    def recorded_pipeline(self) -> tuple[str | None, list[str]]:
        """(the signature the pipeline was recorded under, its default steps in graph order)."""
        with self.connect() as conn:
            row = conn.execute("SELECT signature FROM pipeline_signature").fetchone()
            steps = conn.execute("SELECT asset FROM pipeline_versions WHERE default_enabled ORDER BY position").fetchall()
        return (row["signature"] if row else None), [s["asset"] for s in steps]

    # ---- per-clip state ----------------------------------------------------------------------------

    def clip_progress(self, clip_ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
        """clip id -> status, assets made, stale assets (code version changed, or made before an input was redone),
        failures: one query for any number of clips."""
        with self.connect() as conn:
            rows = conn.execute(
                """SELECT c.clip_id, c.status,
                          coalesce((SELECT array_agg(v.asset) FROM asset_versions v WHERE v.clip_id = c.clip_id),
                                   '{}') AS made,
                          coalesce((SELECT array_agg(v.asset) FROM asset_versions v JOIN pipeline_versions p USING (asset)
                                    WHERE v.clip_id = c.clip_id AND (v.code_version <> p.code_version
                                          OR EXISTS (SELECT 1 FROM asset_versions u
                                                     WHERE u.clip_id = v.clip_id AND u.asset = ANY(p.inputs)
                                                       AND u.materialized_at > v.materialized_at))), '{}') AS stale,
                          coalesce((SELECT json_agg(json_build_object('asset', f.asset, 'error', f.error, 'run_id', f.run_id)
                                                    ORDER BY f.failed_at)
                                    FROM clip_failures f WHERE f.clip_id = c.clip_id), '[]') AS failures
                   FROM clips c WHERE %(all)s OR c.clip_id = ANY(%(ids)s)""",
                {"all": clip_ids is None, "ids": clip_ids or []},
            ).fetchall()
            steps = conn.execute("SELECT asset, default_enabled FROM pipeline_versions ORDER BY position").fetchall()
        defaults = [s["asset"] for s in steps if s["default_enabled"]]
        order = [s["asset"] for s in steps]
        return {r["clip_id"]: {**r, "defaults": defaults, "order": order} for r in rows}

    def clip_states(self, clip_ids: list[str] | None = None) -> dict[str, ClipState]:
        """Each clip's state, for `list` and `show`."""
        progress = self.clip_progress(clip_ids)
        claims = self.live_claims() if progress else {}
        return {clip_id: clip_state(row, claims.get(clip_id)) for clip_id, row in progress.items()}


def clip_state(row: Mapping[str, Any], claim: Claim | None) -> ClipState:
    """The one rule for a clip's state: in progress > failed > incomplete > stale > metadata-only > complete."""
    status = row["status"] or ""
    metadata_only = status.startswith(METADATA_ONLY_PREFIX)
    expected = set(row["defaults"])
    if metadata_only:
        expected &= set(METADATA_ONLY_STEPS)
    rank = {name: i for i, name in enumerate(row["order"])}
    by_rank = lambda names: sorted(names, key=lambda n: (rank.get(n, len(rank)), n))  # noqa: E731
    missing = by_rank(expected - set(row["made"]))
    stale = by_rank(row["stale"])
    failures = [ClipFailure(**f) for f in row["failures"]]
    state = ClipState(clip_id=row["clip_id"], state="complete", missing=missing, stale=stale, failures=failures)
    if claim is not None:
        state.state, state.detail = "in progress", f"ingest pid {claim.pid} on {claim.host}"
    elif failures:
        first = failures[0]
        state.state, state.detail = "failed", f"{first.asset}: {first.error.splitlines()[0] if first.error else ''}"
    elif missing:
        state.state, state.detail = "incomplete", "missing " + ", ".join(missing)
    elif stale:
        state.state, state.detail = "stale", ", ".join(stale)
    elif metadata_only:
        state.state, state.detail = METADATA_ONLY_PREFIX, status[len(METADATA_ONLY_PREFIX):].lstrip(": ")
    return state
