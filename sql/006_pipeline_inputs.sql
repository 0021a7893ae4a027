-- The inputs of each step whose re-materialization makes the step's product out of date (its parents in the
-- graph, except clip_source, whose product is fixed by the clip's content). With them `list` and `show` say
-- "stale" for a product made before its input was redone (a partial re-run from the UI), as `refresh --stale`
-- and the Dagster automation condition do.
ALTER TABLE pipeline_versions ADD COLUMN IF NOT EXISTS inputs TEXT[] NOT NULL DEFAULT '{}';
