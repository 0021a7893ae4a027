"""A person in search results: `search --person anna` (on screen) and `search --speaker anna` (speaking), with or
without words, and `person:anna` / `speaker:anna` in a query.

The filters themselves are in search/filters.py (they narrow the clips like any filter); here the hits get the
times that person is on screen or speaks, as `person` / `speaker` reasons with their time ranges, and a search by
person alone (no words) answers with their clips, most time first, each with every range.
"""

from __future__ import annotations

from collections.abc import Callable

from catalog_resources.models.clips import ClipFilter
from catalog_resources.models.search import MatchReason, SearchHit

Ranges = dict[str, list[tuple[float, float]]]


def _ways(store) -> dict[str, tuple[Callable[[str, list[str]], Ranges], str]]:
    """How each kind finds its time ranges, and what a range means."""
    return {"person": (store.person_ranges, "on screen"), "speaker": (store.speaker_turns, "speaking")}


def with_times(store, hits: list[SearchHit], who: str, kind: str = "person") -> list[SearchHit]:
    """Each hit with one reason per time range the person is on screen (kind person) or speaks (kind speaker); a
    hit without a time of its own takes the first range. A hit of words whose own time lies outside every range
    keeps it: the words matched there."""
    ranges_of, meaning = _ways(store)[kind]
    ranges = ranges_of(who, [h.clip_id for h in hits]) if hits else {}
    for hit in hits:
        found = ranges.get(hit.clip_id, [])
        hit.reasons += [MatchReason(source=kind, text=f"{who} {meaning}", start_seconds=a, end_seconds=b)
                        for a, b in found]
        if found and hit.start_seconds is None:
            hit.start_seconds, hit.end_seconds = found[0]
        if found and not hit.why:
            hit.why = f"{kind}: {who} {meaning} at " + ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in found)
    return hits


def with_person_times(store, hits: list[SearchHit], person: str) -> list[SearchHit]:
    return with_times(store, hits, person, "person")


def person_hits(store, filters: ClipFilter, limit: int, kind: str = "person") -> list[SearchHit]:
    """The clips of the person the filter names (kind person: on screen; speaker: speaking), with any other
    filter, most time first."""
    who = (filters.person if kind == "person" else filters.speaker) or ""
    ranges_of, _meaning = _ways(store)[kind]
    rows = store.list_clips(None, filters, "cataloged")
    ranges = ranges_of(who, [r["clip_id"] for r in rows]) if rows else {}
    total = {clip: sum(b - a for a, b in found) for clip, found in ranges.items()}
    order = sorted(total, key=lambda c: (-total[c], c))[:limit]
    facts = store.hit_facts(order) if order else {}
    hits = [SearchHit(
        clip_id=clip_id, path=facts[clip_id]["path"], file_name=facts[clip_id]["file_name"],
        score=round(total[clip_id], 3), matched_by=[kind], thumbnail_path=facts[clip_id]["poster_path"],
        **{k: facts[clip_id][k] for k in ("duration_seconds", "video_codec", "width", "height", "frame_rate",
                                          "shot_type", "quality_score")},
    ) for clip_id in order]
    return with_times(store, hits, who, kind)
