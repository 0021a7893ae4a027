-- People across footage (issue 21). Face data is personal data: written only by the `faces` step (off with
-- VIDEO_CATALOG_FACES=0 or --disable faces), and `people forget` deletes a person's tracks, vectors and crops.
-- Vectors are dlib's 128-d face descriptors, unit length, compared by L2 distance (dlib: same person < 0.6).

-- A person: a cluster of face tracks across clips. The row outlives its tracks (a clip re-analysed drops and
-- re-adds its tracks), so a name given to a person is found again by the same face.
CREATE TABLE IF NOT EXISTS people (
    person_id   BIGSERIAL PRIMARY KEY,
    name        TEXT,
    centroid    vector(128),               -- mean of its tracks' vectors; kept when the last track goes
    track_count INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    named_at    TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS people_centroid_hnsw ON people USING hnsw (centroid vector_l2_ops);
CREATE INDEX IF NOT EXISTS people_name ON people (lower(name));

-- One person within one clip: when they are on screen, and the track's vector.
CREATE TABLE IF NOT EXISTS face_tracks (
    track_id       BIGSERIAL PRIMARY KEY,
    clip_id        TEXT NOT NULL REFERENCES clips (clip_id) ON DELETE CASCADE,
    track_index    INTEGER NOT NULL,
    person_id      BIGINT REFERENCES people (person_id) ON DELETE SET NULL,
    start_seconds  DOUBLE PRECISION NOT NULL,
    end_seconds    DOUBLE PRECISION NOT NULL,
    ranges         JSONB NOT NULL DEFAULT '[]',   -- [[start, end], ...] seconds on screen
    screen_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
    sightings      INTEGER NOT NULL DEFAULT 0,
    crop_path      TEXT,
    model          TEXT NOT NULL,
    embedding      vector(128) NOT NULL,
    UNIQUE (clip_id, track_index)
);
CREATE INDEX IF NOT EXISTS face_tracks_person ON face_tracks (person_id);

-- A face the user took away from a person (`people split`): a track this near it never joins that person again.
CREATE TABLE IF NOT EXISTS face_track_rejections (
    rejection_id BIGSERIAL PRIMARY KEY,
    person_id    BIGINT NOT NULL REFERENCES people (person_id) ON DELETE CASCADE,
    embedding    vector(128) NOT NULL,
    clip_id      TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS face_track_rejections_person ON face_track_rejections (person_id);
