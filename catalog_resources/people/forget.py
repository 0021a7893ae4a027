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
    (voice tracks: those with a speaker_index); the files changed or deleted."""
    changed = 0
    by_clip: dict[str, set[int]] = {}
    voices: dict[str, set[int]] = {}
    for track in removed:
        if "speaker_index" in track:
            voices.setdefault(track["clip_id"], set()).add(track["speaker_index"])
            continue
        by_clip.setdefault(track["clip_id"], set()).add(track["track_index"])
        if track.get("crop_path"):
            crop = Path(track["crop_path"])
            if crop.is_file():
                crop.unlink()
                changed += 1
    for clip_id, indexes in by_clip.items():
        sidecar = Path(media_dir) / clip_id / "faces.json"
        if not sidecar.is_file():
            continue
        faces = FaceSet.model_validate(json.loads(sidecar.read_text()))
        faces.tracks = [t for t in faces.tracks if t.track_index not in indexes]
        write_atomic(sidecar, faces.model_dump_json(indent=2))
        changed += 1
    return changed + _scrub_voices(Path(media_dir), voices)


def _scrub_voices(media_dir: Path, voices: Mapping[str, set[int]]) -> int:
    """The voice vectors of these speakers dropped from their clips' speakers.json (turns stay: they hold no
    voice data, and the speaker_change segments keep them too)."""
    changed = 0
    for clip_id, indexes in voices.items():
        sidecar = media_dir / clip_id / "speakers.json"
        if not sidecar.is_file():
            continue
        speakers = SpeakerSet.model_validate(json.loads(sidecar.read_text()))
        speakers.tracks = [t for t in speakers.tracks if t.speaker_index not in indexes]
        write_atomic(sidecar, speakers.model_dump_json(indent=2))
        changed += 1
    return changed
