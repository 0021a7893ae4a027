"""One clip's faces: the boxes frame_analysis found on the thumbnails, embedded and grouped into tracks.

No frame is decoded again: the thumbnails are already on disk (media/<clip>/thumbnails, largest size) and
frame_analysis already ran the face detector on them, so this step costs only the few embeddings tracks.py
asks for and one small face crop per track (media/<clip>/faces/track_<n>.jpg).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

from catalog_resources.files import write_atomic
from catalog_resources.models.media import Face, FrameAnalysis, ThumbnailSet
from catalog_resources.models.people import FaceSet
from catalog_resources.people.embedding import MODEL_NAME, embed_face, embeddable, face_crop
from catalog_resources.people.tracks import Frame, build_tracks


# The detector's shot-type floor is 60 (media/faces.py), where a coffee cup scored 60-68 here; real faces score
# 80-95. A face given to a person must be a face, so tracks take only the clear ones.
MIN_CONFIDENCE = 75


class _Pictures:
    """The thumbnails' largest files, each read at most once, only when one of its faces is embedded."""

    def __init__(self, paths: list[str]) -> None:
        self.paths, self.cache, self.read = paths, {}, 0

    def __getitem__(self, index: int) -> np.ndarray:
        if index not in self.cache:
            with Image.open(self.paths[index]) as image:
                self.cache[index] = np.asarray(image.convert("RGB"))
            self.read += 1
        return self.cache[index]


def _frames(thumbs: ThumbnailSet, analysis: FrameAnalysis) -> tuple[list[Frame], list[str]]:
    """The decoded frames in time order with the faces found on each, and each frame's largest thumbnail file."""
    faces_at = {round(f.pts_seconds, 4): [x for x in f.faces if x.confidence >= MIN_CONFIDENCE] for f in analysis.frames}
    pairs = sorted((t.pts_seconds, t.paths[max(t.paths, key=int)]) for t in thumbs.thumbnails if t.paths)
    frames = [Frame(i, pts, list(faces_at.get(round(pts, 4), []))) for i, (pts, _path) in enumerate(pairs)]
    return frames, [path for _pts, path in pairs]


def find_faces(thumbs: ThumbnailSet | None, analysis: FrameAnalysis | None, out_dir: Path, *, clip_id: str,
               start: float = 0.0, duration: float | None = None) -> FaceSet:
    """The clip's face tracks with their vectors, time ranges and a face crop each."""
    started = time.monotonic()
    if thumbs is None or analysis is None:
        return FaceSet(clip_id=clip_id, model=MODEL_NAME)
    frames, paths = _frames(thumbs, analysis)
    pictures = _Pictures(paths)

    def embed(index: int, face: Face) -> np.ndarray | None:
        rgb = pictures[index]
        return embed_face(rgb, face) if embeddable(face, rgb.shape[1], rgb.shape[0]) else None

    end = start + duration if duration else (frames[-1].pts if frames else start)
    tracks, best = build_tracks(frames, embed, start=start, end=max(end, start), cuts=analysis.scene_cuts)
    for old in out_dir.glob("track_*.jpg") if out_dir.is_dir() else []:
        old.unlink()  # a re-analysis leaves no crop of a face it no longer finds
    for track, (index, _pts, face) in zip(tracks, best):
        crop_path = out_dir / f"track_{track.track_index}.jpg"
        write_atomic(crop_path, _jpeg(face_crop(pictures[index], face)))
        track.crop_path = str(crop_path)
    return FaceSet(clip_id=clip_id, model=MODEL_NAME, frames_read=pictures.read,
                   faces_found=sum(len(f.faces) for f in frames), tracks=tracks,
                   seconds=round(time.monotonic() - started, 3))


def _jpeg(rgb: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
