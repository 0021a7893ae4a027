-- What an ingest needs to finish what it started and to tell the truth about each clip.
-- A killed process, a stopped database or a full disk leave a clip with only some of its steps;
-- these tables let the next plain `ingest` see that and redo exactly what is missing.

-- The scan decides up front whether a video's frames decode here; a clip whose container and metadata
-- read but whose video has no decoder (RED, BRAW, ProRes RAW, fragments) is cataloged metadata-only.
ALTER TABLE scanned_files ADD COLUMN IF NOT EXISTS metadata_only TEXT;  -- the reason, NULL when frames decode

-- The last failure of a step for a clip, cleared when that step next succeeds for it.
CREATE TABLE IF NOT EXISTS clip_failures (
    clip_id     TEXT NOT NULL,               -- no FK: a clip can fail before clip_source made its row
    asset       TEXT NOT NULL,
    error       TEXT NOT NULL,
    run_id      TEXT,
    failed_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (clip_id, asset)
);

-- Clips an ingest process has in flight: a second ingest of the same folder skips them (and says so);
-- a claim whose process is gone (kill -9) is ignored and taken over.
CREATE TABLE IF NOT EXISTS ingest_claims (
    clip_id     TEXT PRIMARY KEY,
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The code version of each step as the pipeline last defined it, so `list` can say "stale" in SQL
-- without importing Dagster.
CREATE TABLE IF NOT EXISTS pipeline_versions (
    asset            TEXT PRIMARY KEY,
    code_version     TEXT NOT NULL,
    default_enabled  BOOLEAN NOT NULL DEFAULT TRUE,
    position         INTEGER NOT NULL DEFAULT 0,     -- in the graph's topological order
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
