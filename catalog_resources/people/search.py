"""A person in search results: `search --person anna` (with or without words) and `person:anna` in a query.

The --person filter itself is in search/filters.py (it narrows the clips like any filter); here the hits get
the times that person is on screen, as `person` reasons with their time ranges, and a search by person alone
(no words) answers with that person's clips, most screen time first.
"""

from __future__ import annotations

from catalog_resources.models.clips import ClipFilter
from catalog_resources.models.search import MatchReason, SearchHit


def with_person_times(store, hits: list[SearchHit], person: str) -> list[SearchHit]:
    """Each hit with one `person` reason per time range the person is on screen; a hit without a time of its
    own takes the person's first range."""
    ranges = store.person_ranges(person, [h.clip_id for h in hits]) if hits else {}
    for hit in hits:
        found = ranges.get(hit.clip_id, [])
        hit.reasons += [MatchReason(source="person", text=f"{person} on screen", start_seconds=a, end_seconds=b)
                        for a, b in found]
        if found and hit.start_seconds is None:
            hit.start_seconds, hit.end_seconds = found[0]
        if found and not hit.why:
            hit.why = f"person: {person} at " + ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in found)
    return hits


def person_hits(store, filters: ClipFilter, limit: int) -> list[SearchHit]:
    """The clips of the person the filter names (and any other filter), most screen time first."""
    person = filters.person or ""
    rows = store.list_clips(None, filters, "cataloged")
    ranges = store.person_ranges(person, [r["clip_id"] for r in rows]) if rows else {}
    on_screen = {clip: sum(b - a for a, b in found) for clip, found in ranges.items()}
    order = sorted(on_screen, key=lambda c: (-on_screen[c], c))[:limit]
    facts = store.hit_facts(order) if order else {}
    hits = [SearchHit(
        clip_id=clip_id, path=facts[clip_id]["path"], file_name=facts[clip_id]["file_name"],
        score=round(on_screen[clip_id], 3), matched_by=["person"], thumbnail_path=facts[clip_id]["poster_path"],
        **{k: facts[clip_id][k] for k in ("duration_seconds", "video_codec", "width", "height", "frame_rate",
                                          "shot_type", "quality_score")},
    ) for clip_id in order]
    return with_person_times(store, hits, person)
