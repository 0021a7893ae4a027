"""A visual relevance set: silent clips of real photographs that ship in installed packages, and the queries a
person would type to find them, plus queries about subjects none of them shows.

The photographs are scikit-image's `skimage.data` and scikit-learn's sample images, each looped for two
seconds with ffmpeg (tests/visual_media.py: no audio track, no text on screen, letterboxed on grey), under
neutral file names, so only the offline visual analysis (frame_analysis: ImageNet labels, their WordNet general
terms, people, light, camera motion) can find them. Photographs with printed text (`page`, `text`) are left
out: on-screen text reading would find those.

What the offline classifier (EfficientNet-Lite0, ImageNet-1k) says about each one, measured on the letterboxed
photograph (the scene texts frame_analysis writes for the encoded clips, printed by bench/relevance.py, differ
only where noted):

- chelsea: Egyptian cat 0.62, tiger cat 0.21 -> "cat, animal"
- coffee: espresso 0.95 -> "food, drink"
- rocket: missile 0.31, projectile 0.16 -> "weapon, vehicle" (ImageNet has no rocket-launch class)
- astronaut (Eileen Collins in her suit): bobsled 0.26 -> "vehicle"; the face detector counts one person
- camera (the cameraman): tripod 0.95
- stereo_motorcycle: moped 0.71, motor scooter 0.14 -> "vehicle"
- sklearn:china.jpg (a temple roof): palace 0.30, bell cote 0.25 -> "building, house"
- sklearn:flower.jpg: daisy 0.21 (under 0.2 in the encoded clip: its scene text has light words only)
- hubble_deep_field: no label over 0.2 (the clip: nematode -> "animal"); dark -> "night, black"
- moon: nematode 0.24 (the crater surface is no ImageNet class)
- coins: golf ball 0.44 -> "sports equipment, ball"
- grass: no label over 0.1

So some obvious queries cannot be answered by this classifier (the moon, coins, grass, an astronaut by name):
they stay in the set, and the figures say how many.
"""

from __future__ import annotations

# neutral file name -> the packaged photograph looped in it (tests/visual_media.py: load_photo)
CLIPS: dict[str, str] = {
    "shot_01.mp4": "chelsea",
    "shot_02.mp4": "coffee",
    "shot_03.mp4": "rocket",
    "shot_04.mp4": "astronaut",
    "shot_05.mp4": "camera",
    "shot_06.mp4": "stereo_motorcycle",
    "shot_07.mp4": "sklearn:china.jpg",
    "shot_08.mp4": "sklearn:flower.jpg",
    "shot_09.mp4": "hubble_deep_field",
    "shot_10.mp4": "moon",
    "shot_11.mp4": "coins",
    "shot_12.mp4": "grass",
}

# what a person types -> the photograph(s) that answer it
QUERIES: list[dict] = [
    {"query": "a cat", "expected": ["chelsea"]},
    {"query": "kitten", "expected": ["chelsea"]},
    {"query": "cup of coffee", "expected": ["coffee"]},
    {"query": "espresso", "expected": ["coffee"]},
    {"query": "rocket launch", "expected": ["rocket"]},
    {"query": "an astronaut", "expected": ["astronaut"]},
    {"query": "a person", "expected": ["astronaut"]},
    {"query": "people", "expected": ["astronaut", "camera"]},
    {"query": "camera on a tripod", "expected": ["camera"]},
    {"query": "a motorbike", "expected": ["stereo_motorcycle"]},
    {"query": "scooter", "expected": ["stereo_motorcycle"]},
    {"query": "an old temple", "expected": ["sklearn:china.jpg"]},
    {"query": "a flower", "expected": ["sklearn:flower.jpg"]},
    {"query": "stars in the night sky", "expected": ["hubble_deep_field"]},
    {"query": "the moon", "expected": ["moon"]},
    {"query": "coins", "expected": ["coins"]},
    {"query": "grass", "expected": ["grass"]},
]

# subjects none of the twelve photographs shows: the search should answer "no good matches"
ABSENT_QUERIES: list[str] = [
    "a dog on a beach",
    "crowd at night",
    "snowy mountains",
    "a car driving on a highway",
    "children playing football",
    "a bowl of fruit",
    "a sailing boat at sea",
    "a horse in a field",
    "people dancing at a wedding",
    "a bird flying",
    "waterfall in a forest",
    "a plate of pasta",
    "city traffic at night",
    "a fish underwater",
]


def measure(store, embedder, clip_of: dict[str, str], *, limit: int = 10) -> dict:
    """Top-1, recall@5 and MRR of the present queries and, for the absent ones, how many hits each got and the
    share answered with none, through the real hybrid `search()`. `clip_of`: photograph -> its clip id."""
    from catalog_resources.search.ranking import search  # here, so the data above imports nothing heavy

    ranks: dict[str, int | None] = {}
    for q in QUERIES:
        hits = [h.clip_id for h in search(store, embedder, q["query"], limit=limit).hits]
        wanted = {clip_of[p] for p in q["expected"]}
        ranks[q["query"]] = next((i + 1 for i, c in enumerate(hits) if c in wanted), None)
    absent = {text: len(search(store, embedder, text, limit=limit).hits) for text in ABSENT_QUERIES}
    n = len(QUERIES)
    return {
        "top1": round(sum(r == 1 for r in ranks.values()) / n, 3),
        "recall@5": round(sum(bool(r and r <= 5) for r in ranks.values()) / n, 3),
        "mrr": round(sum(1.0 / r for r in ranks.values() if r) / n, 3),
        "no_match_precision": round(sum(v == 0 for v in absent.values()) / len(absent), 3),
        "ranks": ranks,
        "absent_hits": absent,
    }
