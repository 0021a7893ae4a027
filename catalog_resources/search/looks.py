"""Look-alike shots: clips whose scenes look like another clip's scenes (`similar --by look`) or like an image
(`search --image`), by the scenes' look vectors (analysis/local/visual/look.py, store/looks.py).

A hit carries the matching scene's time range (and for `similar`, the asked-about clip's scene too) and a
strength on the same footing as search: 50 % at the measured cut-off, 100 % where nine in ten re-framed or
re-lit copies of the same picture are (search/evidence.Calibration). Pairs below the cut-off are not returned,
so a clip that looks like nothing else answers "no look-alike shots".
"""

from __future__ import annotations

from typing import Any

from catalog_resources.analysis.local.visual.look import LOOK_CUTOFF, LOOK_MODEL, LOOK_SURE
from catalog_resources.models.clips import ClipFilter
from catalog_resources.models.search import SearchHit
from catalog_resources.search import evidence
from catalog_resources.search.filters import filter_sql
from catalog_resources.store.catalog import CatalogQueries

LOOK_SCALE = evidence.Calibration(cutoff=LOOK_CUTOFF, sure=LOOK_SURE)
_FACTS = ("duration_seconds", "video_codec", "width", "height", "frame_rate", "shot_type", "quality_score")


def _span(start: float, end: float) -> str:
    return f"{start:.2f}-{end:.2f} s"


def _hit(row: dict[str, Any], facts: dict[str, Any], text: str) -> SearchHit:
    similarity = round(float(row["similarity"]), 4)
    reason = evidence.reason("look", text, row["start_seconds"], row["end_seconds"], similarity=similarity)
    return SearchHit(
        clip_id=row["clip_id"], path=facts["path"], file_name=facts["file_name"], score=similarity,
        strength=int(round(LOOK_SCALE.strength(similarity) * 100)), similarity=similarity,
        why=evidence.summary_line([reason]), reasons=[reason], matched_by=["look"],
        start_seconds=row["start_seconds"], end_seconds=row["end_seconds"],
        query_start_seconds=row.get("query_start_seconds"), query_end_seconds=row.get("query_end_seconds"),
        thumbnail_path=row["keyframe_path"] or facts["poster_path"], **{k: facts[k] for k in _FACTS},
    )


def similar_looks(store: CatalogQueries, clip_id: str, limit: int = 10, model: str = LOOK_MODEL) -> list[SearchHit]:
    """Other clips by their best pair of scenes with this clip's, best first, above the cut-off."""
    rows = store.looks_like_clip(clip_id, model, limit, LOOK_CUTOFF)
    facts = store.hit_facts([r["clip_id"] for r in rows])
    return [_hit(r, facts[r["clip_id"]], f"its scene {_span(r['start_seconds'], r['end_seconds'])} looks like "
                                          f"{_span(r['query_start_seconds'], r['query_end_seconds'])} of this clip")
            for r in rows]


def image_search(store: CatalogQueries, vector: list[float], filters: ClipFilter | None = None, limit: int = 10,
                 model: str = LOOK_MODEL) -> list[SearchHit]:
    """Clips by their scene nearest to the image's look, best first, filtered as `list`, above the cut-off."""
    where, params = filter_sql(filters)
    rows = store.looks_like_image(vector, model, where, params, limit, LOOK_CUTOFF)
    facts = store.hit_facts([r["clip_id"] for r in rows])
    return [_hit(r, facts[r["clip_id"]], f"scene {_span(r['start_seconds'], r['end_seconds'])} looks like the image")
            for r in rows]
