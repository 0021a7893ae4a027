-- Issue 18: collections and tags managed from the command line, reviewed machine tags, segment time queries.

-- A collection is named as a person types it; two names that differ only by case would be one collection to
-- them (and `list --collection` compares without case), so the name is unique without case too.
ALTER TABLE collections ADD COLUMN IF NOT EXISTS updated_at TIMESTAMPTZ NOT NULL DEFAULT now();
CREATE UNIQUE INDEX IF NOT EXISTS collections_name_nocase_idx ON collections (lower(name));

-- A machine tag (source ai, visual...) can be reviewed: 'accepted' or 'rejected'. Re-running the analysis replaces
-- only unreviewed tags of its source (store/analysis.py replace_tags), so a rejected tag stays rejected and an
-- accepted one stays. Rejected tags are kept (that is the memory) but match no filter and no search.
ALTER TABLE clip_tags ADD COLUMN IF NOT EXISTS review TEXT CHECK (review IN ('accepted', 'rejected'));
ALTER TABLE clip_tags ADD COLUMN IF NOT EXISTS reviewed_at TIMESTAMPTZ;
ALTER TABLE clip_tags ADD COLUMN IF NOT EXISTS added_at TIMESTAMPTZ NOT NULL DEFAULT now();

-- `segments --duration-min/--duration-max` across the catalog and `--type` read these; a clip's time range
-- reads segments_clip_time_idx (clip_id, start_seconds, end_seconds) from 001.
CREATE INDEX IF NOT EXISTS segments_type_duration_idx ON segments (segment_type, (end_seconds - start_seconds));
CREATE INDEX IF NOT EXISTS segments_duration_idx ON segments ((end_seconds - start_seconds));
