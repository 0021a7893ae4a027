"""The visual half of bench/relevance.py: the silent clips of tests/visual_relevance_set.py ingested by the real
pipeline (default steps, offline analyzer) into a fresh catalog, then searched.

Prints each clip's visual scene text, the best similarity of the expected clip for each present query and of
any clip for each absent one (what the cut-off has to separate), a sweep of cut-offs with top-1 / recall@5 / MRR
and the share of absent queries answered with nothing, and the figures at MIN_SIMILARITY.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path

from bench.ingest import close_app, open_warm_app
from catalog_assets.steps import select_steps
from catalog_resources.embeddings.service import EmbeddingService
from catalog_resources.search import evidence
from catalog_resources.search.ranking import search
from bench.tail import expected_gaps, leaks, set_gap, tail_gaps
from tests.visual_media import make_still_clip
from tests import visual_relevance_set as vset


def ingest_set(app, folder: Path) -> dict[str, str]:
    """photograph -> clip id, after one ingest of the set's clips."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {photo: make_still_clip(folder / name, photo) for name, photo in vset.CLIPS.items()}
    summary = app.ingest([folder], steps=select_steps())
    assert not summary.failed, summary.failed
    by_path = {item.path: item.clip_id for item in summary.new}
    return {photo: by_path[str(path)] for photo, path in paths.items()}


def best_by_clip(store, service: EmbeddingService, text: str) -> dict[str, float]:
    vector, dimension = service.embed_query(evidence.search_subject(text))
    rows = store.semantic_matches(vector, service.model, dimension, "TRUE", {}, 100, min_similarity=-1.0)
    return {r["clip_id"]: float(r["similarity"]) for r in rows}


def spread(values: list[float]) -> str:
    q = statistics.quantiles(values, n=10)
    return f"min {min(values):.3f}  p10 {q[0]:.3f}  median {statistics.median(values):.3f}  p90 {q[-1]:.3f}  max {max(values):.3f}"


def visual_main(service: EmbeddingService) -> dict:
    work = Path(tempfile.mkdtemp(prefix="vc-bench-visual-"))
    app = open_warm_app(work / "home", "batch", 16)
    try:
        store = app.store
        clip_of = ingest_set(app, work / "footage")
        photo_of = {c: p for p, c in clip_of.items()}
        with store.connect() as conn:
            for row in conn.execute("SELECT clip_id, text FROM segments WHERE segment_type = 'visual'"
                                    " ORDER BY clip_id").fetchall():
                print(f"  scene  {photo_of[row['clip_id']]:22s} {row['text']}")
        present = []
        for q in vset.QUERIES:
            sims = best_by_clip(store, service, q["query"])
            mine = max(sims.get(clip_of[p], -1.0) for p in q["expected"])
            rival = max((s for c, s in sims.items() if photo_of[c] not in q["expected"]), default=-1.0)
            present.append(mine)
            print(f"  present {mine:.3f} (best other {rival:.3f})  {q['query']!r}")
        absent = []
        for text in vset.ABSENT_QUERIES:
            sims = best_by_clip(store, service, text)
            top = max(sims, key=sims.get)
            absent.append(sims[top])
            print(f"  absent  {sims[top]:.3f} ({photo_of[top]})  {text!r}")
        print(f"  expected clip's best similarity, {len(present)} present queries:  {spread(present)}")
        print(f"  best similarity of any clip, {len(absent)} absent queries:     {spread(absent)}")
        for cutoff in [round(0.80 + 0.005 * i, 3) for i in range(9)]:
            service.min_similarity = cutoff
            row = vset.measure(store, service, clip_of)
            print("  sweep " + json.dumps({"cutoff": cutoff, **{k: row[k] for k in ("top1", "recall@5", "mrr",
                                                                                   "no_match_precision")}}))
        service.min_similarity = None
        after = vset.measure(store, service, clip_of)
        print(f"  at MIN_SIMILARITY = {service.cutoff}: " + json.dumps(after))
        leaks(store, service, vset.ABSENT_QUERIES)
        answers, kept_gap = [], evidence.TAIL_GAP
        set_gap(100)  # the tail as it is without the rule
        for q in vset.QUERIES:
            hits = search(store, service, q["query"], limit=10).hits
            answers.append(([h.strength for h in hits],
                            {i for i, h in enumerate(hits) if photo_of[h.clip_id] in q["expected"]}))
        for text in vset.ABSENT_QUERIES:
            answers.append(([h.strength for h in search(store, service, text, limit=10).hits], set()))
        set_gap(kept_gap)
        print(f"  expected hit's points below the best hit: {expected_gaps(answers)}")
        for row in tail_gaps(answers):
            print("  tail " + json.dumps(row))
        result = {"present": spread(present), "absent": spread(absent), "after": after}
        print("RESULT visual " + json.dumps(result))
        return result
    finally:
        close_app(app)
