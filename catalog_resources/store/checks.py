"""SQL the asset checks read (catalog_assets/checks.py): for the clips of one run, the facts each check judges.

A mixin of CatalogQueries (which provides `connect`). The judging (what counts as a problem) stays with the
checks; here is only what is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import psycopg


class CheckQueries:
    def connect(self) -> AbstractContextManager[psycopg.Connection]:  # provided by CatalogQueries
        raise NotImplementedError

    def _by_clip(self, sql: str, clip_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """clip_id -> its row, for a query over `clip_id = ANY(%s)`."""
        with self.connect() as conn:
            return {r["clip_id"]: r for r in conn.execute(sql, (list(clip_ids),))}

    def clip_source_facts(self, clip_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """clip_id -> {md5, online (any source path online)} for the clips that have a clips row."""
        return self._by_clip(
            "SELECT c.clip_id, c.md5, bool_or(s.online) AS online FROM clips c "
            "LEFT JOIN clip_sources s USING (clip_id) WHERE c.clip_id = ANY(%s) GROUP BY c.clip_id, c.md5",
            clip_ids,
        )

    def catalog_record_agreement(self, clip_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """clip_id -> {same: the catalog record's md5 equals the clips row's} for the clips that have a record."""
        return self._by_clip(
            "SELECT r.clip_id, r.md5 = c.md5 AS same FROM catalog_records r JOIN clips c USING (clip_id) "
            "WHERE r.clip_id = ANY(%s)",
            clip_ids,
        )

    def technical_essentials(self, clip_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """clip_id -> {duration_seconds, width, height, video_codec, frame_rate, validation_issues}."""
        return self._by_clip(
            "SELECT clip_id, duration_seconds, width, height, video_codec, frame_rate, validation_issues "
            "FROM technical_metadata WHERE clip_id = ANY(%s)",
            clip_ids,
        )

    def frame_quality_flags(self, clip_ids: Sequence[str]) -> list[dict[str, Any]]:
        """One row per analysed clip: clip_id, exposure_warning, exposure_stops, blurry."""
        with self.connect() as conn:
            return conn.execute(
                "SELECT clip_id, exposure_warning, exposure_stops, (details->>'is_blurry')::boolean AS blurry "
                "FROM frame_analysis WHERE clip_id = ANY(%s)",
                (list(clip_ids),),
            ).fetchall()
