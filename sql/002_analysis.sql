-- Issue: AI analysis. Tags remember who added them; per-clip code versions make `refresh --stale` one query.

ALTER TABLE clip_tags ADD COLUMN IF NOT EXISTS source TEXT NOT NULL DEFAULT 'user';   -- user, ai
CREATE INDEX IF NOT EXISTS clip_tags_source_idx ON clip_tags (clip_id, source);

ALTER TABLE analysis ADD COLUMN IF NOT EXISTS code_version TEXT;
ALTER TABLE transcripts ADD COLUMN IF NOT EXISTS language_trusted BOOLEAN;

-- The code version each (asset, clip) was last materialized with, written by the catalog IO manager in the
-- same transaction as the asset's rows. Dagster's own stale resolver costs ~20 ms per asset per clip.
CREATE TABLE IF NOT EXISTS asset_versions (
    asset            TEXT NOT NULL,
    clip_id          TEXT NOT NULL REFERENCES clips (clip_id) ON DELETE CASCADE,
    code_version     TEXT NOT NULL,
    run_id           TEXT,
    materialized_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (asset, clip_id)
);
CREATE INDEX IF NOT EXISTS asset_versions_version_idx ON asset_versions (asset, code_version);
