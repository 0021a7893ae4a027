-- The facts every filter of `list` and `search` reads, one narrow row per clip. The values are the
-- reconciled technical_metadata's where it exists, else the scan's, as the filters always meant them.
-- Filters used to join clips, technical_metadata and frame_analysis for every clip. At 100k clips that
-- join alone took ~75 ms, so a narrow filter's exact vector search could not answer in 50 ms. Triggers
-- keep this table current, whichever code writes those three tables.
CREATE TABLE IF NOT EXISTS clip_facts (
    clip_id           TEXT PRIMARY KEY REFERENCES clips (clip_id) ON DELETE CASCADE,
    codec             TEXT,              -- lower case
    height            INTEGER,
    short_side        INTEGER,           -- of the displayed picture (rotation and anamorphic pixels applied)
    frame_rate        DOUBLE PRECISION,
    duration_seconds  DOUBLE PRECISION,
    camera            TEXT,              -- make and model
    hdr               BOOLEAN NOT NULL DEFAULT false,
    recorded_at       TIMESTAMPTZ,
    quality_score     DOUBLE PRECISION,
    exposure_warning  BOOLEAN,
    shot_type         TEXT
);

CREATE OR REPLACE FUNCTION refresh_clip_facts(id TEXT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO clip_facts AS f (clip_id, codec, height, short_side, frame_rate, duration_seconds, camera, hdr,
                                 recorded_at, quality_score, exposure_warning, shot_type)
    SELECT c.clip_id, lower(coalesce(t.video_codec, c.video_codec)), coalesce(t.height, c.height),
           least(coalesce(t.display_width, t.width, c.width), coalesce(t.display_height, t.height, c.height)),
           coalesce(t.frame_rate, c.frame_rate), coalesce(t.duration_seconds, c.duration_seconds),
           nullif(concat_ws(' ', t.camera_make, t.camera_model), ''), t.hdr_format IS NOT NULL, t.recorded_at,
           fa.quality_score, fa.exposure_warning, fa.dominant_shot_type
    FROM clips c
    LEFT JOIN technical_metadata t ON t.clip_id = c.clip_id
    LEFT JOIN frame_analysis fa ON fa.clip_id = c.clip_id
    WHERE c.clip_id = id
    ON CONFLICT (clip_id) DO UPDATE SET
        codec = EXCLUDED.codec, height = EXCLUDED.height, short_side = EXCLUDED.short_side,
        frame_rate = EXCLUDED.frame_rate, duration_seconds = EXCLUDED.duration_seconds, camera = EXCLUDED.camera,
        hdr = EXCLUDED.hdr, recorded_at = EXCLUDED.recorded_at, quality_score = EXCLUDED.quality_score,
        exposure_warning = EXCLUDED.exposure_warning, shot_type = EXCLUDED.shot_type;
$$;

CREATE OR REPLACE FUNCTION clip_facts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM refresh_clip_facts(OLD.clip_id);  -- a deleted clip's row goes with it (ON DELETE CASCADE)
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM refresh_clip_facts(NEW.clip_id);
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS clip_facts_from_clips ON clips;
CREATE TRIGGER clip_facts_from_clips
    AFTER INSERT OR DELETE OR UPDATE OF clip_id, video_codec, width, height, frame_rate, duration_seconds ON clips
    FOR EACH ROW EXECUTE FUNCTION clip_facts_follow();
DROP TRIGGER IF EXISTS clip_facts_from_technical_metadata ON technical_metadata;
CREATE TRIGGER clip_facts_from_technical_metadata AFTER INSERT OR UPDATE OR DELETE ON technical_metadata
    FOR EACH ROW EXECUTE FUNCTION clip_facts_follow();
DROP TRIGGER IF EXISTS clip_facts_from_frame_analysis ON frame_analysis;
CREATE TRIGGER clip_facts_from_frame_analysis AFTER INSERT OR UPDATE OR DELETE ON frame_analysis
    FOR EACH ROW EXECUTE FUNCTION clip_facts_follow();

SELECT refresh_clip_facts(clip_id) FROM clips;  -- clips cataloged before this migration
