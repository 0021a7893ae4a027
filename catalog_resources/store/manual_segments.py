"""Manual segments (spec 7.1.7): time ranges a person marks on a clip ("B-roll market", 00:01:02-00:01:10), kept in
the `segments` table as `segment_type = 'manual'`, the label in `text` (so the full-text index of sql/003 and every
segment query read it as they read a transcript line) and the note in `description` (sql/001; no other kind fills
it). No migration: the table already has both columns.

They survive re-analysis because the analysis writers replace segments by type (store/analysis.replace_segments)
and number theirs after the highest index left, manual ones included; a manual segment takes the next index after
all the clip's others, so neither can collide with the (clip_id, segment_index) key. Should a writer commit its
segments between our read of the highest index and our insert, the insert is retried with a fresh one.

Plain functions over a CatalogQueries (as store/export_clips.py): the CLI validates nothing itself, so the
one-line errors are the same wherever a segment is added from.
"""

from __future__ import annotations

from typing import Any

import psycopg
from pydantic import BaseModel

from catalog_resources.errors import UsageError
from catalog_resources.models.search import EmbeddedText
from catalog_resources.store.catalog import CatalogQueries
from catalog_resources.store.search import _with_vectors  # the connection's vector type, as SearchQueries uses it
from catalog_resources.store.segments import SEGMENT_COLUMNS, SEGMENT_FROM

MANUAL = "manual"
_END_SLACK = 0.05  # a range may end this far past the measured duration: durations are rounded floats
_RETRIES = 3


class ManualSegmentInput(BaseModel):
    """What a person gives for a manual segment; None leaves a field as it was (`edit`)."""

    start_seconds: float | None = None
    end_seconds: float | None = None
    label: str | None = None
    note: str | None = None


def clip_duration(conn: psycopg.Connection, clip_id: str) -> float | None:
    row = conn.execute("SELECT coalesce(t.duration_seconds, c.duration_seconds) AS d FROM clips c"
                       " LEFT JOIN technical_metadata t USING (clip_id) WHERE c.clip_id = %s", (clip_id,)).fetchone()
    return row["d"] if row else None


def check_segment(clip_id: str, start: float, end: float, label: str, duration: float | None) -> None:
    """A label with words and a range that ends after it starts, inside the clip; else one line saying which."""
    if not label.strip():
        raise UsageError("--label is empty: give the segment a name, e.g. --label \"B-roll market\"")
    if end <= start:
        raise UsageError(f"--end ({end:g} s) must be after --start ({start:g} s): give a range that ends after "
                         "it starts")
    if duration is not None and (start >= duration or end > duration + _END_SLACK):
        raise UsageError(f"{start:g}-{end:g} s is outside clip {clip_id}, which is {duration:.1f} s long: give a "
                         "range within it")


def _row(conn: psycopg.Connection, segment_id: int) -> dict[str, Any] | None:
    return conn.execute(f"SELECT {SEGMENT_COLUMNS} FROM {SEGMENT_FROM} WHERE s.segment_id = %s",
                        (segment_id,)).fetchone()


def _editable(conn: psycopg.Connection, segment_id: int) -> dict[str, Any]:
    """The segment, or one line: no such id, or a kind a person cannot change (and why)."""
    row = _row(conn, segment_id)
    if row is None:
        raise UsageError(f"no segment {segment_id}; see `video-catalog segments CLIP --type manual` for a clip's "
                         "manual segment ids")
    if row["segment_type"] != MANUAL:
        raise UsageError(f"segment {segment_id} is a {row['segment_type']} segment, made by the analysis: only manual "
                         "segments can be changed or removed (the analysis replaces its own when that step runs "
                         "again)")
    return row


def add_manual_segment(store: CatalogQueries, clip_id: str, start: float, end: float, label: str,
                       note: str | None = None) -> dict[str, Any]:
    """Insert a manual segment after checking its range against the clip's duration; its row."""
    for attempt in range(_RETRIES):
        try:
            with store.connect() as conn:
                check_segment(clip_id, start, end, label, clip_duration(conn, clip_id))
                index = conn.execute("SELECT coalesce(max(segment_index) + 1, 0) AS n FROM segments"
                                     " WHERE clip_id = %s", (clip_id,)).fetchone()["n"]
                segment_id = conn.execute(
                    "INSERT INTO segments (clip_id, segment_index, start_seconds, end_seconds, segment_type, text,"
                    " description) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING segment_id",
                    (clip_id, index, start, end, MANUAL, label.strip(), (note or "").strip() or None),
                ).fetchone()["segment_id"]
                return _row(conn, segment_id)
        except psycopg.errors.UniqueViolation:  # a writer took that index meanwhile: read the highest again
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def planned_edit(store: CatalogQueries, segment_id: int, change: ManualSegmentInput) -> dict[str, Any]:
    """The segment as `change` would leave it (what is not given stays), checked; nothing is written. Its clip_id,
    start_seconds, end_seconds, label and note."""
    with store.connect() as conn:
        row = _editable(conn, segment_id)
        new = {"clip_id": row["clip_id"],
               "start_seconds": row["start_seconds"] if change.start_seconds is None else change.start_seconds,
               "end_seconds": row["end_seconds"] if change.end_seconds is None else change.end_seconds,
               "label": row["text"] if change.label is None else change.label,
               "note": row["note"] if change.note is None else change.note}
        check_segment(row["clip_id"], new["start_seconds"], new["end_seconds"], new["label"],
                      clip_duration(conn, row["clip_id"]))
        return new


def edit_manual_segment(store: CatalogQueries, segment_id: int, change: ManualSegmentInput) -> dict[str, Any]:
    """Change a manual segment's range, label or note (what is not given stays); its row."""
    with store.connect() as conn:
        new = planned_edit(store, segment_id, change)
        conn.execute("UPDATE segments SET start_seconds = %s, end_seconds = %s, text = %s, description = %s"
                     " WHERE segment_id = %s", (new["start_seconds"], new["end_seconds"], new["label"].strip(),
                                                (new["note"] or "").strip() or None, segment_id))
        if change.label is not None or change.note is not None:  # its vector said the old words
            conn.execute("DELETE FROM embeddings WHERE segment_id = %s", (segment_id,))
        return _row(conn, segment_id)


def remove_manual_segment(store: CatalogQueries, segment_id: int) -> dict[str, Any]:
    """Delete a manual segment (its vectors go with it: ON DELETE CASCADE); the row it was."""
    with store.connect() as conn:
        row = _editable(conn, segment_id)
        conn.execute("DELETE FROM segments WHERE segment_id = %s", (segment_id,))
        return row


def has_catalog_record(store: CatalogQueries, clip_id: str) -> bool:
    with store.connect() as conn:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM catalog_records WHERE clip_id = %s) AS found",
                            (clip_id,)).fetchone()["found"]


def embedded_models(store: CatalogQueries, clip_id: str) -> list[str]:
    """The models the clip has vectors from: a new segment is embedded only where the clip already is (else the
    embeddings step embeds it with the rest when it runs)."""
    with store.connect() as conn:
        return [r["model"] for r in conn.execute("SELECT DISTINCT model FROM embeddings WHERE clip_id = %s"
                                                 " AND scope = 'full_clip' ORDER BY model", (clip_id,))]


def write_segment_vector(store: CatalogQueries, clip_id: str, model: str, item: EmbeddedText) -> None:
    """One segment's vector, as the embeddings step writes it (store/search.write_embeddings)."""
    import numpy as np

    with store.connect() as conn:
        _with_vectors(conn)
        conn.execute("DELETE FROM embeddings WHERE segment_id = %s AND model = %s", (item.segment_id, model))
        conn.execute(
            "INSERT INTO embeddings (clip_id, segment_id, scope, model, dimension, source_text, token_count, embedding)"
            " VALUES (%s, %s, 'segment', %s, %s, %s, %s, %s)",
            (clip_id, item.segment_id, model, len(item.vector), item.text, item.token_count,
             np.asarray(item.vector, dtype=np.float32)))


def manual_segments_of(store: CatalogQueries, clip_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """clip id -> its manual segments in time order (what an export marks on each clip)."""
    if not clip_ids:
        return {}
    found: dict[str, list[dict[str, Any]]] = {}
    with store.connect() as conn:
        for row in conn.execute(f"SELECT {SEGMENT_COLUMNS} FROM {SEGMENT_FROM} WHERE s.clip_id = ANY(%s)"
                                " AND s.segment_type = %s ORDER BY s.clip_id, s.start_seconds, s.segment_index",
                                (list(clip_ids), MANUAL)):
            found.setdefault(row["clip_id"], []).append(row)
    return found
