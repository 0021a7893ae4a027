-- Look-alike shots: one image vector per described scene (the classifier's pooled features, mean over the
-- scene's labelled frames, L2-normalised), written with frame_analysis. `model` names the image model, so
-- vectors of two models are never compared. pgvector indexes up to 2,000 dimensions with HNSW; 1280 fits.
CREATE TABLE IF NOT EXISTS scene_looks (
    clip_id       TEXT NOT NULL REFERENCES clips (clip_id) ON DELETE CASCADE,
    scene_index   INTEGER NOT NULL,
    start_seconds DOUBLE PRECISION NOT NULL,
    end_seconds   DOUBLE PRECISION NOT NULL,
    keyframe_path TEXT,
    model         TEXT NOT NULL,
    embedding     vector(1280) NOT NULL,
    PRIMARY KEY (clip_id, model, scene_index)
);
CREATE INDEX IF NOT EXISTS scene_looks_hnsw ON scene_looks USING hnsw (embedding vector_cosine_ops);
