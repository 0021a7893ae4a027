"""MediaInfo (libmediainfo via pymediainfo): HDR details, scan type, frame-rate mode, timecode, bit depth.

Also the second opinion on files ffmpeg cannot open at all: MediaInfo parses headers on its own (an ASF or
Matroska header whose packets were cut off, a RED R3D file), so such a file can still be told apart from
bytes that are no video, and cataloged by its metadata.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from catalog_resources.media.field_readers import exif_tag, integer, number

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


class MediaInfoReader(BaseModel):
    """One parse per file; `parse_speed` 0.5 is MediaInfo's default balance of speed and completeness."""

    parse_speed: float = Field(default=0.5, ge=0, le=1)

    def probe(self, path: Path) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            tracks = parse_tracks(path, self.parse_speed)
        except (OSError, RuntimeError) as exc:
            return {"tool": "mediainfo", "error": str(exc), "seconds": time.perf_counter() - started}
        return {"tool": "mediainfo", "tracks": tracks, "seconds": time.perf_counter() - started}


# ---- files ffmpeg cannot open: MediaInfo's view in PyAV's shape --------------------------------------


# MediaInfo's General format -> libavformat's name, so a header ffmpeg cannot open lists like one it can
MI_CONTAINERS = {"windows media": "asf", "matroska": "matroska", "webm": "webm", "mpeg-4": "mov", "quicktime": "mov",
                 "avi": "avi", "mxf": "mxf", "flash video": "flv", "bdav": "mpegts", "mpeg-ts": "mpegts",
                 "mpeg-ps": "mpeg", "dv": "dv", "ogg": "ogg", "r3d": "r3d", "realmedia": "rm"}
# MediaInfo's Video/Audio format -> libavcodec's codec name (absent: MediaInfo's own name, lower case)
MI_CODECS = {"avc": "h264", "hevc": "hevc", "jpeg": "mjpeg", "vp8": "vp8", "vp9": "vp9", "av1": "av1",
             "mpeg-4 visual": "mpeg4", "mpeg video": "mpeg2video", "prores": "prores", "vc-1": "vc1", "wmv3": "wmv3",
             "wmv2": "wmv2", "wmv1": "wmv1", "wvp2": "vc1image", "wmva": "vc1", "dv": "dvvideo", "ffv1": "ffv1",
             "vc-3": "dnxhd", "aac": "aac", "ac-3": "ac3", "e-ac-3": "eac3", "opus": "opus", "vorbis": "vorbis",
             "flac": "flac", "pcm": "pcm", "wma": "wmav2", "mpeg audio": "mp3", "dts": "dts"}


def _mi_codec(track: dict[str, Any]) -> str | None:
    name = str(track.get("format") or "").strip()
    return MI_CODECS.get(name.lower(), name.lower() or None)


def pyav_view_from_mediainfo(mi_tracks: dict[str, list[dict[str, Any]]], exif: dict[str, Any]) -> dict[str, Any] | None:
    """For a file libavformat cannot open: MediaInfo's (and, for camera raw, ExifTool's) reading of it in the
    shape PyAVReader.probe returns (`format`, `streams`), so the rest of reconcile treats it like any other clip.
    None when MediaInfo reads no video in it (see video_from_tracks).

    The video stream's codec is None for camera raw (no decoder here: reported as unsupported_codec); its size
    and rate then come from ExifTool, which reads R3D headers MediaInfo only names."""
    found = video_from_tracks(mi_tracks)
    if found is None:
        return None
    general = (mi_tracks.get("general") or [{}])[0]
    mi_video = (mi_tracks.get("video") or [{}])[0]
    duration = number(general.get("duration"))
    fmt = {
        "name": MI_CONTAINERS.get(found.container.lower(), found.container.lower()),
        "long_name": found.container,
        "duration": duration / 1000 if duration else None,
        "start_time": None,
        "bit_rate": integer(general.get("overall_bit_rate")),
        # what libavformat would call creation_time ('2004-10-28 17:23:34 UTC'): ASF and Matroska headers hold it
        "tags": {"creation_time": date} if (date := general.get("encoded_date") or general.get("tagged_date")) else {},
    }
    video_duration = number(mi_video.get("duration"))
    video = {
        "index": 0, "type": "video", "format_name": found.camera_raw or found.video_format,
        "codec": None if found.camera_raw else _mi_codec(mi_video),
        "codec_long": mi_video.get("description_of_the_codec") or mi_video.get("format_info") or found.camera_raw,
        "width": found.width or integer(exif_tag(exif, "ImageWidth")),
        "height": found.height or integer(exif_tag(exif, "ImageHeight")),
        "r_frame_rate": found.frame_rate or number(exif_tag(exif, "VideoFrameRate", "FrameRate")),
        "duration": video_duration / 1000 if video_duration else None,
        "frames": integer(mi_video.get("frame_count")), "tags": {}, "attached_pic": False,
    }
    streams = [video]
    for position, track in enumerate(mi_tracks.get("audio") or [], start=1):
        audio_duration = number(track.get("duration"))
        streams.append({
            "index": position, "type": "audio", "codec": _mi_codec(track), "channels": integer(track.get("channel_s")),
            "sample_rate": integer(track.get("sampling_rate")), "bit_rate": integer(track.get("bit_rate")),
            "duration": audio_duration / 1000 if audio_duration else None, "tags": {},
            "language": None, "default": track.get("default") == "Yes",
        })
    return {"format": fmt, "streams": streams}
