"""A voice linked to a face: the one person on screen while that voice speaks, across several turns.

A turn votes for a face when exactly one person's face is on screen for at least half of it (two faces on
screen: either could be talking; none: a narrator or someone off camera). The voice is linked to the person
with the most votes when they won at least MIN_TURNS turns and AGREEMENT of the voice's turns; the share is
how sure the link is, and it is stored and shown with it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

MIN_TURNS = 2
AGREEMENT = 0.6
ON_SCREEN = 0.5  # of a turn's length


def _overlap(a: float, b: float, ranges: Sequence[Sequence[float]]) -> float:
    return sum(max(0.0, min(b, e) - max(a, s)) for s, e in ranges)


def face_votes(turns: Sequence[Sequence[float]], faces: Mapping[int, Sequence[Sequence[float]]]) -> Counter[int]:
    """Per face person, the turns in which they alone were on screen for at least half the turn."""
    votes: Counter[int] = Counter()
    for a, b in turns:
        if b <= a:
            continue
        seen = [person for person, ranges in faces.items() if _overlap(a, b, ranges) >= ON_SCREEN * (b - a)]
        if len(seen) == 1:
            votes[seen[0]] += 1
    return votes


def linked_face(turns: Sequence[Sequence[float]], faces: Mapping[int, Sequence[Sequence[float]]]) -> tuple[int | None, float, int]:
    """(face person, share of the voice's turns they won, turns won); (None, share, won) when not sure enough."""
    votes = face_votes(turns, faces)
    if not votes or not turns:
        return None, 0.0, 0
    person, won = votes.most_common(1)[0]
    share = round(won / len(turns), 3)
    return (person if won >= MIN_TURNS and share >= AGREEMENT else None), share, won
