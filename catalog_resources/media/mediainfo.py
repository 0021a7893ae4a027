"""MediaInfo (libmediainfo via pymediainfo): HDR details, scan type, frame-rate mode, timecode, bit depth.

Also the second opinion on files ffmpeg cannot open at all: MediaInfo parses headers on its own (an ASF or
Matroska header whose packets were cut off, a RED R3D file), so such a file can still be told apart from
bytes that are no video, and cataloged by its metadata.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource
from pydantic import BaseModel, Field

# MediaInfo's General format (lower case, spaces and dashes dropped) of camera-raw video that no decoder
# here reads, and the name to show for it. These files may carry no Video track MediaInfo can describe.
CAMERA_RAW_FORMATS: dict[str, str] = {
    "r3d": "RED R3D", "braw": "Blackmagic RAW", "blackmagicraw": "Blackmagic RAW", "arriraw": "ARRIRAW",
    "ari": "ARRIRAW", "cinemadng": "CinemaDNG", "proresraw": "ProRes RAW", "cineformraw": "CineForm RAW",
    "canonrawlight": "Canon Cinema RAW Light", "crm": "Canon Cinema RAW Light", "xocnxt": "Sony X-OCN",
    "xocn": "Sony X-OCN",
}


def _key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def camera_raw_name(general_format: str | None) -> str | None:
    """'RED R3D' for MediaInfo's General format 'R3D', and so on; None for anything else."""
    return CAMERA_RAW_FORMATS.get(_key(general_format or ""))


def parse_tracks(path: Path, parse_speed: float = 0.5) -> dict[str, list[dict[str, Any]]]:
    """MediaInfo's tracks by type ('general', 'video', 'audio', 'other', ...), each as pymediainfo's dict.
    Raises OSError or RuntimeError when libmediainfo cannot read the file."""
    from pymediainfo import MediaInfo

    info = MediaInfo.parse(str(path), parse_speed=parse_speed)
    tracks: dict[str, list[dict[str, Any]]] = {}
    for track in info.tracks:
        tracks.setdefault(track.track_type.lower(), []).append(track.to_data())
    return tracks


class MediaInfoVideo(BaseModel):
    """A video as MediaInfo reads it from the headers alone: what ffmpeg could not open is still known to be
    video, with the facts a listing needs."""

    container: str = Field(description="MediaInfo's General format: 'Windows Media', 'Matroska', 'R3D'.")
    camera_raw: str | None = Field(default=None, description="'RED R3D' and the like: camera raw with no decoder here.")
    video_format: str | None = Field(default=None, description="The Video track's format: 'WVP2', 'AVC'.")
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    duration_seconds: float | None = None
    has_audio: bool = False


def _number(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def video_from_tracks(tracks: dict[str, list[dict[str, Any]]]) -> MediaInfoVideo | None:
    """The video MediaInfo found, or None when it found none.

    Conservative on purpose, since it decides that bytes ffmpeg rejects are video: a container MediaInfo
    names (not a guess of a raw elementary stream, whose General format is the video format itself) holding
    a Video track with a format, or a camera-raw container."""
    general = (tracks.get("general") or [{}])[0]
    container = str(general.get("format") or "").strip()
    if not container:
        return None
    raw = camera_raw_name(container)
    video = next((t for t in tracks.get("video") or [] if t.get("format")), None)
    if raw is None and (video is None or _key(str(video["format"])) == _key(container)):
        return None
    video = video or {}
    duration_ms = _number(general.get("duration")) or _number(video.get("duration"))
    width, height = _number(video.get("width")), _number(video.get("height"))
    return MediaInfoVideo(
        container=container, camera_raw=raw, video_format=str(video.get("format") or "") or None,
        width=int(width) if width else None, height=int(height) if height else None,
        frame_rate=_number(video.get("frame_rate")) or _number(general.get("frame_rate")),
        duration_seconds=duration_ms / 1000 if duration_ms else None,
        has_audio=bool(tracks.get("audio")),
    )


def read_video(path: Path) -> MediaInfoVideo | None:
    """video_from_tracks for a file, at MediaInfo's quickest parse (headers are all it needs); None when
    MediaInfo cannot read the file either."""
    try:
        return video_from_tracks(parse_tracks(path, parse_speed=0.0))
    except (OSError, RuntimeError, ValueError):
        return None


class MediaInfoProbe(ConfigurableResource):
    """One parse per file; `parse_speed` 0.5 is MediaInfo's default balance of speed and completeness."""

    parse_speed: float = Field(default=0.5, ge=0, le=1)

    def probe(self, path: Path) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            tracks = parse_tracks(path, self.parse_speed)
        except (OSError, RuntimeError) as exc:
            return {"tool": "mediainfo", "error": str(exc), "seconds": time.perf_counter() - started}
        return {"tool": "mediainfo", "tracks": tracks, "seconds": time.perf_counter() - started}
