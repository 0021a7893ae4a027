import psycopg

from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.store.migrations import available_migrations

TABLES = {
    "clips", "clip_sources", "technical_metadata", "audio_tracks", "subtitle_tracks", "thumbnails", "frame_analysis",
    "analysis", "transcripts", "segments", "embeddings", "catalog_records", "collections", "collection_clips", "tags",
    "clip_tags", "schema_migrations", "scanned_files",
}


def test_migrations_apply_once_and_twice_is_a_no_op(pg_server):
    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "mig_twice" WITH (FORCE)')
        conn.execute('CREATE DATABASE "mig_twice"')
    store = CatalogResource(database_url=pg_server.url("mig_twice"))
    first = store.migrate()
    second = store.migrate()
    assert [m.version for m in first] == [m.version for m, _ in available_migrations()]
    assert second == []
    applied = store.applied_migrations()
    assert [m.name for m in applied] == [m.name for m, _ in available_migrations()]
    with psycopg.connect(pg_server.url("mig_twice")) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert TABLES <= tables
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0] >= "0.8"
        # every clip-owned table cascades when the clip goes
        cascading = {
            r[0]
            for r in conn.execute(
                "SELECT tc.table_name FROM information_schema.referential_constraints rc "
                "JOIN information_schema.table_constraints tc ON tc.constraint_name = rc.constraint_name "
                "WHERE rc.delete_rule = 'CASCADE'"
            )
        }
        assert {"clip_sources", "technical_metadata", "thumbnails", "embeddings", "catalog_records", "clip_tags"} <= cascading
        conn.execute(
            "INSERT INTO clips (clip_id, file_name, path, size_bytes, md5, fast_hash, fingerprint) "
            "VALUES ('c1', 'a.mp4', '/x/a.mp4', 1, 'm', 'f', 'c1')"
        )
        conn.execute(
            "INSERT INTO clip_sources (clip_id, path, size_bytes, mtime) VALUES ('c1', '/x/a.mp4', 1, now())"
        )
        conn.execute(
            "INSERT INTO embeddings (clip_id, scope, model, dimension, source_text, token_count, embedding) "
            "VALUES ('c1', 'full_clip', 'm', 3, 't', 1, '[1,2,3]')"
        )
        conn.execute("DELETE FROM clips WHERE clip_id = 'c1'")
        assert conn.execute("SELECT count(*) FROM clip_sources").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 0
    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
        conn.execute('DROP DATABASE "mig_twice" WITH (FORCE)')


def test_clip_facts_follow_every_write_and_are_backfilled(pg_server):
    """The filter facts are kept by triggers: the scan's values until technical_metadata reconciles them,
    frame_analysis adds shot type and quality, a deleted analysis or clip takes its facts along."""
    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "mig_facts" WITH (FORCE)')
        conn.execute('CREATE DATABASE "mig_facts"')
    url = pg_server.url("mig_facts")
    store = CatalogResource(database_url=url)
    before = [m for m, _ in available_migrations() if m.version < 4]
    with psycopg.connect(url, autocommit=True) as conn:  # a catalog from before sql/004, with one clip in it
        for migration, sql in available_migrations():
            if migration in before:
                conn.execute(sql)
        conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,"
                     " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        for m in before:
            conn.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                         (m.version, m.name, m.checksum))
        conn.execute("INSERT INTO clips (clip_id, file_name, path, size_bytes, md5, fast_hash, fingerprint, video_codec,"
                     " width, height, frame_rate) VALUES ('old', 'o.mov', '/x/o.mov', 1, 'm', 'f', 'old', 'ProRes', 3840,"
                     " 2160, 25)")
    assert [m.version for m in store.migrate()] == [m.version for m, _ in available_migrations() if m.version >= 4]

    def facts(clip_id: str):
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT codec, height, short_side, frame_rate, camera, hdr, shot_type, quality_score"
                                " FROM clip_facts WHERE clip_id = %s", (clip_id,)).fetchone()

    assert facts("old") == ("prores", 2160, 2160, 25.0, None, False, None, None)  # backfilled
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO clips (clip_id, file_name, path, size_bytes, md5, fast_hash, fingerprint, video_codec,"
                     " width, height, frame_rate) VALUES ('c1', 'a.mp4', '/x/a.mp4', 1, 'm', 'f', 'c1', 'h264', 1920,"
                     " 1080, 30)")
        assert facts("c1") == ("h264", 1080, 1080, 30.0, None, False, None, None)
        conn.execute("INSERT INTO technical_metadata (clip_id, video_codec, width, height, display_width, display_height,"
                     " frame_rate, hdr_format, camera_make, camera_model) VALUES ('c1', 'HEVC', 3840, 2160, 2160, 3840,"
                     " 29.97, 'HLG', 'Apple', 'iPhone 15 Pro')")
        assert facts("c1") == ("hevc", 2160, 2160, 29.97, "Apple iPhone 15 Pro", True, None, None)
        conn.execute("INSERT INTO frame_analysis (clip_id, quality_score, dominant_shot_type) VALUES ('c1', 71.5, 'close-up')")
        assert facts("c1")[6:] == ("close-up", 71.5)
        conn.execute("UPDATE frame_analysis SET dominant_shot_type = 'wide' WHERE clip_id = 'c1'")
        assert facts("c1")[6] == "wide"
        conn.execute("DELETE FROM technical_metadata WHERE clip_id = 'c1'")
        assert facts("c1")[:2] == ("h264", 1080)
        conn.execute("DELETE FROM clips WHERE clip_id = 'c1'")
        assert facts("c1") is None
    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
        conn.execute('DROP DATABASE "mig_facts" WITH (FORCE)')
