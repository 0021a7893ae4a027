"""SQL for the analysis products and for the code versions `refresh --stale` compares.

A mixin of CatalogQueries (which provides `connect`), kept apart so the catalog's core queries and the
analysis tables each stay one readable file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from catalog_resources.models.analysis import ComprehensiveAIAnalysis


def replace_segments(conn: psycopg.Connection, clip_id: str, segment_type: str, segments: list[dict[str, Any]]) -> None:
    """A clip's segments of one type replaced (the other types stay); indexes continue after the others'."""
    conn.execute("DELETE FROM segments WHERE clip_id = %s AND segment_type = %s", (clip_id, segment_type))
    if not segments:
        return
    base = conn.execute(
        "SELECT coalesce(max(segment_index) + 1, 0) AS n FROM segments WHERE clip_id = %s", (clip_id,)
    ).fetchone()["n"]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO segments (clip_id, segment_index, start_seconds, end_seconds, segment_type, text, keyframe_path)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(clip_id, base + i, seg["start_seconds"], seg["end_seconds"], segment_type, seg.get("text"),
              seg.get("keyframe_path")) for i, seg in enumerate(segments)],
        )


def replace_tags(conn: psycopg.Connection, clip_id: str, source: str, names: list[str]) -> int:
    """A clip's unreviewed tags from one source (ai, visual) replaced; a name the clip already has from another
    source (a user's own tag) keeps that source, and a tag a person reviewed (`tag accept|reject`, sql/008) stays
    as they left it: a rejected tag the analysis finds again stays rejected."""
    conn.execute("DELETE FROM clip_tags WHERE clip_id = %s AND source = %s AND review IS NULL", (clip_id, source))
    names = sorted({n.strip().lower() for n in names if n.strip()})
    if not names:
        return 0
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO tags (name) VALUES (%s) ON CONFLICT (owner, name) DO NOTHING", [(n,) for n in names])
        cur.execute(
            "INSERT INTO clip_tags (clip_id, tag_id, source) SELECT %s, tag_id, %s FROM tags WHERE name = ANY(%s)"
            " ON CONFLICT (clip_id, tag_id) DO NOTHING",
            (clip_id, source, names),
        )
    return len(names)


class AnalysisQueries:
    def connect(self) -> AbstractContextManager[psycopg.Connection]:  # provided by CatalogQueries
        raise NotImplementedError

    def write_analysis(self, conn: psycopg.Connection, a: ComprehensiveAIAnalysis) -> int:
        """analysis + transcripts rows, transcript segments and `ai` tags; user tags and other segment types stay."""
        summary, content = a.summary, a.content_analysis
        entities = content.entities if content and content.entities else None
        warnings = [w.category for w in content.content_warnings] if content else []
        conn.execute("DELETE FROM analysis WHERE clip_id = %s", (a.clip_id,))
        conn.execute(
            "INSERT INTO analysis (clip_id, backend, model, prompt_hash, code_version, summary, keywords, entities,"
            " scene_classification, sentiment, content_warnings, on_screen_text, raw)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (a.clip_id, a.backend, a.model, a.code_version.rsplit(":", 1)[-1], a.code_version,
             summary.overall if summary else None, summary.keywords if summary else [],
             Jsonb(entities.model_dump(exclude={"source"}) if entities else {}),
             summary.scene_classification if summary else [], summary.sentiment if summary else None,
             warnings, a.on_screen_text, Jsonb(a.model_dump(mode="json"))),
        )
        rows = 1 + self._write_transcript(conn, a)
        rows += self._write_ai_tags(conn, a.clip_id, summary.keywords if summary else [])
        return rows

    @staticmethod
    def _write_transcript(conn: psycopg.Connection, a: ComprehensiveAIAnalysis) -> int:
        conn.execute("DELETE FROM transcripts WHERE clip_id = %s", (a.clip_id,))
        replace_segments(conn, a.clip_id, "transcript", [])
        audio = a.audio_analysis
        transcript = audio.transcript if audio else None
        if audio is None:
            return 0
        speakers = audio.speaker_analysis.speakers if audio.speaker_analysis else []
        conn.execute(
            "INSERT INTO transcripts (clip_id, language, language_trusted, full_text, segments, speakers,"
            " non_speech_events) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (a.clip_id, transcript.language if transcript else None,
             transcript.language_trusted if transcript else None, transcript.full_text if transcript else "",
             Jsonb([s.model_dump() for s in transcript.segments] if transcript else []),
             Jsonb([s.model_dump() for s in speakers]),
             Jsonb([e.model_dump() for e in audio.sound_events if e.category != "speech"])),
        )
        if not transcript or not transcript.segments:
            return 1
        replace_segments(conn, a.clip_id, "transcript", [
            {"start_seconds": s.start_seconds, "end_seconds": max(s.end_seconds, s.start_seconds), "text": s.text}
            for s in transcript.segments
        ])
        return 1 + len(transcript.segments)

    @staticmethod
    def _write_ai_tags(conn: psycopg.Connection, clip_id: str, keywords: list[str]) -> int:
        return replace_tags(conn, clip_id, "ai", keywords)

    def analysis_detail(self, clip_id: str) -> dict[str, Any] | None:
        """The stored analysis model (JSON) of one clip, or None when ai_analysis has not run."""
        with self.connect() as conn:
            row = conn.execute("SELECT raw FROM analysis WHERE clip_id = %s", (clip_id,)).fetchone()
            return row["raw"] if row else None

    def clip_tags(self, clip_id: str) -> list[dict[str, str]]:
        with self.connect() as conn:
            return conn.execute(
                "SELECT t.name, ct.source, ct.review FROM clip_tags ct JOIN tags t USING (tag_id) WHERE ct.clip_id = %s"
                " ORDER BY ct.source, t.name", (clip_id,)
            ).fetchall()

    def clip_collections(self, clip_id: str) -> list[str]:
        """The names of the collections a clip is in."""
        with self.connect() as conn:
            return [r["name"] for r in conn.execute(
                "SELECT co.name FROM collection_clips cc JOIN collections co USING (collection_id)"
                " WHERE cc.clip_id = %s ORDER BY co.name", (clip_id,))]

    # -- code versions ------------------------------------------------------------------------------------

    @staticmethod
    def record_versions(conn: psycopg.Connection, asset: str, code_version: str, clip_ids: list[str], run_id: str | None) -> None:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO asset_versions (asset, clip_id, code_version, run_id) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (asset, clip_id) DO UPDATE SET code_version = EXCLUDED.code_version,"
                " run_id = EXCLUDED.run_id, materialized_at = now()",
                [(asset, clip_id, code_version, run_id) for clip_id in clip_ids],
            )
            # Whatever launched it (ingest, refresh, the UI, the sensor), the step now runs at this code version:
            # `list` compares the clips' versions with it, so a redo from the UI is not shown as the stale one.
            cur.execute("UPDATE pipeline_versions SET code_version = %s, updated_at = now()"
                        " WHERE asset = %s AND code_version <> %s", (code_version, asset, code_version))

    def stale_versions(self, current: Mapping[str, str]) -> Iterator[tuple[str, str, str]]:
        """(asset, clip_id, recorded code version) where the recorded version differs from `current`.

        One indexed query for all assets: at 1,000 clips it reads only the rows that differ.
        """
        if not current:
            return iter(())
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT v.asset, v.clip_id, v.code_version FROM asset_versions v"
                " JOIN unnest(%s::text[], %s::text[]) AS cur(asset, code_version) ON cur.asset = v.asset"
                " WHERE v.code_version <> cur.code_version ORDER BY v.clip_id, v.asset",
                (list(current), list(current.values())),
            ).fetchall()
        return iter([(r["asset"], r["clip_id"], r["code_version"]) for r in rows])

    def remade_inputs(self, parents: Mapping[str, Sequence[str]]) -> Iterator[tuple[str, str, str]]:
        """(asset, clip_id, parent) where the clip's `parent` was materialized again after `asset` was, so the
        asset holds what it made from the older parent (a partial re-run redid the parent alone)."""
        edges = [(child, parent) for child, names in parents.items() for parent in names]
        if not edges:
            return iter(())
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT c.asset, c.clip_id, min(e.parent) AS parent"
                " FROM unnest(%s::text[], %s::text[]) AS e(child, parent)"
                " JOIN asset_versions c ON c.asset = e.child"
                " JOIN asset_versions p ON p.asset = e.parent AND p.clip_id = c.clip_id"
                " WHERE p.materialized_at > c.materialized_at GROUP BY c.asset, c.clip_id ORDER BY c.clip_id, c.asset",
                ([c for c, _ in edges], [p for _, p in edges]),
            ).fetchall()
        return iter([(r["asset"], r["clip_id"], r["parent"]) for r in rows])

    def analysis_usage(self, clip_ids: list[str]) -> dict[str, float]:
        """Cloud tokens, requests and estimated USD summed over these clips' stored analyses."""
        with self.connect() as conn:
            row = conn.execute(
                "SELECT coalesce(sum((raw->'usage'->>'prompt_tokens')::float), 0) AS prompt_tokens,"
                " coalesce(sum((raw->'usage'->>'output_tokens')::float), 0) AS output_tokens,"
                " coalesce(sum((raw->'usage'->>'requests')::float), 0) AS requests,"
                " coalesce(sum((raw->'usage'->>'estimated_cost_usd')::float), 0) AS estimated_cost_usd"
                " FROM analysis WHERE clip_id = ANY(%s)", (clip_ids,)
            ).fetchone()
        return {k: round(float(v), 6) for k, v in row.items()}

    def all_clip_ids(self) -> list[str]:
        with self.connect() as conn:
            return [r["clip_id"] for r in conn.execute("SELECT clip_id FROM clips ORDER BY cataloged_at, clip_id")]

    def materialized_assets(self, clip_ids: list[str]) -> dict[str, set[str]]:
        """clip id -> assets that have a recorded materialization (so refresh leaves disabled steps off)."""
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT clip_id, asset FROM asset_versions WHERE clip_id = ANY(%s)", (clip_ids,)
            ).fetchall()
        found: dict[str, set[str]] = {}
        for row in rows:
            found.setdefault(row["clip_id"], set()).add(row["asset"])
        return found
