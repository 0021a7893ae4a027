"""Face tracks within one clip: the sightings of one person, with the time ranges they are on screen.

Embedding costs ~40-150 ms a face, too much for every face on every thumbnail (goal: 0.05 s of CPU per
second of footage). So sightings are first chained by position (a face whose box overlaps one on the
previous decoded frame is the same face), only the clearest sighting of each chain is embedded, and chains
are then joined into tracks by their vectors (a person who walks out and comes back is one track). Two faces
on the same frame are never joined: they are two people.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from catalog_resources.models.media import Face
from catalog_resources.models.people import FaceSighting, FaceTrack

SAME_FACE_IOU = 0.3  # box overlap between neighbouring decoded frames that keeps a chain going
TRACK_DISTANCE = 0.5  # chains nearer than this (unit vectors, L2) are one person; dlib's own threshold is 0.6


@dataclass
class Frame:
    """A decoded frame's faces: `index` is its position among the clip's decoded frames. A `probe` is a small
    frame decoded only to find where a track starts or ends (edges.py): it sets times, not the face's vector."""

    index: int
    pts: float
    faces: list[Face]
    probe: bool = False


@dataclass
class Chain:
    sightings: list[tuple[int, float, Face]] = field(default_factory=list)  # (frame index, pts, face)
    vector: np.ndarray | None = None

    @property
    def frames(self) -> set[int]:
        return {i for i, _, _ in self.sightings}

    def best(self, full_size: set[int] | None = None) -> tuple[int, float, Face]:
        """The clearest sighting: the largest, most confident face, on a full-size frame (those in `full_size`,
        when given) if the chain has one."""
        sightings = [s for s in self.sightings if full_size is None or s[0] in full_size] or self.sightings
        return max(sightings, key=lambda s: s[2].height * s[2].confidence)


def iou(a: Face, b: Face) -> float:
    left, top = max(a.x, b.x), max(a.y, b.y)
    right, bottom = min(a.x + a.width, b.x + b.width), min(a.y + a.height, b.y + b.height)
    inter = max(0.0, right - left) * max(0.0, bottom - top)
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


def chain_by_position(frames: Sequence[Frame]) -> list[Chain]:
    """Sightings joined across consecutive decoded frames where their boxes overlap (greedy, best overlap first)."""
    chains: list[Chain] = []
    open_chains: list[Chain] = []  # those with a sighting on the previous frame
    for frame in frames:
        pairs = sorted(((iou(c.sightings[-1][2], f), ci, fi) for ci, c in enumerate(open_chains)
                        for fi, f in enumerate(frame.faces)), reverse=True)
        taken_chains, taken_faces, next_open = set(), set(), []
        for overlap, ci, fi in pairs:
            if overlap < SAME_FACE_IOU or ci in taken_chains or fi in taken_faces:
                continue
            open_chains[ci].sightings.append((frame.index, frame.pts, frame.faces[fi]))
            taken_chains.add(ci), taken_faces.add(fi)
            next_open.append(open_chains[ci])
        for fi, face in enumerate(frame.faces):
            if fi not in taken_faces:
                chain = Chain([(frame.index, frame.pts, face)])
                chains.append(chain)
                next_open.append(chain)
        open_chains = next_open
    return chains


def join_chains(chains: Sequence[Chain], threshold: float = TRACK_DISTANCE) -> list[list[Chain]]:
    """Chains with vectors grouped into people: each joins the nearest group (by its mean vector) within
    `threshold` that has no face on the same frames, else starts its own."""
    groups: list[list[Chain]] = []
    for chain in sorted((c for c in chains if c.vector is not None), key=lambda c: min(c.frames)):
        best, best_distance = None, threshold
        for group in groups:
            if any(chain.frames & other.frames for other in group):
                continue
            distance = float(np.linalg.norm(chain.vector - _mean([c.vector for c in group])))
            if distance < best_distance:
                best, best_distance = group, distance
        if best is None:
            groups.append([chain])
        else:
            best.append(chain)
    return groups


def _mean(vectors: Sequence[np.ndarray]) -> np.ndarray:
    mean = np.mean(np.stack(vectors), axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-9)


def on_screen(indexes: set[int], times: Sequence[float], start: float, end: float,
              cuts: Sequence[float] = ()) -> list[tuple[float, float]]:
    """Time ranges a person is seen: each decoded frame they are on stands for the time half way to its
    neighbouring decoded frames (the clip's start and end at the edges), never across a scene cut; neighbouring
    frames merge."""
    ranges: list[tuple[float, float]] = []
    for i in sorted(indexes):
        low = start if i == 0 else (times[i - 1] + times[i]) / 2
        high = end if i == len(times) - 1 else (times[i] + times[i + 1]) / 2
        low = max([low, *(c for c in cuts if c <= times[i])])
        high = min([high, *(c for c in cuts if c > times[i])])
        low, high = round(max(start, low), 3), round(min(end, max(high, low)), 3)
        if ranges and i - 1 in indexes and ranges[-1][1] >= low:
            ranges[-1] = (ranges[-1][0], high)
        else:
            ranges.append((low, high))
    return ranges


def build_tracks(frames: Sequence[Frame], embed: Callable[[int, Face], np.ndarray | None], *, start: float,
                 end: float, cuts: Sequence[float] = ()) -> tuple[list[FaceTrack], list[tuple[int, float, Face]]]:
    """The clip's face tracks, and each track's best sighting (for its face crop). `embed(frame index, face)`
    gives a face's unit vector, or None when the face is too small to embed; `cuts` are the clip's scene cuts."""
    chains = chain_by_position(frames)
    full_size = {f.index for f in frames if not f.probe}
    for chain in chains:
        index, _pts, face = chain.best(full_size)
        chain.vector = embed(index, face)
    times = [f.pts for f in frames]
    tracks, best = [], []
    for n, group in enumerate(join_chains(chains)):
        sightings = sorted((s for c in group for s in c.sightings), key=lambda s: s[1])
        ranges = on_screen({i for i, _, _ in sightings}, times, start, end, cuts)
        tracks.append(FaceTrack(
            track_index=n, start_seconds=ranges[0][0], end_seconds=ranges[-1][1], ranges=ranges,
            sightings=[FaceSighting(pts_seconds=p, **f.model_dump()) for _, p, f in sightings],
            embedded=len(group), embedding=[round(float(v), 6) for v in _mean([c.vector for c in group])],
        ))
        best.append(max((c.best(full_size) for c in group),
                        key=lambda s: (s[0] in full_size, s[2].height * s[2].confidence)))
    return tracks, best
