"""The visual relevance set (tests/visual_relevance_set.py): twelve silent clips of packaged photographs,
ingested once by the CLI with the default offline pipeline, then searched with the real hybrid search.

Floors are the figures measured with the offline classifier (bench/relevance.py prints the same and the
similarity distributions): 17 present queries, top-1 9/17 (0.529), recall@5 10/17 (0.588), MRR 0.559; all 14
absent-subject queries answered with nothing (1.0). The queries the classifier cannot answer are part of the set on purpose (ImageNet
has no class for the moon, coins, grass, a rocket launch or an astronaut), so these floors say what offline
vision finds today, and a better analyzer raises them.
"""

import json
import os

import pytest

from catalog_resources.embeddings.service import EmbeddingService
from catalog_resources.resources.catalog import CatalogResource
from tests import visual_relevance_set as vset
from tests.test_ingest import cli
from tests.visual_media import make_still_clip

pytestmark = pytest.mark.slow
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# measured (bench/relevance.py --set visual, MIN_SIMILARITY 0.82 for e5): queries found first / in the top 5
TOP1_FLOOR, RECALL5_FLOOR = 9, 10
# None: the best similarity of any clip to an absent query is 0.813 against the 0.82 cut-off. It was 0.834 ("crowd
# at night") while the embedded clip text also held the file name, codec facts and "framing: no people".
ABSENT_WITH_HITS: set[str] = set()
# the queries the offline classifier answers with the right clip first (its label or general term names them)
MUST_BE_FIRST = ["a cat", "kitten", "cup of coffee", "espresso", "camera on a tripod", "a motorbike", "scooter", "a person",
                 "people"]


@pytest.fixture(scope="module")
def catalog(module_catalog_env, tmp_path_factory) -> tuple[CatalogResource, EmbeddingService, dict[str, str]]:
    """(store, embedder, photograph -> clip id) after one CLI ingest of the set's clips."""
    folder = tmp_path_factory.mktemp("visual set")
    paths = {photo: make_still_clip(folder / name, photo) for name, photo in vset.CLIPS.items()}
    result = cli("ingest", "--json", str(folder))
    assert result.returncode == 0, result.stderr
    by_path = {item["path"]: item["clip_id"] for item in json.loads(result.stdout)["new"]}
    store = CatalogResource(database_url=os.environ["VIDEO_CATALOG_DATABASE_URL"])
    return store, EmbeddingService(), {photo: by_path[str(path)] for photo, path in paths.items()}


@pytest.fixture(scope="module")
def figures(catalog) -> dict:
    store, embedder, clip_of = catalog
    measured = vset.measure(store, embedder, clip_of)
    print("\nVISUAL RELEVANCE " + json.dumps(measured))
    return measured


def test_the_set_is_big_enough_and_silent(catalog):
    assert len(vset.QUERIES) >= 8 and len(vset.ABSENT_QUERIES) >= 10
    store, _, clip_of = catalog
    with store.connect() as conn:
        kinds = {r["segment_type"] for r in conn.execute(
            "SELECT DISTINCT segment_type FROM segments WHERE clip_id = ANY(%s)", (list(clip_of.values()),))}
    assert "visual" in kinds and "transcript" not in kinds and "screen_text" not in kinds, kinds


def test_present_queries_reach_the_measured_top1_and_recall(figures):
    ranks = figures["ranks"].values()
    assert sum(r == 1 for r in ranks) >= TOP1_FLOOR and sum(bool(r and r <= 5) for r in ranks) >= RECALL5_FLOOR, figures
    assert [q for q in MUST_BE_FIRST if figures["ranks"][q] != 1] == [], figures["ranks"]


def test_absent_subjects_return_nothing(figures):
    with_hits = {q for q, n in figures["absent_hits"].items() if n}
    assert with_hits <= ABSENT_WITH_HITS, figures["absent_hits"]  # all 14 answer nothing


def test_no_hit_is_far_weaker_than_the_best_one(catalog):
    """Search drops filler: no hit of an answer is more than TAIL_GAP points below its best hit."""
    from catalog_resources.search.evidence import TAIL_GAP
    from catalog_resources.search.ranking import search

    store, embedder, _ = catalog
    for q in vset.QUERIES:
        strengths = [h.strength for h in search(store, embedder, q["query"]).hits]
        assert all(s >= max(strengths) - TAIL_GAP for s in strengths), (q["query"], strengths)


def test_a_shot_without_people_is_not_found_by_the_word_people(catalog):
    """"no people" (shot type, offline scene label and summary) stays out of the full-text document."""
    from catalog_resources.search.ranking import search

    store, embedder, clip_of = catalog
    worded = {h.clip_id for h in search(store, embedder, "people").hits if "text" in h.matched_by}
    assert worded == {clip_of["astronaut"], clip_of["camera"]}
