-- What the pipeline as last recorded (pipeline_versions) was made from: a digest of the asset graph's source and
-- the settings. While it matches, a re-ingest of cataloged footage can tell it has nothing to do from the catalog
-- alone, without importing Dagster.
CREATE TABLE IF NOT EXISTS pipeline_signature (
    only_row     BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    signature    TEXT NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
