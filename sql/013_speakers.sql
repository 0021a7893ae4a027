-- Who speaks when (issue 22). One people model: a person (sql/010) can have a face, a voice or both. Voice data is
-- personal data like faces: written only by the `speakers` step (off with VIDEO_CATALOG_SPEAKERS=0 or --disable
-- speakers), and `people forget` deletes a person's voice tracks with their faces.
-- Vectors are Resemblyzer's 256-d GE2E voice vectors, unit length, compared by L2 distance.

ALTER TABLE people ADD COLUMN IF NOT EXISTS voice_centroid vector(256);  -- mean of their voice tracks' vectors
ALTER TABLE people ADD COLUMN IF NOT EXISTS voice_track_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS people_voice_hnsw ON people USING hnsw (voice_centroid vector_l2_ops);

-- One speaker within one clip: their turns (also stored as speaker_change segments) and the track's voice vector.
-- face_person_id / face_agreement: the one face on screen during most of this voice's turns, and in what share of
-- them (how sure the voice is that person's); NULL when no single face was on screen in two turns or more.
CREATE TABLE IF NOT EXISTS voice_tracks (
    track_id        BIGSERIAL PRIMARY KEY,
    clip_id         TEXT NOT NULL REFERENCES clips (clip_id) ON DELETE CASCADE,
    speaker_index   INTEGER NOT NULL,
    person_id       BIGINT REFERENCES people (person_id) ON DELETE SET NULL,
    start_seconds   DOUBLE PRECISION NOT NULL,
    end_seconds     DOUBLE PRECISION NOT NULL,
    turns           JSONB NOT NULL DEFAULT '[]',   -- [[start, end], ...] seconds speaking
    speech_seconds  DOUBLE PRECISION NOT NULL DEFAULT 0,
    model           TEXT NOT NULL,
    embedding       vector(256) NOT NULL,
    face_person_id  BIGINT REFERENCES people (person_id) ON DELETE SET NULL,
    face_agreement  REAL,
    face_turns      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (clip_id, speaker_index)
);
CREATE INDEX IF NOT EXISTS voice_tracks_person ON voice_tracks (person_id);
