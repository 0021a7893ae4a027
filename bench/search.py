"""Search latency at scale: N clips with ~10 segments each, real embeddings, filters, SQL and CLI timings.

Embedding a million texts with a CPU model is not feasible here, so the vectors come from a pool of real
e5 embeddings of generated clip descriptions (--pool texts), each clip and segment vector a normalised
mix of two pool vectors plus a little noise: real geometry, made quickly. Rows go in with binary COPY;
the partial HNSW index is dropped for the load and rebuilt (its build time is printed).

Prints, per mode, p50/p95 of the SQL the search runs (semantic: clip + segment vectors with filters;
text: full text with filters; hybrid: both and the fusion), the CLI end to end (one process per query,
so cold), and one JSON line prefixed "RESULT ". Goals: SQL p95 under 50 ms at 100k clips with filters;
a CLI search within 2 s cold. SQL figures are of a warm server (one untimed round first; the first query
after a start is printed apart) and use no similarity cut-off, so nothing is pruned by it.

    .venv/bin/python bench/search.py                   # 10,000 clips
    .venv/bin/python bench/search.py --clips 100000    # the 100k figure (long: load + index build)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import close_app, open_warm_app  # noqa: E402
from bench.stats import percentile  # noqa: E402
from catalog_resources.search.filters import filter_sql  # noqa: E402
from catalog_resources.store.endpoint import embedded_server  # noqa: E402
from catalog_resources.embeddings.local import LocalEncoder  # noqa: E402
from catalog_resources.embeddings.service import EmbeddingService  # noqa: E402
from catalog_resources.models.clips import ClipFilter  # noqa: E402
from catalog_resources.search.ranking import search  # noqa: E402

SUBJECTS = ["a chef", "a cyclist", "two reporters", "a drone", "a choir", "a farmer", "a surgeon", "a skateboarder",
            "a crowd", "a fisherman", "an engineer", "a dancer", "a teacher", "a street vendor", "a pilot"]
ACTIONS = ["talks about prices", "crosses a bridge", "prepares pasta", "films the coastline", "sings at a wedding",
           "repairs a turbine", "interviews a mayor", "rides through rain", "sells fruit", "lands a small plane",
           "explains a new product", "celebrates a goal", "walks at night", "harvests grapes", "teaches children"]
PLACES = ["in Berlin", "on a rooftop", "at the harbour", "in a hospital", "in the mountains", "in a studio",
          "at a stadium", "in a market", "by the sea", "in an office", "in a vineyard", "in the desert"]
CODECS = ["h264", "hevc", "prores", "vp9"]
QUERIES = ["interview about pricing on a rooftop", "drone footage of the coastline", "wedding choir singing",
           "night city walk", "cooking pasta in a studio", "engineer fixing a wind turbine", "market stalls with fruit",
           "football fans celebrating", "grape harvest in a vineyard", "teacher with children in a classroom"]


def texts(n: int, rng: random.Random) -> list[str]:
    return [f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(ACTIONS)} {rng.choice(PLACES)}." for _ in range(n)]


def mix(pool: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    a, b = rng.integers(0, len(pool), n), rng.integers(0, len(pool), n)
    v = pool[a] + 0.5 * pool[b] + rng.normal(0, 0.02, (n, pool.shape[1])).astype(np.float32)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32), a


def copy_clip_rows(cur, clips: int, pyrng: random.Random, *, seconds: float, frame_rates: list[float]) -> None:
    """`clips` synthetic clips rows c000000000... with technical metadata, so the filters apply (bench/look.py too)."""
    with cur.copy("COPY clips (clip_id, file_name, path, size_bytes, md5, fast_hash, fingerprint, duration_seconds,"
                  " video_codec, width, height, frame_rate) FROM STDIN") as copy:
        for i in range(clips):
            cid, height = f"c{i:09d}", pyrng.choice([720, 1080, 2160])
            copy.write_row((cid, f"{cid}.mp4", f"/archive/{cid}.mp4", 1, cid, cid, cid, seconds,
                            pyrng.choice(CODECS), height * 16 // 9, height, pyrng.choice(frame_rates)))
    cur.execute("INSERT INTO technical_metadata (clip_id, video_codec, width, height, frame_rate, duration_seconds)"
                " SELECT clip_id, video_codec, width, height, frame_rate, duration_seconds FROM clips")


def load(store, clips: int, segments: int, pool: np.ndarray, pool_texts: list[str], model: str) -> float:
    from pgvector.psycopg import register_vector

    rng, pyrng = np.random.default_rng(7), random.Random(7)
    started = time.perf_counter()
    with store.connect() as conn:
        register_vector(conn)
        conn.execute("DROP INDEX IF EXISTS embeddings_hnsw_384")
        with conn.transaction(), conn.cursor() as cur:
            copy_clip_rows(cur, clips, pyrng, seconds=60.0, frame_rates=[24.0, 25.0, 30.0, 50.0])
            full, picks = mix(pool, rng, clips)
            with cur.copy("COPY catalog_records (clip_id, file_name, path, size_bytes, md5, status, document)"
                          " FROM STDIN") as copy:
                for i in range(clips):
                    cid = f"c{i:09d}"
                    copy.write_row((cid, f"{cid}.mp4", f"/archive/{cid}.mp4", 1, cid, "cataloged", pool_texts[picks[i]]))
            with cur.copy("COPY segments (clip_id, segment_index, start_seconds, end_seconds, segment_type, text)"
                          " FROM STDIN") as copy:
                for i in range(clips):
                    for s in range(segments):
                        copy.write_row((f"c{i:09d}", s, s * 6.0, s * 6.0 + 6.0, "transcript",
                                        pool_texts[(i * 31 + s * 7) % len(pool_texts)]))
            cur.execute("SELECT segment_id, clip_id FROM segments ORDER BY segment_id")
            seg_rows = cur.fetchall()
            seg_vectors, _ = mix(pool, rng, len(seg_rows))
            with cur.copy("COPY embeddings (clip_id, segment_id, scope, model, dimension, source_text, token_count,"
                          " embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["text", "int8", "text", "text", "int4", "text", "int4", "vector"])
                for i in range(clips):
                    copy.write_row((f"c{i:09d}", None, "full_clip", model, 384, "clip", 10, full[i]))
                for (row, vector) in zip(seg_rows, seg_vectors):
                    copy.write_row((row["clip_id"], row["segment_id"], "segment", model, 384, "segment", 10, vector))
    loaded = time.perf_counter() - started  # committed before the index: a cancelled build keeps the rows
    print(f"  loaded {clips:,} clips, {len(seg_rows):,} segments, {clips + len(seg_rows):,} vectors in {loaded:.1f} s")
    return build_index(store, clips + len(seg_rows))


def build_index(store, vectors: int) -> float:
    """The partial HNSW index, built once after the load (far faster than growing it row by row)."""
    with store.connect() as conn:
        # the graph must fit in maintenance_work_mem (about 2 kB per 384-d vector), else the build slows tenfold
        conn.execute(f"SET maintenance_work_mem = '{vectors * 2 * 1024 * 1.3 // 2**30 + 1:.0f}GB'")
        started = time.perf_counter()
        conn.execute("CREATE INDEX IF NOT EXISTS embeddings_hnsw_384 ON embeddings"
                     " USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE dimension = 384")
        conn.execute("ANALYZE")
        built = time.perf_counter() - started
    print(f"  HNSW index built in {built:.1f} s")
    return built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=10_000)
    parser.add_argument("--segments", type=int, default=10)
    parser.add_argument("--pool", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="rounds over the query list")
    parser.add_argument("--home", type=Path, help="keep the seeded catalog here and reuse it on the next run"
                        " (same --clips); default: a temporary home, deleted at the end")
    args = parser.parse_args()
    embedder = LocalEncoder()
    pool_texts = texts(args.pool, random.Random(1))
    started = time.perf_counter()
    pool = embedder.embed_passages(pool_texts)
    print(f"  pool: {args.pool} real e5 embeddings in {time.perf_counter() - started:.1f} s")
    query_vectors = {q: embedder.embed_query(q) for q in QUERIES}
    home = args.home or Path(tempfile.mkdtemp(prefix="vc-bench-search-")) / "home"
    app = open_warm_app(home, "batch", 16)
    try:
        store = app.store
        with store.connect() as conn:
            seeded = conn.execute("SELECT count(*) AS n FROM clips").fetchone()["n"]
        if args.home and seeded == args.clips:
            print(f"  reusing {seeded:,} seeded clips in {home}")
            build = build_index(store, args.clips * (1 + args.segments))  # a no-op when it exists
        elif seeded:
            raise SystemExit(f"{home} holds {seeded:,} clips, not {args.clips:,}: pass another --home or delete it")
        else:
            build = load(store, args.clips, args.segments, pool, pool_texts, embedder.model)
        filters = ClipFilter(codec="h264", min_height=1080)
        where, params = filter_sql(filters)
        narrow_where, narrow_params = filter_sql(ClipFilter(codec="prores", min_height=2160, fps=50))  # ~1 clip in 48
        timings: dict[str, list[float]] = {"semantic_sql": [], "text_sql": [], "hybrid_sql": [], "semantic_sql_unfiltered": [],
                                           "semantic_sql_narrow_filter": []}
        service = EmbeddingService(min_similarity=0.0)

        class Fixed:  # the query vectors are made once: the SQL timings leave the model out
            model, cutoff = service.model, 0.0

            @staticmethod
            def embed_query(text):
                return query_vectors[text], 384

        t = time.perf_counter()  # the first query after the load or a server start reads the index into shared buffers
        store.semantic_matches(query_vectors[QUERIES[0]], embedder.model, 384, where, params, 30)
        first_query = time.perf_counter() - t
        for q in QUERIES:  # one untimed round, so the figures are of a warm server
            search(store, Fixed, q, filters, mode="hybrid", limit=10)
        for _ in range(args.repeat):
            for q in QUERIES:
                t = time.perf_counter()
                store.semantic_matches(query_vectors[q], embedder.model, 384, where, params, 30)
                timings["semantic_sql"].append(time.perf_counter() - t)
                t = time.perf_counter()
                store.semantic_matches(query_vectors[q], embedder.model, 384, "TRUE", {}, 30)
                timings["semantic_sql_unfiltered"].append(time.perf_counter() - t)
                t = time.perf_counter()
                store.semantic_matches(query_vectors[q], embedder.model, 384, narrow_where, narrow_params, 30)
                timings["semantic_sql_narrow_filter"].append(time.perf_counter() - t)
                t = time.perf_counter()
                store.text_matches(q, where, params, 30)
                timings["text_sql"].append(time.perf_counter() - t)
                t = time.perf_counter()
                search(store, Fixed, q, filters, mode="hybrid", limit=10)
                timings["hybrid_sql"].append(time.perf_counter() - t)
        env = {**os.environ, "VIDEO_CATALOG_HOME": str(app.settings.home)}
        cli: list[float] = []
        for q in QUERIES[:5]:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "catalog_cli.main", "search", q, "--codec", "h264", "--min-height",
                            "1080", "--json"], capture_output=True, text=True, env=env, check=False)
            cli.append(time.perf_counter() - t)
        result = {"clips": args.clips, "vectors": args.clips * (1 + args.segments), "index_build_s": round(build, 1),
                  **{f"{k}_p50_ms": round(statistics.median(v) * 1000, 1) for k, v in timings.items()},
                  **{f"{k}_p95_ms": round(percentile(v, 0.95) * 1000, 1) for k, v in timings.items()},
                  "first_query_ms": round(first_query * 1000, 1),
                  "cli_cold_p50_s": round(statistics.median(cli), 2), "cli_cold_max_s": round(max(cli), 2)}
        for k in timings:
            print(f"  {k:<26} p50 {result[k + '_p50_ms']:7.1f} ms   p95 {result[k + '_p95_ms']:7.1f} ms")
        print(f"  first filtered query after the server started (index not yet in memory): {result['first_query_ms']:.0f} ms")
        print(f"  CLI search end to end (cold process, hybrid, filters): p50 {result['cli_cold_p50_s']:.2f} s, "
              f"max {result['cli_cold_max_s']:.2f} s")
        print("RESULT " + json.dumps(result))
    finally:
        if args.home:
            app.instance.dispose()
            embedded_server(app.settings).stop()
        else:
            close_app(app)


if __name__ == "__main__":
    main()
