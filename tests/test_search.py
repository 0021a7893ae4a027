"""Search over a real catalog (Postgres + pgvector) seeded with the relevance set and embedded by the real
model: ranking quality per mode, timestamps, filters, inline filters, export, similar and the cut-off."""

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.search.filters import filter_sql
from catalog_resources.embeddings.service import EmbeddingService
from catalog_resources.models.clips import ClipFilter
from catalog_resources.search.ranking import search, similar
from tests.relevance_set import ABSENT_QUERIES, CLIPS, KINDS, QUERIES
from tests.search_seed import SENTENCE_SECONDS, seed, sentences

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "catalog_cli.main"]
TWIN = {**CLIPS[0], "clip_id": "int-ceo-solar-twin"}  # the same text under another id: `similar` must find it first


@pytest.fixture(scope="module")
def catalog(module_catalog_env):
    store, embedder = CatalogResource(database_url=os.environ["VIDEO_CATALOG_DATABASE_URL"]), EmbeddingService()
    seed(store, embedder, [*CLIPS, TWIN])
    return store, embedder


def measure(store, embedder, mode: str) -> dict[str, dict[str, float]]:
    per_kind: dict[str, list[float]] = {kind: [] for kind in KINDS}
    recall: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for q in QUERIES:
        filters = ClipFilter.model_construct(**q["filter"]) if q.get("filter") else None  # relevance-set shot names
        hits = [h.clip_id for h in search(store, embedder, q["query"], filters, mode=mode, limit=10).hits]
        hits = [h for h in hits if h != TWIN["clip_id"]]
        rank = hits.index(q["expected"]) + 1 if q["expected"] in hits else None
        per_kind[q["kind"]].append(1.0 / rank if rank else 0.0)
        recall[q["kind"]].append(1.0 if rank and rank <= 5 else 0.0)
    everything = [v for vs in per_kind.values() for v in vs]
    hits5 = [v for vs in recall.values() for v in vs]
    return {"all": {"mrr": sum(everything) / len(everything), "recall@5": sum(hits5) / len(hits5)},
            **{k: {"mrr": sum(v) / max(len(v), 1), "recall@5": sum(recall[k]) / max(len(recall[k]), 1)}
               for k, v in per_kind.items()}}


def test_hybrid_is_not_worse_than_either_mode_alone(catalog):
    store, embedder = catalog
    scores = {mode: measure(store, embedder, mode) for mode in ("semantic", "text", "hybrid")}
    print("\nRELEVANCE " + json.dumps({m: {k: {n: round(x, 3) for n, x in v.items()} for k, v in s.items()}
                                       for m, s in scores.items()}))
    for metric in ("mrr", "recall@5"):
        assert scores["hybrid"]["all"][metric] >= max(scores["semantic"]["all"][metric], scores["text"]["all"][metric]) - 0.02
    assert scores["hybrid"]["all"]["recall@5"] >= 0.85 and scores["semantic"]["paraphrase"]["recall@5"] >= 0.7


def test_spoken_words_answer_with_the_sentence_time_range(catalog):
    store, embedder = catalog
    wedding = next(c for c in CLIPS if c["clip_id"] == "evt-wedding-vows")
    index = next(i for i, s in enumerate(sentences(wedding["transcript"])) if "pizza" in s)
    for mode in ("text", "hybrid", "semantic"):
        top = search(store, embedder, "always save you the last slice of pizza", mode=mode).hits[0]
        assert top.clip_id == "evt-wedding-vows", mode
        assert (top.start_seconds, top.end_seconds) == (index * SENTENCE_SECONDS, (index + 1) * SENTENCE_SECONDS), mode
    text_hit = search(store, embedder, "pizza", mode="text").hits[0]
    assert "[pizza]" in text_hit.snippet.lower()


def test_filters_combine_with_and_in_sql(catalog):
    store, embedder = catalog
    filters = ClipFilter(codec="prores", min_height=2160)
    where, params = filter_sql(filters)
    assert "lower(%(codec)s)" in where and "%(min_height)s" in where and " AND " in where
    hits = search(store, embedder, "footage", filters, mode="hybrid", limit=50).hits
    expected = {c["clip_id"] for c in CLIPS if c["technical"]["codec"] == "prores" and c["technical"]["height"] >= 2160}
    assert hits and {h.clip_id for h in hits} <= expected
    assert all(h.video_codec == "prores" and h.height >= 2160 for h in hits)


def test_unrelated_query_says_no_good_matches(catalog):
    store, embedder = catalog
    for mode in ("semantic", "hybrid"):
        assert search(store, embedder, "lattice quantum chromodynamics gauge theory", mode=mode).hits == []
    result = subprocess.run([*CLI, "search", "lattice quantum chromodynamics gauge theory"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1 and "No good matches" in result.stderr


def test_similar_finds_the_same_text_first(catalog):
    store, embedder = catalog
    hits = similar(store, embedder, CLIPS[0]["clip_id"], limit=5)
    assert hits[0].clip_id == TWIN["clip_id"] and hits[0].score > 0.99
    assert CLIPS[0]["clip_id"] not in [h.clip_id for h in hits]
    cli = subprocess.run([*CLI, "similar", CLIPS[0]["clip_id"], "--json", "--limit", "3"], capture_output=True,
                         text=True, timeout=120)
    assert cli.returncode == 0 and json.loads(cli.stdout)[0]["clip_id"] == TWIN["clip_id"]


def test_inline_filters_equal_flags_and_exports_round_trip(catalog, tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*CLI, "search", *args], capture_output=True, text=True, timeout=120)

    inline = run("drone shot of the coastline codec:prores", "--export", "json")
    flags = run("drone shot of the coastline", "--codec", "prores", "--export", "json")
    assert inline.returncode == 0, inline.stderr
    ids = [h["clip_id"] for h in json.loads(inline.stdout)]
    assert ids == [h["clip_id"] for h in json.loads(flags.stdout)] and ids[0] == "aer-coast-cliffs-4k"
    assert list(json.loads(inline.stdout)[0])[:6] == ["clip_id", "path", "score", "start_seconds", "end_seconds", "snippet"]
    out = tmp_path / "hits.csv"
    as_csv = run("drone shot of the coastline", "--codec", "prores", "--export", "csv", "--output", str(out))
    assert as_csv.returncode == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["clip_id"] for r in rows] == ids and {"path", "score", "video_codec", "height"} <= set(rows[0])
    listed = subprocess.run([*CLI, "list", "--codec", "prores", "--json"], capture_output=True,
                            text=True, timeout=120)
    assert set(ids) <= {c["clip_id"] for c in json.loads(listed.stdout)}


def test_list_export_csv_matches_json(catalog):
    as_json = subprocess.run([*CLI, "list", "--codec", "prores", "--json"], capture_output=True, text=True, timeout=120)
    as_csv = subprocess.run([*CLI, "list", "--codec", "prores", "--export", "csv"], capture_output=True, text=True,
                            timeout=120)
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["clip_id"] for r in rows] == [c["clip_id"] for c in json.loads(as_json.stdout)]
    assert rows and {"clip_id", "path", "video_codec", "height", "shot_type"} <= set(rows[0])
    assert all(r["video_codec"] == "prores" for r in rows)


def test_unknown_embedding_model_is_a_clear_error(catalog):
    env = {**os.environ, "VIDEO_CATALOG_EMBEDDING_MODEL": "bge-huge"}
    result = subprocess.run([*CLI, "search", "drone"], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2 and "bge-huge" in result.stderr
    text_only = subprocess.run([*CLI, "search", "drone", "--mode", "text"], capture_output=True, text=True,
                               timeout=120, env=env)
    assert text_only.returncode == 0  # words alone need no model


def test_every_candidate_path_returns_the_exact_nearest_clips(catalog):
    """Few candidates, widened candidates and the exact fallback must all agree with a brute-force answer over
    the vectors read back from Postgres: a filter never hides a match and each clip comes once, at its best."""
    import numpy as np
    from pgvector.psycopg import register_vector

    store, embedder = catalog
    with store.connect() as conn:
        register_vector(conn)
        rows = conn.execute("SELECT clip_id, embedding FROM embeddings WHERE model = %s", (embedder.model,)).fetchall()
    vectors = np.stack([np.asarray(r["embedding"].to_numpy(), dtype=np.float64) for r in rows])
    prores_4k = {c["clip_id"] for c in CLIPS if c["technical"]["codec"] == "prores" and c["technical"]["height"] >= 2160}
    where, params = filter_sql(ClipFilter(codec="prores", min_height=2160))
    assert 0 < len(prores_4k) < len(CLIPS) // 3 and len(rows) > 10 * (len(prores_4k) + 3)  # no path reads them all
    # queries near other clips: the nearest candidates hold few or no ProRes 4K clips, so the wider and exact paths run
    for text in ["a rooftop interview about prices", *(c["summary"] for c in CLIPS if c["clip_id"] not in prores_4k)][:6]:
        query, dimension = embedder.embed_query(text)
        distance = 1.0 - vectors @ np.asarray(query, dtype=np.float64) / np.linalg.norm(vectors, axis=1)
        best: dict[str, float] = {}
        for row, d in zip(rows, distance):
            best[row["clip_id"]] = min(best.get(row["clip_id"], 2.0), float(d))
        for clips in (1, 2, len(prores_4k) + 3):  # 10, 20 or 70 candidates first
            got = store.semantic_matches(query, embedder.model, dimension, where, params, clips)
            expected = sorted(prores_4k, key=lambda c: best[c])[:clips]
            assert [r["clip_id"] for r in got] == expected, (text, clips)
            assert [round(1 - r["similarity"], 4) for r in got] == [round(best[c], 4) for c in expected]
    unfiltered = store.semantic_matches(query, embedder.model, dimension, "TRUE", {}, 5)
    assert [r["clip_id"] for r in unfiltered] == sorted(best, key=best.get)[:5]


# --- match strength, reasons and the calibrated cut-off (search/evidence.py, bench/relevance.py)

def test_a_spoken_line_reads_as_a_strong_match_with_its_line_and_words(catalog):
    store, embedder = catalog
    wedding = next(c for c in CLIPS if c["clip_id"] == "evt-wedding-vows")
    index = next(i for i, s in enumerate(sentences(wedding["transcript"])) if "pizza" in s)
    hits = search(store, embedder, "always save you the last slice of pizza").hits
    top = hits[0]
    assert top.clip_id == "evt-wedding-vows" and top.strength >= 90
    assert all(top.strength > h.strength for h in hits[1:])  # the fused order and the strength agree at the top
    assert {"pizza", "slice", "last", "save", "always"} <= set(top.matched_words)
    first = top.reasons[0]
    assert first.source == "transcript" and "pizza" in first.text.lower()
    assert (first.start_seconds, first.end_seconds) == (index * SENTENCE_SECONDS, (index + 1) * SENTENCE_SECONDS)
    assert top.why.startswith("transcript: ") and "pizza" in top.why.lower()
    assert 0.0 < top.score < 0.05  # the fused rank stays as it was, for scripts that read it


def test_a_paraphrase_is_scored_from_its_similarity_alone(catalog):
    store, embedder = catalog
    top = search(store, embedder, "couple getting married outdoors").hits[0]
    assert top.clip_id == "evt-wedding-vows" and top.matched_words == [] and top.matched_by == ["semantic"]
    cutoff = embedder.cutoff
    assert top.similarity >= cutoff
    assert top.strength == round(100 * min(1.0, 0.5 + 0.5 * (top.similarity - cutoff) / (0.93 - cutoff)))
    assert 50 <= top.strength < 100 and top.reasons[0].similarity == round(top.similarity, 3)
    assert top.reasons[0].source in ("description", "transcript", "scene")


def test_a_tag_that_names_the_query_is_a_reason(catalog):
    store, embedder = catalog
    with store.connect() as conn, conn.transaction():
        tag = conn.execute("INSERT INTO tags (name) VALUES ('Sea Turtle') RETURNING tag_id").fetchone()["tag_id"]
        conn.execute("INSERT INTO clip_tags (clip_id, tag_id, source) VALUES ('nat-reef-turtle', %s, 'user')", (tag,))
    try:
        top = search(store, embedder, "sea turtle").hits[0]
    finally:
        with store.connect() as conn, conn.transaction():
            conn.execute("DELETE FROM tags WHERE tag_id = %s", (tag,))
    assert top.clip_id == "nat-reef-turtle" and top.matched_words == ["sea", "turtle"]
    tagged = [r for r in top.reasons if r.source == "tag"]
    assert tagged and tagged[0].text == "Sea Turtle" and tagged[0].words == ["sea", "turtle"]


def test_clips_mentioning_searches_for_the_subject(catalog):
    store, embedder = catalog
    top = search(store, embedder, "clips mentioning product launch").hits[0]
    assert top.clip_id == "talk-keynote-launch" and "text" in top.matched_by
    assert top.matched_words == ["product", "launch"] and top.strength >= 75


def test_absent_subjects_say_no_good_matches_and_present_ones_keep_their_hits(catalog):
    store, embedder = catalog
    leaked = {q["query"]: search(store, embedder, q["query"]).hits for q in ABSENT_QUERIES}
    leaked = {q: hits for q, hits in leaked.items() if hits}
    # bench/relevance.py: 12 of the 15 absent queries answer nothing at the cut-off (0.8); the three nearest
    # (knitting 0.834, astronaut 0.830, volcano 0.826) pass it by a hair and read as weak matches, not strong ones
    assert len(leaked) <= 3, {q: [h.clip_id for h in hits] for q, hits in leaked.items()}
    assert all(h.strength <= 60 for hits in leaked.values() for h in hits)
    scores = measure(store, embedder, "hybrid")["all"]
    assert scores["mrr"] >= 0.957 and scores["recall@5"] >= 0.957
    strengths = [search(store, embedder, q["query"]).hits[0].strength for q in QUERIES if q["kind"] == "spoken"]
    assert min(strengths) >= 50


def test_search_json_carries_strength_and_reasons_and_an_empty_answer_exits_1(catalog):
    found = subprocess.run([*CLI, "search", "always save you the last slice of pizza", "--json"], capture_output=True,
                           text=True, timeout=120)
    assert found.returncode == 0, found.stderr
    top = json.loads(found.stdout)[0]
    assert list(top)[:6] == ["clip_id", "path", "score", "start_seconds", "end_seconds", "snippet"]
    assert isinstance(top["strength"], int) and 90 <= top["strength"] <= 100
    assert top["reasons"][0]["source"] == "transcript" and "pizza" in top["matched_words"]
    table = subprocess.run([*CLI, "search", "always save you the last slice of pizza"], capture_output=True,
                           text=True, timeout=120)
    assert f"{top['strength']} %" in table.stdout and "transcript:" in table.stdout
    empty = subprocess.run([*CLI, "search", "clips mentioning a bank robbery", "--json"], capture_output=True,
                           text=True, timeout=120)
    assert empty.returncode == 1 and json.loads(empty.stdout) == [] and "No good matches" in empty.stderr
