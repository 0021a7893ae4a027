"""`people forget`: after the rows are gone, the person's face crops and their tracks in the clips' faces.json and
speakers.json sidecars go too, so no copy of the face or voice data is left in the media store."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from catalog_resources.files import write_atomic
from catalog_resources.models.people import FaceSet
from catalog_resources.models.speakers import SpeakerSet


def scrub(media_dir: Path, removed: Iterable[Mapping[str, Any]]) -> int:
    """Delete the crops of these tracks and drop them from their clips' faces.json (face tracks) or speakers.json
    (voice tracks: those with a speaker_index; their turns stay in the segments, they hold no voice data); the
    files changed or deleted."""
    changed = 0
    faces: dict[str, set[int]] = {}
    voices: dict[str, set[int]] = {}
    for track in removed:
        if "speaker_index" in track:
            voices.setdefault(track["clip_id"], set()).add(track["speaker_index"])
            continue
        faces.setdefault(track["clip_id"], set()).add(track["track_index"])
        if track.get("crop_path"):
            crop = Path(track["crop_path"])
            if crop.is_file():
                crop.unlink()
                changed += 1
    changed += _drop_tracks(Path(media_dir), "faces.json", FaceSet, "track_index", faces)
    return changed + _drop_tracks(Path(media_dir), "speakers.json", SpeakerSet, "speaker_index", voices)


def _drop_tracks(media_dir: Path, name: str, model: type[FaceSet] | type[SpeakerSet], key: str,
                 indexes_by_clip: Mapping[str, set[int]]) -> int:
    """These tracks (by their `key`) taken out of each clip's sidecar `name`; the sidecars rewritten."""
    changed = 0
    for clip_id, indexes in indexes_by_clip.items():
        sidecar = media_dir / clip_id / name
        if not sidecar.is_file():
            continue
        found = model.model_validate(json.loads(sidecar.read_text()))
        found.tracks = [t for t in found.tracks if getattr(t, key) not in indexes]
        write_atomic(sidecar, found.model_dump_json(indent=2))
        changed += 1
    return changed
