"""Where a face track starts and ends, to about a second, by looking at a few more frames around its edges.

Thumbnails are spread evenly over a clip (30 of them: 20 s apart in a 10 minute take) and near-duplicates are
dropped, so a face seen on one thumbnail and not on the next could have left anywhere in between. Decoding the
whole clip again to know would cost far more than the step's budget (0.05 s of CPU per footage second), so only
the gaps at a chain's edges are searched, by halving: a frame in the middle of the gap is decoded small (the
face detector's 640 px), the detector runs on it, and the half that still holds the edge is searched again until
the gap is under RESOLUTION. A face seen on every thumbnail, or edges already closer than RESOLUTION, cost
nothing; a gap crossed by a scene cut is searched only on the face's side of the cut (the cut bounds the range).

Frames come from the original file: a seek lands on the keyframe at or before a time, and that keyframe is used
when it lies well inside the gap (one frame decoded); otherwise frames are decoded forward from it, at most
MAX_FORWARD_SECONDS' worth, and a gap the decoder cannot reach that cheaply (a very long GOP) stays as coarse as
the thumbnails made it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from catalog_resources.media.thumbnails import HDR_TRANSFERS
from catalog_resources.media.tone_map import tone_map
from catalog_resources.models.media import Face
from catalog_resources.people.tracks import SAME_FACE_IOU, Frame, chain_by_position, iou

RESOLUTION = 1.0  # seconds: a gap narrower than this is not searched (a range edge lands in its middle)
MAX_FORWARD_SECONDS = 2.0  # frames decoded forward from a keyframe to reach a probe time, at most
MAX_PROBES_PER_EDGE = 8  # 2**8 halvings of even a 4 minute gap reach a second
PROBE_LONG_SIDE = (160, 640)  # probes are decoded this small to this large (640: the detector's working size)
PROBE_FACE_PIXELS = 40  # a probe is decoded just large enough that the face looked for is this tall (it scores
# 90+ there); the detector's cost grows faster than its pixels (measured: 640x360 100-160 ms, 320x180 14-37 ms)


@dataclass
class Probe:
    """A frame decoded to look for faces: its time, picture and the faces found on it."""

    pts: float
    rgb: np.ndarray
    faces: list[Face]


@dataclass
class FrameReader:
    """Decodes single frames of a clip at small size, near given times, from one open container."""

    path: Path
    rotation: int = 0
    transfer: str | None = None  # an HDR transfer is tone-mapped to BT.709 as the thumbnails are
    decoded: int = 0
    _container: object = field(default=None, repr=False)

    def __enter__(self) -> FrameReader:
        import av

        self._container = av.open(str(self.path), mode="r", metadata_errors="ignore")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "SLICE"  # frame threading decodes several frames ahead to return one
        rate = float(self._stream.average_rate or 25)
        self._max_forward = max(1, round(rate * MAX_FORWARD_SECONDS))
        return self

    def __exit__(self, *_exc) -> None:
        self._container.close()

    def frame_between(self, low: float, high: float, long_side: int) -> tuple[float, np.ndarray] | None:
        """A frame whose time lies in the middle half of (low, high), `long_side` pixels long, or None when none
        is reachable cheaply."""
        import av

        width = high - low
        target, floor = low + width / 2, low + width / 4
        tb = self._stream.time_base
        try:
            self._container.seek(int(target / tb), stream=self._stream, backward=True, any_frame=False)
            for n, frame in enumerate(self._container.decode(self._stream)):
                self.decoded += 1
                if frame.pts is None:
                    continue
                pts = float(frame.pts * tb)
                if pts >= high - width / 4:
                    return None
                if pts >= floor:
                    return pts, self._rgb(frame, long_side)
                if n >= self._max_forward:
                    return None
        except (av.error.FFmpegError, EOFError):  # damaged or cut short: this gap stays as it was
            return None
        return None

    def _rgb(self, frame, long_side: int) -> np.ndarray:
        scale = min(1.0, long_side / max(frame.width, frame.height))
        size = {"width": max(2, round(frame.width * scale)), "height": max(2, round(frame.height * scale))}
        if self.transfer in HDR_TRANSFERS:
            wide = frame.to_ndarray(format="rgb48le", interpolation="AREA", **size)
            rgb = tone_map(wide.astype(np.float32) / 65535.0, self.transfer)
        else:
            rgb = frame.to_ndarray(format="rgb24", interpolation="AREA", **size)
        if self.rotation % 360:
            rgb = np.asarray(Image.fromarray(rgb).rotate(-self.rotation, expand=True))  # as thumbnails turn it
        return rgb


def probe_size(face: Face) -> int:
    """The long side a probe needs for `face` (a share of the frame's height) to be PROBE_FACE_PIXELS tall; frames
    are taken as 16:9, the common case (a portrait frame is then decoded larger than it needs)."""
    low, high = PROBE_LONG_SIDE
    return int(min(high, max(low, PROBE_FACE_PIXELS / max(face.height, 1e-3) * 16 / 9)))


def _match(face: Face, faces: Sequence[Face]) -> Face | None:
    """The face on a probe that is the same face as `face` (overlapping boxes), if any."""
    best = max(faces, key=lambda f: iou(face, f), default=None)
    return best if best is not None and iou(face, best) >= SAME_FACE_IOU else None


@dataclass
class EdgeSearch:
    """Halving searches for the edges of the chains on a clip's thumbnails; probes are shared between edges."""

    reader: FrameReader
    detect: Callable[[np.ndarray], list[Face]]
    probes: dict[float, Probe] = field(default_factory=dict)

    def probe(self, low: float, high: float, long_side: int) -> Probe | None:
        for pts, probe in self.probes.items():  # one already decoded in the middle half serves as well
            if low + (high - low) / 4 <= pts < high - (high - low) / 4 and max(probe.rgb.shape) >= long_side:
                return probe
        found = self.reader.frame_between(low, high, long_side)
        if found is None:
            return None
        pts, rgb = found
        probe = Probe(round(pts, 4), rgb, self.detect(rgb))
        self.probes[probe.pts] = probe
        return probe

    def edge(self, edge: Edge) -> None:
        """Narrows the gap between a time the face is seen at and one it is not (either order) to RESOLUTION."""
        seen, face, unseen = edge.seen, edge.face, edge.unseen
        long_side = probe_size(Face(x=0, y=0, width=0, height=edge.smallest, confidence=0))
        for _ in range(MAX_PROBES_PER_EDGE):
            if abs(unseen - seen) <= RESOLUTION:
                return
            probe = self.probe(min(seen, unseen), max(seen, unseen), long_side)
            if probe is None:
                return
            match = _match(face, probe.faces)
            if match is None:
                unseen = probe.pts
            else:
                seen, face = probe.pts, match


class Edge(NamedTuple):
    """A gap to search: the face seen at `seen`, not at `unseen` (earlier or later). `smallest` is the height of
    the smallest face on the frames either side: probes are decoded large enough for it too, so another person
    seen across the gap is seen on the probes as well (a face missed there would split their range)."""

    seen: float
    face: Face
    unseen: float
    smallest: float


def chain_edges(frames: Sequence[Frame], start: float, end: float, cuts: Sequence[float] = ()) -> list[Edge]:
    """Each chain edge whose gap is wider than RESOLUTION: the chain's first and last sighting against the
    neighbouring thumbnail (or the clip's start or end), the gap cut short at a scene cut in between."""
    times = [f.pts for f in frames]
    edges = []
    for chain in chain_by_position(frames):
        for (index, seen, face), step in ((chain.sightings[0], -1), (chain.sightings[-1], 1)):
            neighbour = index + step
            if 0 <= neighbour < len(frames):
                unseen, around = times[neighbour], frames[index].faces + frames[neighbour].faces
            else:
                unseen, around = (start if step < 0 else end), frames[index].faces
            if step < 0:
                unseen = max([unseen, *(c for c in cuts if c <= seen)])
            else:
                unseen = min([unseen, *(c for c in cuts if c > seen)])
            if abs(seen - unseen) > RESOLUTION:
                edges.append(Edge(seen, face, unseen, min(f.height for f in around)))
    return edges


def search_edges(frames: Sequence[Frame], source: Path, detect: Callable[[np.ndarray], list[Face]], *,
                 start: float, end: float, cuts: Sequence[float] = (), rotation: int = 0,
                 transfer: str | None = None) -> tuple[list[Probe], int]:
    """The probes decoded around the chains' edges (time order) and the number of frames decoded for them."""
    edges = chain_edges(frames, start, end, cuts)
    if not edges:
        return [], 0
    import av

    try:
        with FrameReader(source, rotation, transfer) as reader:
            search = EdgeSearch(reader, detect)
            for edge in edges:
                search.edge(edge)
    except (OSError, av.error.FFmpegError, IndexError):  # the file gone or unreadable: the thumbnails' ranges stay
        return [], 0
    return sorted(search.probes.values(), key=lambda p: p.pts), reader.decoded
