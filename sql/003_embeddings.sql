-- Issue: embeddings and search. pgvector's HNSW index needs a fixed dimension, and `embeddings` holds
-- vectors of several models. One partial expression index per dimension keeps one table (a clip's
-- vectors of every model side by side, one delete to replace them) while each index stays typed:
-- queries use the same expression, `embedding::vector(N)` with `WHERE dimension = N`.
CREATE INDEX IF NOT EXISTS embeddings_hnsw_384 ON embeddings
    USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE dimension = 384;
CREATE INDEX IF NOT EXISTS embeddings_hnsw_768 ON embeddings
    USING hnsw ((embedding::vector(768)) vector_cosine_ops) WHERE dimension = 768;
CREATE INDEX IF NOT EXISTS embeddings_hnsw_1024 ON embeddings
    USING hnsw ((embedding::vector(1024)) vector_cosine_ops) WHERE dimension = 1024;
CREATE INDEX IF NOT EXISTS embeddings_model_scope_idx ON embeddings (model, scope);

-- Words in segments (transcript lines), so a text match can answer with a time range.
CREATE INDEX IF NOT EXISTS segments_text_search_idx ON segments USING gin (to_tsvector('simple', coalesce(text, '')));
