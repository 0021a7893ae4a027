"""The catalog in PostgreSQL: the clip rows (clips, sources, technical metadata, thumbnails, frame analysis,
catalog records) and CatalogQueries, which gathers every table family's queries into one class.

Each other table family has its own store module, mixed in here: migrations, scan_cache, analysis, search,
ingest_state, checks. The connection they all share comes from store/connection.py.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from catalog_resources.ingest.partition_keys import keys_by_clip
from catalog_resources.store.analysis import AnalysisQueries, replace_segments, replace_tags
from catalog_resources.store.checks import CheckQueries
from catalog_resources.store.collections import CollectionQueries
from catalog_resources.store.connection import _connection, _open
from catalog_resources.store.ingest_state import IngestStateQueries
from catalog_resources.store.list_order import LIST_ORDERS, ListOrder, Seek
from catalog_resources.store.looks import LookQueries
from catalog_resources.store.migrations import MigrationQueries
from catalog_resources.store.owners import OwnerQueries
from catalog_resources.store.people import PeopleQueries
from catalog_resources.store.reports import ReportQueries
from catalog_resources.store.scan_cache import ScanCacheQueries
from catalog_resources.store.search import SearchQueries
from catalog_resources.store.segments import SegmentQueries
from catalog_resources.store.speakers import SpeakerQueries
from catalog_resources.store.tags import TagQueries
from catalog_resources.models.clips import CatalogRecord, ClipFilter, ClipSource, SourcePath
from catalog_resources.search.filters import filter_sql
from catalog_resources.models.media import FrameAnalysis, ThumbnailSet
from catalog_resources.models.technical import TechnicalMetadata


TECHNICAL_COLUMNS = (
    "container_format", "container_brand", "duration_seconds", "start_time_seconds", "bitrate", "video_codec",
    "video_profile", "video_level", "bit_depth", "chroma_subsampling", "pixel_format", "scan_type", "field_order",
    "width", "height", "display_width", "display_height", "sample_aspect_ratio", "display_aspect_ratio", "rotation",
    "frame_rate", "avg_frame_rate", "is_vfr", "frame_count", "color_primaries", "transfer_characteristics",
    "matrix_coefficients", "color_range", "hdr_format", "max_cll", "max_fall", "recorded_at", "timecode",
    "camera_make", "camera_model", "lens", "focal_length_mm", "iso", "gps_latitude", "gps_longitude",
    "gps_altitude", "source_workflow",
)
VISUAL_SEGMENT_FIELDS = {"start_seconds", "end_seconds", "text", "keyframe_path"}


class CatalogQueries(
    MigrationQueries, ScanCacheQueries, AnalysisQueries, SearchQueries, LookQueries, IngestStateQueries, CheckQueries,
    PeopleQueries, SpeakerQueries, OwnerQueries,
    CollectionQueries, TagQueries, SegmentQueries, ReportQueries,
):
    """The SQL: every query and write of the catalog, as a mixin over `self.database_url`.

    Two classes carry these methods: `CatalogDB` (plain, for the CLI, which then never imports Dagster) and
    `CatalogResource` (the Dagster resource, catalog_resources/resources/catalog.py).
    """

    database_url: str

    @contextlib.contextmanager
    def connect(self) -> Iterator[psycopg.Connection]:
        """A transaction on this thread's connection (kept open: a new one costs ~7 ms, a reused one 0.2)."""
        conn = _connection(self.database_url)
        with conn.transaction():
            yield conn

    @contextlib.contextmanager
    def _dedicated(self) -> Iterator[psycopg.Connection]:
        """A connection of its own, for work that manages its own transactions (migrations)."""
        conn = _open(self.database_url)
        with conn:
            yield conn

    # ---- clips -------------------------------------------------------------------------------------

    def known_clips(self, clip_ids: Iterable[str]) -> dict[str, list[SourcePath]]:
        ids = sorted(set(clip_ids))
        result: dict[str, list[SourcePath]] = {clip_id: [] for clip_id in ids}
        if not ids:
            return {}
        with self.connect() as conn:
            present = {r["clip_id"] for r in conn.execute("SELECT clip_id FROM clips WHERE clip_id = ANY(%s)", (ids,))}
            for row in conn.execute(
                "SELECT clip_id, path, size_bytes, mtime, md5, first_seen, last_seen, online "
                "FROM clip_sources WHERE clip_id = ANY(%s) ORDER BY first_seen, path",
                (ids,),
            ):
                clip_id = row.pop("clip_id")
                result[clip_id].append(SourcePath(**row))
        return {clip_id: sources for clip_id, sources in result.items() if clip_id in present}

    def clip_row(self, clip_id: str) -> dict[str, Any] | None:
        with self.connect() as conn:
            return conn.execute("SELECT * FROM clips WHERE clip_id = %s", (clip_id,)).fetchone()

    def write_clip_source(self, conn: psycopg.Connection, clip: ClipSource) -> int:
        """Upsert the clip and replace its sources (one transaction, owned by the caller)."""
        now = datetime.now(timezone.utc)
        conn.execute(
            """INSERT INTO clips (clip_id, file_name, path, size_bytes, md5, fast_hash, fingerprint, container,
                   duration_seconds, video_codec, width, height, frame_rate, has_audio, status, updated_at)
               VALUES (%(clip_id)s, %(file_name)s, %(path)s, %(size_bytes)s, %(md5)s, %(fast_hash)s, %(fingerprint)s,
                   %(container)s, %(duration_seconds)s, %(video_codec)s, %(width)s, %(height)s, %(frame_rate)s,
                   %(has_audio)s, %(status)s, %(now)s)
               ON CONFLICT (clip_id) DO UPDATE SET file_name = EXCLUDED.file_name, path = EXCLUDED.path,
                   size_bytes = EXCLUDED.size_bytes, md5 = EXCLUDED.md5, fast_hash = EXCLUDED.fast_hash,
                   fingerprint = EXCLUDED.fingerprint, container = EXCLUDED.container,
                   duration_seconds = EXCLUDED.duration_seconds, video_codec = EXCLUDED.video_codec,
                   width = EXCLUDED.width, height = EXCLUDED.height, frame_rate = EXCLUDED.frame_rate,
                   has_audio = EXCLUDED.has_audio, status = EXCLUDED.status, updated_at = EXCLUDED.updated_at""",
            # a clip whose frames do not decode here says so ('metadata-only: no decoder for R3D1')
            {**clip.model_dump(exclude={"sources", "collisions"}), "status": clip.metadata_only or "cataloged",
             "now": now},
        )
        conn.execute("DELETE FROM clip_sources WHERE clip_id = %s", (clip.clip_id,))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO clip_sources (clip_id, path, size_bytes, mtime, md5, first_seen, last_seen, online) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (clip.clip_id, s.path, s.size_bytes, s.mtime, s.md5, s.first_seen, s.last_seen, s.online)
                    for s in clip.sources
                ],
            )
        return 1 + len(clip.sources)

    def write_technical_metadata(self, conn: psycopg.Connection, meta: TechnicalMetadata) -> int:
        """Replace the clip's technical_metadata, audio_tracks and subtitle_tracks rows."""
        for table in ("technical_metadata", "audio_tracks", "subtitle_tracks"):
            conn.execute(f"DELETE FROM {table} WHERE clip_id = %s", (meta.clip_id,))
        columns = ("clip_id", *TECHNICAL_COLUMNS, "validation_issues", "details")
        values = [meta.clip_id, *(getattr(meta, c) for c in TECHNICAL_COLUMNS)]
        values += [Jsonb([i.model_dump() for i in meta.validation_issues]), Jsonb(meta.model_dump(mode="json"))]
        conn.execute(
            f"INSERT INTO technical_metadata ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
            values,
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO audio_tracks (clip_id, track_index, codec, channels, channel_layout, sample_rate, bit_depth,"
                " bitrate, language, duration_seconds, title, is_default) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                [
                    (meta.clip_id, t.index, t.codec, t.channels, t.channel_layout, t.sample_rate, t.bit_depth,
                     t.bitrate, t.language, t.duration_seconds, t.title, t.is_default)
                    for t in meta.audio_tracks
                ],
            )
            cur.executemany(
                "INSERT INTO subtitle_tracks (clip_id, track_index, codec, language, title, embedded, is_forced, is_default)"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s)",
                [
                    (meta.clip_id, t.index, t.codec, t.language, t.title, t.embedded, t.is_forced, t.is_default)
                    for t in meta.subtitle_tracks
                ],
            )
        return 1 + len(meta.audio_tracks) + len(meta.subtitle_tracks)

    def write_thumbnails(self, conn: psycopg.Connection, thumbs: ThumbnailSet) -> int:
        conn.execute("DELETE FROM thumbnails WHERE clip_id = %s", (thumbs.clip_id,))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO thumbnails (clip_id, thumbnail_index, frame_number, pts_seconds, paths, width, height,"
                " score, is_poster) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (thumbs.clip_id, t.index, t.frame_number, t.pts_seconds, Jsonb(t.paths), t.width, t.height,
                     t.score, t.is_poster)
                    for t in thumbs.thumbnails
                ],
            )
        return len(thumbs.thumbnails)

    def write_frame_analysis(self, conn: psycopg.Connection, fa: FrameAnalysis) -> int:
        """frame_analysis row plus the clip's scene_change and visual segments, its `visual` tags (the general
        terms of what its scenes show) and its scenes' look vectors; other segment types and tag sources are left
        alone. The look vectors go to scene_looks only, not into the details JSON."""
        conn.execute("DELETE FROM frame_analysis WHERE clip_id = %s", (fa.clip_id,))
        conn.execute(
            "INSERT INTO frame_analysis (clip_id, overexposed_percent, underexposed_percent, exposure_warning,"
            " exposure_stops, blur_score, noise_score, quality_score, dominant_shot_type, scene_cut_count, details)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (fa.clip_id, fa.overexposed_percent, fa.underexposed_percent, fa.exposure_warning, fa.exposure_stops,
             fa.blur_score, fa.noise_score, fa.quality_score, fa.shot_type, len(fa.scene_cuts),
             Jsonb(fa.model_dump(mode="json", exclude={"frames": True, "visual": {"__all__": {"look"}}})
                   | {"frames": [f.model_dump() for f in fa.frames]})),
        )
        replace_segments(conn, fa.clip_id, "scene_change", [s.model_dump() for s in fa.segments])
        replace_segments(conn, fa.clip_id, "visual", [v.model_dump(include=VISUAL_SEGMENT_FIELDS) for v in fa.visual])
        tags = replace_tags(conn, fa.clip_id, "visual", [t.term for v in fa.visual for t in v.terms])
        looks = self.write_scene_looks(conn, fa)
        return 1 + len(fa.segments) + len(fa.visual) + tags + looks

    def write_catalog_record(self, conn: psycopg.Connection, record: CatalogRecord) -> int:
        values = record.model_dump()
        conn.execute("DELETE FROM catalog_records WHERE clip_id = %s", (record.clip_id,))
        conn.execute(
            """INSERT INTO catalog_records (clip_id, file_name, path, paths, duration_seconds, size_bytes, md5, status,
                   container, video_codec, width, height, frame_rate, camera, hdr_format, recorded_at, document,
                   shot_type, quality_score, summary, keywords, poster_path)
               VALUES (%(clip_id)s, %(file_name)s, %(path)s, %(paths)s, %(duration_seconds)s, %(size_bytes)s, %(md5)s,
                   %(status)s, %(container)s, %(video_codec)s, %(width)s, %(height)s, %(frame_rate)s, %(camera)s,
                   %(hdr_format)s, %(recorded_at)s, %(document)s, %(shot_type)s, %(quality_score)s, %(summary)s,
                   %(keywords)s, %(poster_path)s)""",
            values,
        )
        return 1

    LIST_ORDERS = LIST_ORDERS  # the sort orders of `list`, each readable from an index (store/list_order.py)

    def list_clips(self, limit: int | None = None, filters: ClipFilter | None = None, sort: str = "cataloged",
                   offset: int = 0, seek: Seek | None = None) -> list[dict[str, Any]]:
        """`list`'s rows, filtered and sorted in SQL; `offset` pages, or `seek` (keyset paging, the web catalog's
        library: the rows after or before a key, each row then carrying its `sort_key`). The page's clip ids are
        picked first from the narrow, indexed columns, then only those rows are joined: a page of a large catalog
        costs what the page holds, not the catalog (with `seek`, however deep the page is)."""
        where, params = filter_sql(filters)
        order = LIST_ORDERS[sort]
        with self.connect() as conn:
            keys = self._page_keys(conn, order, where, params, limit, offset, seek)
            ids = list(keys)
            rows = conn.execute(
                """SELECT c.clip_id, c.path, c.file_name, coalesce(t.duration_seconds, c.duration_seconds) AS duration_seconds,
                          c.size_bytes, c.md5, coalesce(t.container_format, c.container) AS container,
                          coalesce(t.video_codec, c.video_codec) AS video_codec, coalesce(t.width, c.width) AS width,
                          coalesce(t.height, c.height) AS height, coalesce(t.frame_rate, c.frame_rate) AS frame_rate,
                          c.has_audio, c.status, c.cataloged_at, t.hdr_format, t.recorded_at,
                          nullif(concat_ws(' ', t.camera_make, t.camera_model), '') AS camera,
                          fa.quality_score, fa.exposure_warning, fa.dominant_shot_type AS shot_type,
                          coalesce(r.paths, ARRAY[c.path]) AS paths, c.owner
                   FROM clips c
                   LEFT JOIN catalog_records r USING (clip_id)
                   LEFT JOIN technical_metadata t USING (clip_id)
                   LEFT JOIN frame_analysis fa USING (clip_id)
                   WHERE c.clip_id = ANY(%(ids)s)""",
                {"ids": ids},
            ).fetchall()
        position = {clip_id: i for i, clip_id in enumerate(ids)}
        if seek is not None:
            for row in rows:
                row["sort_key"] = keys[row["clip_id"]]
        return sorted(rows, key=lambda row: position[row["clip_id"]])

    @staticmethod
    def _page_keys(conn: psycopg.Connection, order: ListOrder, where: str, params: dict[str, Any], limit: int | None,
                   offset: int, seek: Seek | None) -> dict[str, list[Any]]:
        """{clip id: its sort key} of the page, in order: by offset, or read segment by segment from a key."""
        columns = ", ".join(f"{c} AS k{i}" for i, c in enumerate(order.columns))
        select = f"SELECT c.clip_id, {columns} FROM clips c JOIN clip_facts x USING (clip_id) WHERE {where}"
        if seek is None or (seek.key is None and not seek.backward):  # from the start, `offset` rows in
            found = conn.execute(f"{select} ORDER BY {order.order_by()} LIMIT %(limit)s OFFSET %(offset)s",
                                 {**params, "limit": limit, "offset": max(offset, 0)}).fetchall()
        else:
            segments, bounds = order.segments(seek.key, seek.backward)
            found = []
            for condition in segments:
                if limit is not None and len(found) >= limit:
                    break
                found += conn.execute(
                    f"{select} AND {condition} ORDER BY {order.order_by(seek.backward)} LIMIT %(limit)s",
                    {**params, **bounds, "limit": None if limit is None else limit - len(found)}).fetchall()
            if seek.backward:
                found.reverse()
        return {r["clip_id"]: [r[f"k{i}"] for i in range(len(order.columns))] for r in found}

    def clip_count(self) -> int:
        """How many clips the catalog holds (the web catalog's search page says so before a query)."""
        with self.connect() as conn:
            return conn.execute("SELECT count(*) AS n FROM clips").fetchone()["n"]

    def first_names(self, clip_ids: Sequence[str]) -> dict[str, str | None]:
        """Each clip's file name as first seen: the cataloged name, else the first path the scanner found it at
        (a clip about to be cataloged has no clips row yet). What its Dagster partition key is made from."""
        with self.connect() as conn:
            rows = conn.execute(
                """SELECT ids.clip_id, COALESCE(
                       (SELECT file_name FROM clips c WHERE c.clip_id = ids.clip_id),
                       (SELECT path FROM scanned_files s WHERE s.fingerprint = ids.clip_id
                        ORDER BY s.first_seen, s.path LIMIT 1)) AS name
                   FROM unnest(%s::text[]) AS ids(clip_id)""",
                (list(clip_ids),),
            )
            return {r["clip_id"]: (os.path.basename(r["name"]) if r["name"] else None) for r in rows}

    def resolve_clip(self, ref: str) -> list[str]:
        """Clip ids matching an id, a path the clip was seen at, a Dagster partition key (`<name>-<id>`, as
        copied from the UI), a file name it was seen under, or an id prefix."""
        with self.connect() as conn:
            exact = conn.execute("SELECT clip_id FROM clips WHERE clip_id = %s", (ref,)).fetchall()
            if exact:
                return [r["clip_id"] for r in exact]
            by_path = conn.execute(
                "SELECT DISTINCT clip_id FROM clip_sources WHERE path = %s", (os.path.abspath(ref),)
            ).fetchall()
            if by_path:
                return [r["clip_id"] for r in by_path]
            by_key = keys_by_clip([ref])
            if by_key:
                rows = conn.execute("SELECT clip_id FROM clips WHERE clip_id = ANY(%s)", (list(by_key),)).fetchall()
                if rows:
                    return [r["clip_id"] for r in rows]
            if "/" not in ref:  # a bare file name, as `list` shows it (several clips: the caller says ambiguous)
                rows = conn.execute(
                    "SELECT DISTINCT clip_id FROM clip_sources WHERE split_part(reverse(path), '/', 1) = reverse(%s) "
                    "ORDER BY clip_id LIMIT 10", (ref,)).fetchall()
                if rows:
                    return [r["clip_id"] for r in rows]
            prefix = ref.replace("\\", "").replace("%", "").replace("_", "")
            if len(prefix) < 4:
                return []
            rows = conn.execute("SELECT clip_id FROM clips WHERE clip_id LIKE %s ORDER BY clip_id LIMIT 10", (prefix + "%",))
            return [r["clip_id"] for r in rows]

    def clip_detail(self, clip_id: str) -> dict[str, Any] | None:
        """Everything cataloged about one clip, for `show`."""
        with self.connect() as conn:
            clip = conn.execute("SELECT * FROM clips WHERE clip_id = %s", (clip_id,)).fetchone()
            if clip is None:
                return None
            clip["sources"] = conn.execute(
                "SELECT path, size_bytes, mtime, online, first_seen, last_seen FROM clip_sources WHERE clip_id = %s "
                "ORDER BY online DESC, first_seen", (clip_id,)
            ).fetchall()
            tech = conn.execute("SELECT details FROM technical_metadata WHERE clip_id = %s", (clip_id,)).fetchone()
            clip["technical_metadata"] = tech["details"] if tech else None
            analysis = conn.execute("SELECT details FROM frame_analysis WHERE clip_id = %s", (clip_id,)).fetchone()
            clip["frame_analysis"] = analysis["details"] if analysis else None
            clip["segments"] = conn.execute(
                "SELECT segment_index, segment_type, start_seconds, end_seconds, text, keyframe_path,"
                " description AS note FROM segments "
                "WHERE clip_id = %s ORDER BY start_seconds, segment_index", (clip_id,)
            ).fetchall()
        clip["ai_analysis"] = self.analysis_detail(clip_id)
        clip["tags"] = self.clip_tags(clip_id)
        clip["speakers"] = self.clip_speakers(clip_id)  # voices (the speakers step): transcript lines get theirs
        if clip["speakers"]:
            from catalog_resources.speakers.transcript import label_segments

            label_segments((s for s in clip["segments"] if s["segment_type"] == "transcript"), clip["speakers"])
            transcript = (((clip["ai_analysis"] or {}).get("audio_analysis") or {}).get("transcript") or {})
            label_segments(transcript.get("segments") or [], clip["speakers"])
        return clip

    def record_inputs(self, clip_id: str) -> dict[str, Any] | None:
        """What catalog_record reads: the clip row, its online paths, and technical metadata when there."""
        with self.connect() as conn:
            clip = conn.execute("SELECT * FROM clips WHERE clip_id = %s", (clip_id,)).fetchone()
            if clip is None:
                return None
            clip["technical"] = conn.execute(
                "SELECT * FROM technical_metadata WHERE clip_id = %s", (clip_id,)
            ).fetchone()
            clip["paths"] = [
                r["path"]
                for r in conn.execute(
                    "SELECT path FROM clip_sources WHERE clip_id = %s ORDER BY online DESC, first_seen, path", (clip_id,)
                )
            ]
            clip["analysis"] = conn.execute(
                "SELECT a.summary, a.keywords, a.entities, a.scene_classification, a.on_screen_text, t.full_text"
                " FROM analysis a LEFT JOIN transcripts t USING (clip_id) WHERE a.clip_id = %s", (clip_id,)
            ).fetchone()
            clip["frame"] = conn.execute(
                "SELECT dominant_shot_type, quality_score FROM frame_analysis WHERE clip_id = %s", (clip_id,)
            ).fetchone()
            clip["visual"] = [r["text"] for r in conn.execute(
                "SELECT text FROM segments WHERE clip_id = %s AND segment_type = 'visual' AND text <> ''"
                " ORDER BY start_seconds, segment_index", (clip_id,))]
            clip["manual"] = [r["words"] for r in conn.execute(  # `segments add`: a label and its note
                "SELECT concat_ws(' ', text, description) AS words FROM segments WHERE clip_id = %s"
                " AND segment_type = 'manual' ORDER BY start_seconds, segment_index", (clip_id,))]
            clip["poster_path"] = conn.execute(
                "SELECT paths FROM thumbnails WHERE clip_id = %s AND is_poster LIMIT 1", (clip_id,)
            ).fetchone()
            return clip


class CatalogDB(CatalogQueries):
    """The catalog for the CLI and the app: CatalogQueries over a URL, without Dagster."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
