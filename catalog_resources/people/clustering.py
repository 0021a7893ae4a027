"""People across the catalog: each new face track goes to the nearest person, else becomes a new person.

Incremental by design (as clips arrive, no re-clustering of the catalog per ingest): a track is compared with
the people's centroids (the mean of their tracks' vectors; pgvector's index answers the nearest in the
catalog, `nearest_people` below in memory), and the nearest within PERSON_DISTANCE takes it, unless the user
rejected a face that close from that person (`people split`): then the next nearest may, else a new person.
Merging two people is moving one's tracks to the other and recomputing one centroid; splitting is the reverse.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

PERSON_DISTANCE = 0.5  # track vector to a person's centroid (unit vectors, L2); dlib's same-person line is 0.6
REJECTED_DISTANCE = 0.4  # a track this near a face rejected from a person is never given to that person again
CANDIDATES = 5  # nearest people read per track


@dataclass
class Candidate:
    """A person near a track: how near, and the faces the user rejected from them."""

    person_id: int
    distance: float
    rejected: list[np.ndarray] = field(default_factory=list)


def choose_person(vector: np.ndarray, candidates: Iterable[Candidate], threshold: float = PERSON_DISTANCE) -> int | None:
    """The person a track belongs to: the nearest within `threshold` not rejecting a face like it; None: a new one."""
    for candidate in sorted(candidates, key=lambda c: c.distance):
        if candidate.distance >= threshold:
            return None
        if any(float(np.linalg.norm(vector - r)) < REJECTED_DISTANCE for r in candidate.rejected):
            continue
        return candidate.person_id
    return None


class PeopleIndex:
    """The same clustering in memory (the bench, and a check of the SQL's): centroids as running sums."""

    def __init__(self, dimension: int = 128) -> None:
        self.sums = np.zeros((0, dimension), dtype=np.float32)
        self.counts = np.zeros(0, dtype=np.int64)
        self.rejected: dict[int, list[np.ndarray]] = {}

    def nearest_people(self, vector: np.ndarray, k: int = CANDIDATES) -> list[Candidate]:
        if not len(self.counts):
            return []
        distances = np.linalg.norm(self.sums / self.counts[:, None] - vector, axis=1)
        order = np.argsort(distances)[:k]
        return [Candidate(int(i), float(distances[i]), self.rejected.get(int(i), [])) for i in order]

    def add(self, vector: np.ndarray) -> int:
        """The person the track joins (a new one when none is near), its centroid updated."""
        person = choose_person(vector, self.nearest_people(vector))
        if person is None:
            self.sums = np.vstack([self.sums, vector[None, :]])
            self.counts = np.append(self.counts, 1)
            return len(self.counts) - 1
        self.sums[person] += vector
        self.counts[person] += 1
        return person


def cluster_incrementally(vectors: Sequence[np.ndarray]) -> list[int]:
    """Each vector's person, adding them one at a time as ingest does."""
    index = PeopleIndex(len(vectors[0]) if len(vectors) else 128)
    return [index.add(np.asarray(v, dtype=np.float32)) for v in vectors]
