"""One clip's faces: the boxes frame_analysis found on the thumbnails, plus a few frames decoded around the
edges of where a face is seen, embedded and grouped into tracks.

The thumbnails are already on disk (media/<clip>/thumbnails, largest size) and frame_analysis already ran the
face detector on them. Where a face appears or leaves between two thumbnails more than a second apart, edges.py
decodes a few small frames in that gap from the original file (halving it) so the track's time range is right
to about a second. The rest is the few embeddings tracks.py asks for and one small face crop per track
(media/<clip>/faces/track_<n>.jpg).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

from catalog_resources.files import write_atomic
from catalog_resources.models.media import Face, FrameAnalysis, ThumbnailSet
from catalog_resources.models.people import FaceSet
from catalog_resources.people.edges import search_edges
from catalog_resources.people.embedding import MODEL_NAME, embed_face, embeddable, face_crop
from catalog_resources.people.tracks import Frame, build_tracks


# The detector's shot-type floor is 60 (media/faces.py), where a coffee cup scored 60-68 here; real faces score
# 80-95. A face given to a person must be a face, so tracks take only the clear ones.
MIN_CONFIDENCE = 75


class _Pictures:
    """Each frame's picture: a thumbnail's largest file, read at most once and only when one of its faces is
    embedded or cropped, or a frame decoded for the edges (already in memory)."""

    def __init__(self, sources: Pictures) -> None:
        self.sources, self.cache, self.read = sources, {}, 0

    def __getitem__(self, index: int) -> np.ndarray:
        source = self.sources[index]
        if isinstance(source, np.ndarray):
            return source
        if index not in self.cache:
            with Image.open(source) as image:
                self.cache[index] = np.asarray(image.convert("RGB"))
            self.read += 1
        return self.cache[index]


def _detect(rgb: np.ndarray) -> list[Face]:
    from catalog_resources.media.faces import detect_faces

    return [f for f in detect_faces(rgb) if f.confidence >= MIN_CONFIDENCE]


Pictures = list[str | np.ndarray]  # per frame: a thumbnail file, or a probe's picture in memory


def _frames(thumbs: ThumbnailSet, analysis: FrameAnalysis) -> tuple[list[Frame], Pictures]:
    """The decoded frames in time order with the faces found on each, and each frame's largest thumbnail file."""
    faces_at = {round(f.pts_seconds, 4): [x for x in f.faces if x.confidence >= MIN_CONFIDENCE] for f in analysis.frames}
    pairs = sorted((t.pts_seconds, t.paths[max(t.paths, key=int)]) for t in thumbs.thumbnails if t.paths)
    frames = [Frame(i, pts, list(faces_at.get(round(pts, 4), []))) for i, (pts, _path) in enumerate(pairs)]
    return frames, [path for _pts, path in pairs]


def _with_edges(frames: list[Frame], sources: Pictures, source: Path, *, start: float, end: float, cuts: list[float],
                rotation: int, transfer: str | None) -> tuple[list[Frame], Pictures, int, int]:
    """The thumbnails' frames and the frames decoded around the chains' edges, in time order and renumbered;
    also how many probes were looked at and how many frames were decoded for them."""
    probes, decoded = search_edges(frames, source, _detect, start=start, end=end, cuts=cuts, rotation=rotation,
                                   transfer=transfer)
    merged = sorted([(f.pts, f.faces, s) for f, s in zip(frames, sources)] + [(p.pts, p.faces, p.rgb) for p in probes],
                    key=lambda item: item[0])
    return ([Frame(i, pts, faces, probe=isinstance(s, np.ndarray)) for i, (pts, faces, s) in enumerate(merged)],
            [s for _p, _f, s in merged], len(probes), decoded)


def find_faces(thumbs: ThumbnailSet | None, analysis: FrameAnalysis | None, out_dir: Path, *, clip_id: str,
               start: float = 0.0, duration: float | None = None, source: Path | None = None,
               rotation: int = 0, transfer: str | None = None) -> FaceSet:
    """The clip's face tracks with their vectors, time ranges and a face crop each. With `source` (the clip's
    file, with its `rotation` and `transfer` as the thumbnails had them) the edges of where faces are seen are
    looked for between the thumbnails, to about a second."""
    started = time.monotonic()
    if thumbs is None or analysis is None:
        return FaceSet(clip_id=clip_id, model=MODEL_NAME)
    frames, sources = _frames(thumbs, analysis)
    end = start + duration if duration else (frames[-1].pts if frames else start)
    probed = decoded = 0
    if source is not None and any(f.faces for f in frames):
        frames, sources, probed, decoded = _with_edges(frames, sources, source, start=start, end=max(end, start),
                                                       cuts=list(analysis.scene_cuts), rotation=rotation,
                                                       transfer=transfer)
    pictures = _Pictures(sources)

    def embed(index: int, face: Face) -> np.ndarray | None:
        rgb = pictures[index]
        return embed_face(rgb, face) if embeddable(face, rgb.shape[1], rgb.shape[0]) else None

    tracks, best = build_tracks(frames, embed, start=start, end=max(end, start), cuts=analysis.scene_cuts)
    for old in out_dir.glob("track_*.jpg") if out_dir.is_dir() else []:
        old.unlink()  # a re-analysis leaves no crop of a face it no longer finds
    for track, (index, _pts, face) in zip(tracks, best):
        crop_path = out_dir / f"track_{track.track_index}.jpg"
        write_atomic(crop_path, _jpeg(face_crop(pictures[index], face)))
        track.crop_path = str(crop_path)
    return FaceSet(clip_id=clip_id, model=MODEL_NAME, frames_read=pictures.read, frames_probed=probed,
                   frames_decoded=decoded, faces_found=sum(len(f.faces) for f in frames), tracks=tracks,
                   seconds=round(time.monotonic() - started, 3))


def _jpeg(rgb: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
