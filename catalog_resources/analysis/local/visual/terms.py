"""General terms for ImageNet classes: the nearest curated WordNet hypernyms of each class.

Only which hypernyms count as a "general term" is written here (~80 synsets, by WordNet 3.0 offset); which of
the 1000 classes fall under them comes from WordNet itself, so 120 dog breeds roll up to "dog" and seashore,
sandbar and promontory to "coast" without a per-class list. A class gets every curated ancestor, nearest first
("golden retriever" -> dog, animal). A synset may give two terms (seashore -> coast, beach) where editors
search for a word WordNet files elsewhere.
"""

from __future__ import annotations

from functools import lru_cache

from catalog_resources.analysis.local.visual.imagenet import imagenet_classes
from catalog_resources.analysis.local.visual.wordnet import noun_net, wnid_offset

# WordNet 3.0 noun offset -> the term(s) a person would search for.
GENERAL_TERMS: dict[int, tuple[str, ...]] = {
    # animals
    15388: ("animal",), 2084071: ("dog",), 2121620: ("cat",), 2127808: ("big cat",), 1503061: ("bird",),
    1604330: ("bird of prey",), 2512053: ("fish",), 1482330: ("shark",), 1661091: ("reptile",),
    1726692: ("snake",), 1674464: ("lizard",), 1662784: ("turtle",), 1627424: ("amphibian",),
    2159955: ("insect",), 2274259: ("butterfly",), 1769347: ("arachnid",), 1974773: ("crustacean",),
    1940736: ("mollusc",), 2469914: ("primate",), 2484322: ("monkey",), 2470325: ("ape",), 2131653: ("bear",),
    2329401: ("rodent",), 2114100: ("wolf",), 2118333: ("fox",), 2062744: ("whale",), 2503517: ("elephant",),
    2374451: ("horse",), 2370806: ("hoofed animal",), 2062017: ("sea mammal",),
    # people
    7846: ("person",),
    # vehicles
    4524313: ("vehicle",), 2958343: ("car",), 4490091: ("truck",), 2924116: ("bus",), 4468005: ("train",),
    3684823: ("train",), 2686568: ("aircraft",), 4530566: ("boat",), 2834778: ("bicycle",),
    3764276: ("military vehicle",),
    # built places
    2913152: ("building",), 2898711: ("bridge",), 4202417: ("shop",), 3953416: ("place of worship",),
    2980441: ("castle",), 3259505: ("house",), 4460130: ("tower",), 4081281: ("restaurant",),
    # landscape
    9287968: ("landscape",), 9433442: ("shore",), 9428293: ("coast", "beach", "sea"), 9421951: ("coast", "beach"),
    9399592: ("coast",), 9332890: ("lake",), 9359803: ("mountain",), 9246464: ("cliff",), 9468604: ("valley",),
    9406793: ("reef", "sea"),
    # plants
    17222: ("plant",), 11669921: ("flower",), 12992868: ("mushroom",),
    # food and drink
    21265: ("food",), 7555863: ("food",), 7705931: ("fruit",), 7707451: ("vegetable",), 7881800: ("drink",),
    7609840: ("dessert",), 7679356: ("bread",), 7557434: ("dish",),
    # things
    3051540: ("clothing",), 3381126: ("footwear",), 3502509: ("hat",), 3405725: ("furniture",),
    3800933: ("musical instrument",), 4285146: ("sports equipment",), 3082979: ("computer",),
    3278248: ("electronics",), 4565375: ("weapon",), 2876657: ("bottle",), 2773037: ("bag",), 4451818: ("tool",),
    3621049: ("kitchen utensil",), 4437953: ("clock",), 3528263: ("home appliance",), 4401088: ("telephone",),
    2942699: ("camera",), 3211117: ("screen",), 3636248: ("lamp",), 2778669: ("ball",), 4199027: ("footwear",),
    3327234: ("fence",),
}


def terms_for(wnid: str) -> list[str]:
    """The general terms of one WordNet noun synset, nearest first, each once."""
    found: list[str] = []
    for offset in noun_net().ancestors(wnid_offset(wnid)):
        for term in GENERAL_TERMS.get(offset, ()):
            if term not in found:
                found.append(term)
    return found


@lru_cache(maxsize=1)
def class_terms() -> tuple[tuple[str, ...], ...]:
    """General terms of each ImageNet-1k class, by class index."""
    return tuple(tuple(terms_for(c.wnid)) for c in imagenet_classes())
