import psycopg

from catalog_resources.catalog_resource import CatalogStore
from catalog_resources.catalog_store import available_migrations

TABLES = {
    "clips", "clip_sources", "technical_metadata", "audio_tracks", "subtitle_tracks", "thumbnails", "frame_analysis",
    "analysis", "transcripts", "segments", "embeddings", "catalog_records", "collections", "collection_clips", "tags",
    "clip_tags", "schema_migrations", "scanned_files",
}


def test_migrations_apply_once_and_twice_is_a_no_op(pg_server):
    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "mig_twice" WITH (FORCE)')
        conn.execute('CREATE DATABASE "mig_twice"')
    store = CatalogStore(database_url=pg_server.url("mig_twice"))
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
