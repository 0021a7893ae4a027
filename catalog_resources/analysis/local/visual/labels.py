"""From class probabilities to labels and general terms.

A term's confidence is the summed probability of every class under it, so a dog whose breed the model hesitates
over (0.3 beagle, 0.25 foxhound, 0.2 basset) is still "dog" at 0.75 though no breed reaches a label's cut-off.
That sum is then taken above chance: "animal" covers 398 of the 1000 classes, so a frame of grass whose
probability is spread thin over everything gives it 0.4 for nothing. With k of the 1000 classes under a term,
the confidence is (sum - k/1000) / (1 - k/1000): 0 for a flat guess, 1 for certainty.
"""

from __future__ import annotations

import numpy as np

from catalog_resources.analysis.local.visual.imagenet import imagenet_classes
from catalog_resources.analysis.local.visual.terms import class_terms
from catalog_resources.models.visual import GeneralTerm, VisualLabel

TOP_LABELS = 5
MIN_LABEL = 0.1  # a class under 10 % is a guess among look-alikes, not something seen
MIN_TERM = 0.3


def top_labels(probabilities: np.ndarray, top: int = TOP_LABELS, floor: float = MIN_LABEL) -> list[VisualLabel]:
    """The best classes of one probability vector (1000,), each with its general terms."""
    classes, terms = imagenet_classes(), class_terms()
    order = np.argsort(-probabilities)[:top]
    return [
        VisualLabel(name=classes[i].name, wnid=classes[i].wnid, confidence=round(float(probabilities[i]), 4),
                    terms=list(terms[i]))
        for i in order if probabilities[i] >= floor
    ]


def general_terms(probabilities: np.ndarray, floor: float = MIN_TERM) -> list[GeneralTerm]:
    """Terms whose classes together hold at least `floor` of the probability, best first."""
    totals: dict[str, float] = {}
    members: dict[str, int] = {}
    for index, terms in enumerate(class_terms()):
        p = float(probabilities[index])
        for term in terms:
            totals[term] = totals.get(term, 0.0) + p
            members[term] = members.get(term, 0) + 1
    chance = {t: members[t] / len(probabilities) for t in totals}
    lift = {t: max(0.0, totals[t] - chance[t]) / (1.0 - chance[t]) for t in totals}
    kept = sorted(((t, s) for t, s in lift.items() if s >= floor), key=lambda ts: -ts[1])
    return [GeneralTerm(term=t, confidence=round(min(s, 1.0), 4)) for t, s in kept]
