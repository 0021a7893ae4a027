-- The catalog schema. Clip ids are the Dagster partition keys (content fingerprints), so TEXT.
-- Later issues fill these tables; add columns by new numbered migrations, never by editing this one.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE IF NOT EXISTS clips (
    clip_id            TEXT PRIMARY KEY,
    file_name          TEXT NOT NULL,
    path               TEXT NOT NULL,             -- primary (first online) path
    size_bytes         BIGINT NOT NULL,
    md5                TEXT NOT NULL,             -- the spec's dedup key
    fast_hash          TEXT NOT NULL,             -- xxh3-128 of the whole file
    fingerprint        TEXT NOT NULL,             -- sampled: size + head/middle/tail blocks
    container          TEXT,
    duration_seconds   DOUBLE PRECISION,
    video_codec        TEXT,
    width              INTEGER,
    height             INTEGER,
    frame_rate         DOUBLE PRECISION,
    has_audio          BOOLEAN,
    status             TEXT NOT NULL DEFAULT 'cataloged',
    cataloged_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS clips_md5_idx ON clips (md5);
CREATE INDEX IF NOT EXISTS clips_file_name_idx ON clips (file_name);

-- Every path a clip was seen at.
CREATE TABLE IF NOT EXISTS clip_sources (
    clip_id     TEXT NOT NULL REFERENCES clips (clip_id) ON DELETE CASCADE,
    path        TEXT NOT NULL,
    size_bytes  BIGINT NOT NULL,
    mtime       TIMESTAMPTZ NOT NULL,
    md5         TEXT,
    first_seen  TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen   TIMESTAMPTZ NOT NULL DEFAULT now(),
    online      BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (clip_id, path)
);
CREATE INDEX IF NOT EXISTS clip_sources_path_idx ON clip_sources (path);

-- Discovery cache: what the scanner last saw at each path, so a re-scan of an unchanged tree hashes nothing.
CREATE TABLE IF NOT EXISTS scanned_files (
    path         TEXT PRIMARY KEY,
    size_bytes   BIGINT NOT NULL,
    mtime_ns     BIGINT NOT NULL,
    fingerprint  TEXT,                 -- the clip id when the file is video
    kind         TEXT NOT NULL CHECK (kind IN ('video', 'not_video', 'unreadable')),
    reason       TEXT,
    probe_version INTEGER NOT NULL DEFAULT 1,  -- answers from an older classifier are probed again
    first_seen   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS scanned_files_fingerprint_idx ON scanned_files (fingerprint);

CREATE TABLE IF NOT EXISTS technical_metadata (
    clip_id                  TEXT PRIMARY KEY REFERENCES clips (clip_id) ON DELETE CASCADE,
    container_format         TEXT,
    container_brand          TEXT,
    duration_seconds         DOUBLE PRECISION,
    start_time_seconds       DOUBLE PRECISION,
    bitrate                  BIGINT,
    video_codec              TEXT,
    video_profile            TEXT,
    video_level              TEXT,
    bit_depth                INTEGER,
    chroma_subsampling       TEXT,
    pixel_format             TEXT,
    scan_type                TEXT,
    field_order              TEXT,
    width                    INTEGER,
    height                   INTEGER,
    display_width            INTEGER,
    display_height           INTEGER,
    sample_aspect_ratio      TEXT,
    display_aspect_ratio     TEXT,
    rotation                 INTEGER,
    frame_rate               DOUBLE PRECISION,
    avg_frame_rate           DOUBLE PRECISION,
    is_vfr                   BOOLEAN,
    frame_count              BIGINT,
    color_primaries          TEXT,
    transfer_characteristics TEXT,
    matrix_coefficients      TEXT,
    color_range              TEXT,
    hdr_format               TEXT,
    max_cll                  INTEGER,
    max_fall                 INTEGER,
    recorded_at              TIMESTAMPTZ,
    timecode                 TEXT,
    camera_make              TEXT,
    camera_model             TEXT,
    lens                     TEXT,
    focal_length_mm          DOUBLE PRECISION,
    iso                      INTEGER,
    gps_latitude             DOUBLE PRECISION,
    gps_longitude            DOUBLE PRECISION,
    gps_altitude             DOUBLE PRECISION,
    source_workflow          TEXT,
    validation_issues        JSONB NOT NULL DEFAULT '[]',
    details                  JSONB NOT NULL DEFAULT '{}'   -- the whole TechnicalMetadata model
);
CREATE INDEX IF NOT EXISTS technical_metadata_codec_idx ON technical_metadata (video_codec);
CREATE INDEX IF NOT EXISTS technical_metadata_height_idx ON technical_metadata (height);

CREATE TABLE IF NOT EXISTS audio_tracks (
    clip_id         TEXT NOT NULL REFERENCES clips (clip_id) ON DELETE CASCADE,
    track_index     INTEGER NOT NULL,
    codec           TEXT,
    channels        INTEGER,
    channel_layout  TEXT,
    sample_rate     INTEGER,
    bit_depth       INTEGER,
    bitrate         BIGINT,
    language        TEXT,
    duration_seconds DOUBLE PRECISION,
    title           TEXT,
    is_default      BOOLEAN,
    PRIMARY KEY (clip_id, track_index)
);

CREATE TABLE IF NOT EXISTS subtitle_tracks (
    clip_id      TEXT NOT NULL REFERENCES clips (clip_id) ON DELETE CASCADE,
    track_index  INTEGER NOT NULL,
    codec        TEXT,
    language     TEXT,
    title        TEXT,
    embedded     BOOLEAN NOT NULL DEFAULT TRUE,
    is_forced    BOOLEAN,
    is_default   BOOLEAN,
    PRIMARY KEY (clip_id, track_index)
);

CREATE TABLE IF NOT EXISTS thumbnails (
    clip_id            TEXT NOT NULL REFERENCES clips (clip_id) ON DELETE CASCADE,
    thumbnail_index    INTEGER NOT NULL,
    frame_number       BIGINT,
    pts_seconds        DOUBLE PRECISION NOT NULL,
    paths              JSONB NOT NULL DEFAULT '{}',   -- size label -> file path
    width              INTEGER,
    height             INTEGER,
    score              DOUBLE PRECISION,
    is_poster          BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (clip_id, thumbnail_index)
);

CREATE TABLE IF NOT EXISTS frame_analysis (
    clip_id                 TEXT PRIMARY KEY REFERENCES clips (clip_id) ON DELETE CASCADE,
    overexposed_percent     DOUBLE PRECISION,
    underexposed_percent    DOUBLE PRECISION,
    exposure_warning        BOOLEAN,
    exposure_stops          DOUBLE PRECISION,
    blur_score              DOUBLE PRECISION,
    noise_score             DOUBLE PRECISION,
    quality_score           DOUBLE PRECISION,
    dominant_shot_type      TEXT,
    scene_cut_count         INTEGER,
    details                 JSONB NOT NULL DEFAULT '{}'
);

CREATE TABLE IF NOT EXISTS analysis (
    clip_id               TEXT PRIMARY KEY REFERENCES clips (clip_id) ON DELETE CASCADE,
    backend               TEXT NOT NULL,
    model                 TEXT,
    prompt_hash           TEXT,
    summary               TEXT,
    keywords              TEXT[] NOT NULL DEFAULT '{}',
    entities              JSONB NOT NULL DEFAULT '{}',
    scene_classification  TEXT[] NOT NULL DEFAULT '{}',
    sentiment             TEXT,
    content_warnings      TEXT[] NOT NULL DEFAULT '{}',
    on_screen_text        TEXT[] NOT NULL DEFAULT '{}',
    raw                   JSONB NOT NULL DEFAULT '{}',
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS transcripts (
    clip_id            TEXT PRIMARY KEY REFERENCES clips (clip_id) ON DELETE CASCADE,
    language           TEXT,
    full_text          TEXT,
    segments           JSONB NOT NULL DEFAULT '[]',
    speakers           JSONB NOT NULL DEFAULT '[]',
    non_speech_events  JSONB NOT NULL DEFAULT '[]'
);

CREATE TABLE IF NOT EXISTS segments (
    segment_id     BIGSERIAL PRIMARY KEY,
    clip_id        TEXT NOT NULL REFERENCES clips (clip_id) ON DELETE CASCADE,
    segment_index  INTEGER NOT NULL,
    start_seconds  DOUBLE PRECISION NOT NULL,
    end_seconds    DOUBLE PRECISION NOT NULL,
    segment_type   TEXT NOT NULL DEFAULT 'auto',   -- scene_change, transcript, speaker_change, manual
    text           TEXT,
    description    TEXT,
    keyframe_path  TEXT,
    UNIQUE (clip_id, segment_index),
    CHECK (end_seconds >= start_seconds)
);
CREATE INDEX IF NOT EXISTS segments_clip_time_idx ON segments (clip_id, start_seconds, end_seconds);

-- Vectors of any dimension; per-model HNSW indexes are partial expression indexes added with the embedder.
CREATE TABLE IF NOT EXISTS embeddings (
    embedding_id  BIGSERIAL PRIMARY KEY,
    clip_id       TEXT NOT NULL REFERENCES clips (clip_id) ON DELETE CASCADE,
    segment_id    BIGINT REFERENCES segments (segment_id) ON DELETE CASCADE,
    scope         TEXT NOT NULL CHECK (scope IN ('full_clip', 'segment')),
    model         TEXT NOT NULL,
    dimension     INTEGER NOT NULL,
    source_text   TEXT NOT NULL,
    token_count   INTEGER NOT NULL,
    embedding     vector NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((scope = 'full_clip' AND segment_id IS NULL) OR (scope = 'segment' AND segment_id IS NOT NULL)),
    CHECK (vector_dims(embedding) = dimension)
);
CREATE INDEX IF NOT EXISTS embeddings_clip_model_idx ON embeddings (clip_id, model);

-- The clip's denormalized search row, rebuilt by the catalog_record asset.
CREATE TABLE IF NOT EXISTS catalog_records (
    clip_id           TEXT PRIMARY KEY REFERENCES clips (clip_id) ON DELETE CASCADE,
    file_name         TEXT NOT NULL,
    path              TEXT NOT NULL,
    paths             TEXT[] NOT NULL DEFAULT '{}',
    duration_seconds  DOUBLE PRECISION,
    size_bytes        BIGINT NOT NULL,
    md5               TEXT NOT NULL,
    status            TEXT NOT NULL,
    container         TEXT,
    video_codec       TEXT,
    width             INTEGER,
    height            INTEGER,
    frame_rate        DOUBLE PRECISION,
    camera            TEXT,
    hdr_format        TEXT,
    shot_type         TEXT,
    quality_score     DOUBLE PRECISION,
    recorded_at       TIMESTAMPTZ,
    summary           TEXT,
    keywords          TEXT[] NOT NULL DEFAULT '{}',
    poster_path       TEXT,
    document          TEXT NOT NULL DEFAULT '',
    search_vector     tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(document, ''))) STORED,
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS catalog_records_search_idx ON catalog_records USING gin (search_vector);
CREATE INDEX IF NOT EXISTS catalog_records_codec_idx ON catalog_records (video_codec);
CREATE INDEX IF NOT EXISTS catalog_records_duration_idx ON catalog_records (duration_seconds);

CREATE TABLE IF NOT EXISTS collections (
    collection_id  BIGSERIAL PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    description    TEXT,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS collection_clips (
    collection_id  BIGINT NOT NULL REFERENCES collections (collection_id) ON DELETE CASCADE,
    clip_id        TEXT NOT NULL REFERENCES clips (clip_id) ON DELETE CASCADE,
    added_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (collection_id, clip_id)
);
CREATE INDEX IF NOT EXISTS collection_clips_clip_idx ON collection_clips (clip_id);

CREATE TABLE IF NOT EXISTS tags (
    tag_id  BIGSERIAL PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS clip_tags (
    clip_id  TEXT NOT NULL REFERENCES clips (clip_id) ON DELETE CASCADE,
    tag_id   BIGINT NOT NULL REFERENCES tags (tag_id) ON DELETE CASCADE,
    PRIMARY KEY (clip_id, tag_id)
);
CREATE INDEX IF NOT EXISTS clip_tags_tag_idx ON clip_tags (tag_id);
