"""Look-alike shots: the calibration of the look strength, and `similar --by look` / `search --image` latency.

calibrate: scikit-image photographs, each against six variants of itself (JPEG at quality 35, cropped, brightened
by 35 %, cropped and brightened, blurred by a 3x down-up resize, letterboxed on grey as the test clips are), and
every pair of different photographs. Prints the cosine figures LOOK_CUTOFF / LOOK_SURE
(analysis/local/visual/look.py) are set from. (`cat` is left out: it is `chelsea` again.)

latency: N clips (default 10,000) with 1-6 scenes each, their look vectors written straight into scene_looks
(binary COPY, index built after): each a non-negative, normalised mix of two real look vectors (the photos and
their variants) plus noise, and a few clips with the real vectors themselves. Times the query path only
(similar_looks, image_search with and without filters; the image's own embedding apart), p50/p95 over a warm
server, and one JSON line prefixed "RESULT ".

    .venv/bin/python bench/look.py calibrate
    .venv/bin/python bench/look.py latency [--clips 10000]
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import close_app, open_warm_app  # noqa: E402
from bench.search import copy_clip_rows  # noqa: E402
from bench.stats import percentile  # noqa: E402
from catalog_resources.analysis.local.visual.classifier import FrameClassifier  # noqa: E402
from catalog_resources.analysis.local.visual.look import LOOK_MODEL, image_look, scene_look  # noqa: E402
from catalog_resources.models.clips import ClipFilter  # noqa: E402
from catalog_resources.search.looks import image_search, similar_looks  # noqa: E402
from catalog_resources.settings import CatalogSettings  # noqa: E402

PHOTOS = ["chelsea", "coffee", "rocket", "astronaut", "hubble_deep_field", "immunohistochemistry", "retina", "camera",
          "coins", "moon", "page", "text", "brick", "grass", "gravel", "horse", "clock", "logo"]


def photos() -> dict[str, Image.Image]:
    from skimage import data

    found = {}
    for name in PHOTOS:
        try:
            found[name] = Image.fromarray(getattr(data, name)()).convert("RGB")
        except Exception as exc:  # a photo fetched on demand is not there offline
            print(f"  skipped {name}: {exc}")
    return found


def variants(picture: Image.Image) -> dict[str, Image.Image]:
    width, height = picture.size
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=35)
    crop = picture.crop((int(width * 0.1), int(height * 0.05), int(width * 0.85), int(height * 0.9)))
    letterbox = Image.new("RGB", (640, 360), (60, 60, 60))
    small = picture.copy()
    small.thumbnail((640, 360))
    letterbox.paste(small, ((640 - small.width) // 2, (360 - small.height) // 2))
    return {"jpeg": Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), "crop": crop,
            "bright": ImageEnhance.Brightness(picture).enhance(1.35),
            "crop+bright": ImageEnhance.Brightness(crop).enhance(1.3),
            "blur": picture.resize((width // 3, height // 3)).resize((width, height)), "letterbox": letterbox}


def looks(classifier: FrameClassifier, pictures: list[Image.Image]) -> np.ndarray:
    _p, features = classifier.classify([np.asarray(p) for p in pictures])
    return np.array([scene_look(f[None, :]) for f in features], dtype=np.float32)


def calibrate(classifier: FrameClassifier) -> tuple[dict[str, float], np.ndarray]:
    found = photos()
    names = list(found)
    base = looks(classifier, [found[n] for n in names])
    same, pool = [], [base]
    for i, name in enumerate(names):
        kinds = variants(found[name])
        vectors = looks(classifier, list(kinds.values()))
        pool.append(vectors)
        same += [(float(v @ base[i]), name, kind) for v, kind in zip(vectors, kinds)]
    other = [(float(base[i] @ base[j]), names[i], names[j]) for i, j in itertools.combinations(range(len(names)), 2)]
    s, o = np.array([x[0] for x in same]), np.array([x[0] for x in other])
    figures = {"photos": len(names), "same_pairs": len(s), "other_pairs": len(o),
               "same_min": s.min(), "same_p10": np.percentile(s, 10), "same_median": np.median(s),
               "other_median": np.median(o), "other_p90": np.percentile(o, 90), "other_p99": np.percentile(o, 99),
               "other_max": o.max()}
    print("  same photo, weakest variants:", ", ".join(f"{n}/{k} {c:.3f}" for c, n, k in sorted(same)[:4]))
    print("  different photos, closest pairs:", ", ".join(f"{a}~{b} {c:.3f}" for c, a, b in sorted(other)[-4:]))
    for key, value in figures.items():
        print(f"  {key:<14} {value}" if isinstance(value, int) else f"  {key:<14} {value:.3f}")
    return {k: v if isinstance(v, int) else round(float(v), 3) for k, v in figures.items()}, np.concatenate(pool)


def seed(store, clips: int, pool: np.ndarray) -> tuple[int, float]:
    """clips rows (with technical metadata, so filters apply) and their scenes' look vectors; the index built after."""
    from pgvector.psycopg import register_vector

    rng, pyrng = np.random.default_rng(7), random.Random(7)
    with store.connect() as conn:
        register_vector(conn)
        conn.execute("DROP INDEX IF EXISTS scene_looks_hnsw")
        with conn.transaction(), conn.cursor() as cur:
            copy_clip_rows(cur, clips, pyrng, seconds=30.0, frame_rates=[25.0])
            scenes = [pyrng.randint(1, 6) for _ in range(clips)]
            total = sum(scenes)
            a, b = rng.integers(0, len(pool), total), rng.integers(0, len(pool), total)
            mixed = np.maximum(pool[a] + 0.5 * pool[b] + rng.normal(0, 0.01, (total, pool.shape[1])), 0)
            mixed[: len(pool)] = pool  # the first clips' scenes are the real vectors themselves
            mixed = (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)
            with cur.copy("COPY scene_looks (clip_id, scene_index, start_seconds, end_seconds, model, embedding)"
                          " FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["text", "int4", "float8", "float8", "text", "vector"])
                n = 0
                for i, count in enumerate(scenes):
                    for s in range(count):
                        copy.write_row((f"c{i:09d}", s, s * 5.0, s * 5.0 + 5.0, LOOK_MODEL, mixed[n]))
                        n += 1
        conn.execute("SET maintenance_work_mem = '1GB'")
        started = time.perf_counter()
        conn.execute("CREATE INDEX scene_looks_hnsw ON scene_looks USING hnsw (embedding vector_cosine_ops)")
        conn.execute("ANALYZE")
        built = time.perf_counter() - started
    print(f"  seeded {clips:,} clips, {total:,} scene vectors; HNSW built in {built:.1f} s")
    return total, built


def timed(fn, rounds: list) -> list[float]:
    out = []
    for args in rounds:
        started = time.perf_counter()
        fn(*args)
        out.append(time.perf_counter() - started)
    return out


def latency(classifier: FrameClassifier, clips: int, pool: np.ndarray) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="vc-bench-look-")) / "home"
    app = open_warm_app(home, "batch", 16)
    try:
        store = app.store
        scenes, built = seed(store, clips, pool)
        rng = random.Random(3)
        asked = [f"c{rng.randrange(clips):09d}" for _ in range(40)] + [f"c{i:09d}" for i in range(10)]
        queries = [pool[rng.randrange(len(pool))] for _ in range(50)]
        filters = ClipFilter(codec="h264", min_height=1080)  # about 1 clip in 6
        narrow = ClipFilter(codec="prores", min_height=2160)  # about 1 clip in 12
        sparse = np.random.default_rng(5)
        unlike = (sparse.random((20, pool.shape[1])) * (sparse.random((20, pool.shape[1])) < 0.02)).astype(np.float32)
        similar_looks(store, asked[0], 10)  # the index into shared buffers, untimed
        image_search(store, queries[0], None, 10)
        cases = {
            "similar_by_look": (lambda c: similar_looks(store, c, 10), [(c,) for c in asked]),
            "search_image": (lambda q: image_search(store, q, None, 10), [(q,) for q in queries]),
            "search_image_filtered": (lambda q: image_search(store, q, filters, 10), [(q,) for q in queries]),
            "search_image_narrow_filter": (lambda q: image_search(store, q, narrow, 10), [(q,) for q in queries]),
            "search_image_no_match": (lambda q: image_search(store, q / np.linalg.norm(q), None, 10), [(q,) for q in unlike]),
        }
        timings = {key: timed(fn, rounds) for key, (fn, rounds) in cases.items()}
        for key, (fn, rounds) in cases.items():  # what the timed calls answered: hits per query
            hits = [len(fn(*args)) for args in rounds[:10]]
            print(f"  {key:<26} hits per query (first 10): {hits}")
        picture = Path(tempfile.mkdtemp(prefix="vc-bench-look-img-")) / "frame.jpg"
        photos()["chelsea"].save(picture)
        image_look(picture, classifier)  # the model loaded once, untimed
        timings["embed_image"] = timed(lambda: image_look(picture, classifier), [()] * 20)
        result = {"clips": clips, "scene_vectors": scenes, "index_build_s": round(built, 1)}
        for key, values in timings.items():
            result[f"{key}_p50_ms"] = round(statistics.median(values) * 1000, 1)
            result[f"{key}_p95_ms"] = round(percentile(values, 0.95) * 1000, 1)
            print(f"  {key:<26} p50 {result[key + '_p50_ms']:7.1f} ms   p95 {result[key + '_p95_ms']:7.1f} ms")
        return result
    finally:
        close_app(app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["calibrate", "latency"])
    parser.add_argument("--clips", type=int, default=10_000)
    args = parser.parse_args()
    classifier = FrameClassifier(CatalogSettings().models_dir)
    figures, pool = calibrate(classifier)
    result = figures if args.what == "calibrate" else {"calibration": figures, **latency(classifier, args.clips, pool)}
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
