"""The weak tail of a hit list: how far below the best hit the expected clips sit, and how much filler a
"drop hits more than G points below the best one" rule would remove, measured per relevance set."""

from __future__ import annotations

GAPS = (10, 15, 20, 25, 30, 35, 40, 50)


def tail_gaps(answers: list[tuple[list[int], set[int]]], gaps: tuple[int, ...] = GAPS) -> list[dict]:
    """`answers`: per query, the hits' strengths (%) in order and the positions of its expected clips (empty for
    an absent-subject query). Per gap: expected hits lost, other hits removed and kept."""
    rows = []
    for gap in gaps:
        lost = removed = kept = 0
        for strengths, expected in answers:
            if not strengths:
                continue
            floor = max(strengths) - gap
            for i, s in enumerate(strengths):
                if i in expected:
                    lost += s < floor
                elif s < floor:
                    removed += 1
                else:
                    kept += 1
        rows.append({"gap": gap, "expected_lost": lost, "other_removed": removed, "other_kept": kept})
    return rows


def expected_gaps(answers: list[tuple[list[int], set[int]]]) -> list[int]:
    """How many points each expected hit sits below its query's best hit (the rule's gap must exceed all)."""
    return sorted(max(s) - s[i] for s, expected in answers for i in expected if s)


def set_gap(gap: int) -> None:
    """Set search's tail rule (evidence.TAIL_GAP) for a measurement; 100 switches it off."""
    from catalog_resources.search import evidence

    evidence.TAIL_GAP = gap


def leaks(store, service, queries: list[str]) -> None:
    """Each hit an absent-subject query still gets: what found it (whole clip or a segment), similarity, words.
    Measured (e5, cut-off 0.82, texts-v3): the spoken leaks are a segment match (knitting -> pasta, 0.834) and two
    whole-clip ones (astronaut -> skate, 0.830; volcano -> coastal cliffs, 0.826); a present paraphrase ("shelled
    reptile paddling above bright polyps" -> the reef turtle) is found the same way at 0.82-0.83, so a higher bar
    for whole-clip-only matches loses it. The visual set has none."""
    from catalog_resources.search.ranking import search

    for text in queries:
        for h in search(store, service, text, limit=10).hits:
            where = "whole clip" if h.start_seconds is None else f"segment {h.start_seconds}-{h.end_seconds}"
            print(f"    leak {text!r}: {h.file_name} {h.strength} % sim {h.similarity} by {h.matched_by} {where}"
                  f" words {h.matched_words}")
