"""One pure function turns the three tools' raw answers into a TechnicalMetadata.

Precedence, per field (the first tool that has a value wins; a disagreement is noted in `sources`):
- container, streams, codec, profile, level, pixel format, size, aspect, frame rates, durations,
  colour tags, track languages / titles / flags: PyAV (libavformat/libavcodec read the bitstream).
- variable frame rate, frame count, keyframe interval, start time: our own reading of packet
  timestamps (PyAV), never a tag alone; MediaInfo's FrameRate_Mode is kept as a note.
- duration and frame count: what the headers claim, unless the packets (or the MP4 sample index against
  the file size) show otherwise: then what is really there, with a warning naming both figures
  (a file cut short, a Matroska Duration of 277,777,777 hours, an MP4 whose duration fields are zero).
- rotation, interlacing: the first decoded frame (PyAV), then stream field order, then MediaInfo.
- bit depth, chroma subsampling: from the pixel format (PyAV), MediaInfo when it has none.
- HDR format, mastering display, MaxCLL / MaxFALL, timecode: MediaInfo (it parses the SEI and the
  tmcd track), PyAV tags as fallback.
- camera, lens, exposure, GPS, recording date, software: ExifTool (QuickTime Keys / UserData / XMP /
  maker notes), PyAV's container tags as fallback.
"""

from __future__ import annotations

import re
from datetime import timezone
from pathlib import Path
from typing import Any

from catalog_resources.media.extent import MeasuredExtent, plausible_claim, trusted_duration
from catalog_resources.media.field_readers import (
    MI_MATRIX,
    MI_PRIMARIES,
    MI_TRANSFER,
    bit_depth,
    chroma_subsampling,
    exif_tag,
    hdr_format,
    hms_seconds,
    integer,
    iso6709,
    level_name,
    mastering_display,
    number,
    parse_date,
    ratio,
    reduced_ratio,
)
from catalog_resources.media.mediainfo import pyav_view_from_mediainfo
from catalog_resources.media.workflow import fingerprint_workflow
from catalog_resources.models.technical import AudioTrack, SubtitleTrack, TechnicalMetadata, ValidationIssue


# ---- per-area reconcilers ----------------------------------------------------------------------------


def _container(fmt: dict[str, Any], ext: str, exif: dict[str, Any]) -> tuple[str | None, str | None, list[str]]:
    name = (fmt.get("name") or "").split(",")
    tags = fmt.get("tags") or {}
    brand = tags.get("major_brand") or exif_tag(exif, "QuickTime:MajorBrand")
    compat_raw = tags.get("compatible_brands") or exif_tag(exif, "QuickTime:CompatibleBrands") or []
    if isinstance(compat_raw, str):
        compat = [compat_raw[i : i + 4] for i in range(0, len(compat_raw), 4)]
    else:
        compat = [str(c) for c in compat_raw]
    if not name or not name[0]:
        return None, brand, compat
    if name[0] == "mov":
        if (brand or "").strip() == "qt" or ext == "mov":
            container = "mov"
        else:
            container = "mp4"
    elif name[0] == "matroska":
        container = "webm" if ext == "webm" or (tags.get("DOCTYPE") == "webm") else "matroska"
    else:
        container = name[0]
    return container, brand, compat




# ---- the whole thing ----------------------------------------------------------------------------------


def reconcile(
    clip_id: str, path: Path, size_bytes: int, pyav: dict[str, Any], mediainfo: dict[str, Any], exiftool: dict[str, Any]
) -> TechnicalMetadata:
    ext = path.suffix.lower().lstrip(".")
    sources: dict[str, str] = {}
    issues: list[ValidationIssue] = []
    exif = exiftool.get("tags") or {}
    mi_tracks = mediainfo.get("tracks") or {}
    mi_general = (mi_tracks.get("general") or [{}])[0]
    mi_video = (mi_tracks.get("video") or [{}])[0]
    mi_audio = mi_tracks.get("audio") or []
    mi_other = mi_tracks.get("other") or []

    meta = TechnicalMetadata(clip_id=clip_id, file_name=path.name, extension=ext, size_bytes=size_bytes)
    meta.probe_ms = {
        name: round(float(raw.get("seconds", 0.0)) * 1000, 2)
        for name, raw in (("pyav", pyav), ("mediainfo", mediainfo), ("exiftool", exiftool))
    }
    meta.file_modified_at = parse_date(exif_tag(exif, "System:FileModifyDate"))

    if "open_error" in pyav:
        view = pyav_view_from_mediainfo(mi_tracks, exif)
        if view is None:  # MediaInfo finds no video either: nothing more to say
            issues.append(ValidationIssue(code="unreadable", severity="error",
                                          message=f"{path.name}: the container cannot be read ({pyav['open_error']})"))
            meta.validation_issues = issues
            meta.sources = sources
            return meta
        # a header ffmpeg cannot open (packets cut off, camera raw): cataloged from MediaInfo and ExifTool
        issues.append(ValidationIssue(
            code="unreadable", severity="error",
            message=f"{path.name}: ffmpeg cannot open it ({pyav['open_error']}); facts read from its headers by "
                    "MediaInfo and ExifTool, nothing decoded"))
        sources["container_format"] = "mediainfo (ffmpeg cannot open the file)"
        sources["duration_seconds"] = "the headers' claim (mediainfo); nothing ffmpeg can read to measure"
        pyav = {**pyav, **view}

    fmt = pyav.get("format") or {}
    tags = fmt.get("tags") or {}
    streams = pyav.get("streams") or []
    meta.container_format, meta.container_brand, meta.compatible_brands = _container(fmt, ext, exif)
    meta.duration_seconds = fmt.get("duration")
    meta.bitrate = fmt.get("bit_rate")
    meta.encoder = tags.get("encoder") or exif_tag(exif, "Encoder")

    videos = [s for s in streams if s["type"] == "video" and not s.get("attached_pic")]
    video = videos[0] if videos else None
    if video is None:
        issues.append(ValidationIssue(code="no_video_stream", severity="error",
                                      message=f"{path.name}: no video stream (audio {len([s for s in streams if s['type']=='audio'])} tracks)"))
    else:
        _video_fields(meta, video, pyav, mi_video, sources, issues, path)

    # timecode and reel
    stream_tags = [s.get("tags") or {} for s in streams]
    tc = tags.get("timecode") or next((t.get("timecode") for t in stream_tags if t.get("timecode")), None)
    mi_tc = next((o.get("time_code_of_first_frame") for o in mi_other if o.get("time_code_of_first_frame")), None)
    exif_tc = exif_tag(exif, "TimeCode", "StartTimecode")
    meta.timecode = tc or mi_tc or (str(exif_tc) if exif_tc is not None else None)
    if meta.timecode:
        sources["timecode"] = "pyav tag" if tc else ("mediainfo" if mi_tc else "exiftool")
    meta.reel_name = next((t.get("reel_name") for t in stream_tags if t.get("reel_name")), None) or exif_tag(exif, "ReelName")

    meta.audio_tracks = _audio_tracks(streams, mi_audio)
    meta.subtitle_tracks = [
        SubtitleTrack(index=s["index"], codec=s.get("codec"), language=s.get("language") or (s.get("tags") or {}).get("language"),
                      title=(s.get("tags") or {}).get("title"), is_default=s.get("default", False), is_forced=s.get("forced", False))
        for s in streams if s["type"] == "subtitle"
    ]
    for s in meta.subtitle_tracks:
        if s.language == "und":
            s.language = None
    _audio_issues(meta, pyav, issues, path)
    _camera_fields(meta, exif, tags, sources)
    _recorded_at(meta, exif, tags, sources)

    texts = {
        "encoder": meta.encoder or "",
        "video_encoder": ((video or {}).get("tags") or {}).get("encoder", ""),
        "handler": " / ".join(sorted({t.get("handler_name", "") for t in stream_tags if t.get("handler_name")})),
        "make": meta.camera_make or "",
        "model": meta.camera_model or "",
        "software": meta.software or "",
        "writing_library": str(mi_general.get("writing_application") or mi_video.get("writing_library") or ""),
        "android": tags.get("com.android.version", ""),
    }
    meta.source_workflow, meta.source_workflow_evidence = fingerprint_workflow(
        ext, meta.container_brand, meta.compatible_brands, texts
    )
    meta.validation_issues = issues
    meta.sources = sources
    return meta


def _video_fields(meta, video, pyav, mi_video, sources, issues, path) -> None:
    scan = pyav.get("video_scan") or {}
    first = pyav.get("first_frame") or {}
    meta.video_codec = video.get("codec")
    meta.video_codec_long = video.get("codec_long")
    meta.video_profile = video.get("profile")
    meta.video_level = level_name(meta.video_codec, video.get("level"))
    meta.pixel_format = video.get("pix_fmt")
    # no decoder here (metadata-only clips): MediaInfo still reads the size from the sample description
    meta.width = video.get("width") or integer(mi_video.get("width"))
    meta.height = video.get("height") or integer(mi_video.get("height"))

    meta.bit_depth = bit_depth(meta.pixel_format)
    mi_depth = integer(mi_video.get("bit_depth"))
    if meta.bit_depth is None:
        meta.bit_depth = mi_depth
        sources["bit_depth"] = "mediainfo"
    elif mi_depth is not None and mi_depth != meta.bit_depth:
        sources["bit_depth"] = f"pyav pixel format {meta.pixel_format}; mediainfo says {mi_depth}"
    meta.chroma_subsampling = chroma_subsampling(meta.pixel_format) or mi_video.get("chroma_subsampling")

    order = video.get("field_order")
    mi_scan = str(mi_video.get("scan_type") or "")
    mi_order = str(mi_video.get("scan_order") or "")
    if order in ("tt", "bt") or (first.get("interlaced") and mi_order.upper().startswith("T")):
        meta.scan_type, meta.field_order = "interlaced", "tff"
    elif order in ("bb", "tb") or (first.get("interlaced") and mi_order.upper().startswith("B")):
        meta.scan_type, meta.field_order = "interlaced", "bff"
    elif first.get("interlaced") or mi_scan in ("Interlaced", "MBAFF"):
        meta.scan_type = "interlaced"
        meta.field_order = "bff" if mi_order.upper().startswith("B") else ("tff" if mi_order else None)
        sources["scan_type"] = "first frame / mediainfo"
    else:
        meta.scan_type = "progressive" if order == "progressive" or mi_scan == "Progressive" or not mi_scan else None

    meta.rotation = (-int(first.get("rotation") or 0)) % 360
    sar = ratio(video.get("sample_aspect_ratio")) or (1, 1)
    meta.sample_aspect_ratio = f"{sar[0]}:{sar[1]}"
    if meta.width and meta.height:
        display_w = int(round(meta.width * sar[0] / sar[1]))
        display_h = meta.height
        meta.display_aspect_ratio = video.get("display_aspect_ratio") or reduced_ratio(display_w, display_h)
        if meta.rotation in (90, 270):
            display_w, display_h = display_h, display_w
        meta.display_width, meta.display_height = display_w, display_h

    meta.avg_frame_rate = video.get("avg_frame_rate")
    meta.is_vfr = scan.get("is_vfr")
    # A VFR stream has no nominal rate (libavformat's guess is often the time base): report the average.
    nominal = video.get("r_frame_rate") or number(mi_video.get("frame_rate"))
    meta.frame_rate = meta.avg_frame_rate if meta.is_vfr and meta.avg_frame_rate else nominal
    mi_mode = mi_video.get("frame_rate_mode")
    sources["is_vfr"] = f"packet timestamps ({scan.get('packets', 0)} packets); mediainfo frame_rate_mode={mi_mode}"
    meta.frame_count = scan.get("frame_count") or video.get("frames") or integer(mi_video.get("frame_count"))
    sources["frame_count"] = "counted packets" if scan.get("frame_count") else "container header / mediainfo"
    meta.start_time_seconds = video.get("start_time")
    if meta.start_time_seconds is None:
        meta.start_time_seconds = scan.get("first_pts_seconds") or first.get("pts_seconds")
    if meta.duration_seconds is None:
        meta.duration_seconds = video.get("duration")
    measured_lie = _measured_over_claimed(meta, scan, sources, issues, path)
    meta.video_bitrate = video.get("bit_rate") or integer(mi_video.get("bit_rate"))
    if meta.video_bitrate and meta.width and meta.height and meta.frame_rate:
        meta.bits_per_pixel = round(meta.video_bitrate / (meta.width * meta.height * meta.frame_rate), 4)
    meta.keyframe_interval_seconds = scan.get("keyframe_interval_seconds")

    meta.color_primaries = video.get("color_primaries") or MI_PRIMARIES.get(str(mi_video.get("color_primaries")))
    meta.transfer_characteristics = video.get("color_transfer") or MI_TRANSFER.get(
        str(mi_video.get("transfer_characteristics"))
    )
    meta.matrix_coefficients = video.get("color_space") or MI_MATRIX.get(str(mi_video.get("matrix_coefficients")))
    mi_range = {"Limited": "tv", "Full": "pc"}.get(str(mi_video.get("color_range")))
    meta.color_range = video.get("color_range") or mi_range
    meta.hdr_format, meta.dolby_vision_profile = hdr_format(mi_video, meta.transfer_characteristics)
    meta.mastering_display = mastering_display(mi_video)
    meta.max_cll = integer(mi_video.get("maximum_content_light_level") or mi_video.get("maxcll"))
    meta.max_fall = integer(mi_video.get("maximum_frameaverage_light_level") or mi_video.get("maxfall"))

    if meta.video_codec is None:
        name = mi_video.get("format") or mi_video.get("codec_id") or video.get("format_name") or "unknown"
        issues.append(ValidationIssue(code="unsupported_codec", severity="error",
                                      message=f"{path.name}: no decoder here for its video codec ({name})"))
    elif first.get("error"):
        issues.append(ValidationIssue(code="decode_error", severity="error",
                                      message=f"{path.name}: first video frame does not decode ({first['error']})"))
    if pyav.get("seek_index") is False:
        issues.append(ValidationIssue(code="missing_index", severity="warning",
                                      message=f"{path.name}: no seek index (Matroska Cues / AVI idx1); seeking reads "
                                              "the whole file. Remux to fix: ffmpeg -i IN -c copy OUT"))
    if scan.get("timestamps_backwards"):
        issues.append(ValidationIssue(code="timestamps_backwards", severity="warning",
                                      message=f"{path.name}: video decode timestamps go backwards"))
    stream_duration = video.get("duration") or hms_seconds((video.get("tags") or {}).get("DURATION"))
    if stream_duration is None and number(mi_video.get("duration")) is not None:
        stream_duration = number(mi_video.get("duration")) / 1000  # MediaInfo gives milliseconds
    if meta.duration_seconds and stream_duration and not measured_lie:
        gap = abs(meta.duration_seconds - stream_duration)
        if gap > max(0.5, 0.05 * meta.duration_seconds):
            issues.append(ValidationIssue(code="duration_mismatch", severity="warning",
                                          message=f"{path.name}: container says {meta.duration_seconds:.2f}s, video stream {stream_duration:.2f}s"))


def _measured_over_claimed(meta, scan, sources, issues, path) -> bool:
    """Replace a duration (and frame count) the headers claim by what the packets hold when they disagree."""
    raw = scan.get("measured")
    if not raw:  # nothing decodable to measure (metadata-only): a claim too big for the file is dropped
        duration, implausible = plausible_claim(meta.duration_seconds, meta.size_bytes or 0)
        if implausible:
            meta.duration_seconds, meta.frame_count = duration, None
            sources["duration_seconds"] = f"none: the headers' claim is implausible ({implausible})"
            issues.append(ValidationIssue(code="duration_claim", severity="warning", message=f"{path.name}: {implausible}"))
            return True
        return False
    extent = MeasuredExtent(**{k: v for k, v in raw.items() if k in MeasuredExtent.model_fields})
    duration, disagreement = trusted_duration(meta.duration_seconds, extent)
    if disagreement is None:
        if not meta.duration_seconds and duration is not None:  # the headers give none (or zero)
            meta.duration_seconds = duration
            sources["duration_seconds"] = f"measured ({extent.method}); the headers give none"
            if not meta.frame_count and extent.frames is not None:
                meta.frame_count = extent.frames
        return False
    claimed_frames = meta.frame_count
    meta.duration_seconds = duration
    sources["duration_seconds"] = f"measured ({extent.method}); the headers claim {_claim(meta, disagreement)}"
    if extent.frames is not None:
        meta.frame_count = extent.frames
        sources["frame_count"] = f"counted packets ({extent.method})"
    elif duration is not None and meta.frame_rate:
        meta.frame_count = int(round(duration * meta.frame_rate))
        sources["frame_count"] = f"measured duration x frame rate; the headers claim {claimed_frames}"
    code = "truncated" if disagreement.endswith("truncated?") else "duration_claim"
    issues.append(ValidationIssue(code=code, severity="warning", message=f"{path.name}: {disagreement}"))
    return True


def _claim(meta, disagreement: str) -> str:
    return disagreement.split(",", 1)[0].removeprefix("claims ")


def _audio_tracks(streams, mi_audio) -> list[AudioTrack]:
    tracks = []
    for position, s in enumerate(x for x in streams if x["type"] == "audio"):
        mi = mi_audio[position] if position < len(mi_audio) else {}
        tags = s.get("tags") or {}
        language = s.get("language") or tags.get("language")
        tracks.append(AudioTrack(
            index=s["index"], codec=s.get("codec"), channels=s.get("channels"), channel_layout=s.get("channel_layout"),
            sample_rate=s.get("sample_rate"), bit_depth=integer(mi.get("bit_depth")), bitrate=s.get("bit_rate") or integer(mi.get("bit_rate")),
            language=None if language in (None, "und") else language, duration_seconds=s.get("duration"),
            title=tags.get("title"), is_default=s.get("default", False),
        ))
    return tracks


def _audio_issues(meta, pyav, issues, path) -> None:
    for track in meta.audio_tracks:
        if track.duration_seconds is not None and track.duration_seconds <= 0:
            issues.append(ValidationIssue(code="zero_length_audio", severity="warning",
                                          message=f"{path.name}: audio track {track.index} has zero length"))
    peak = pyav.get("audio_peak")
    if meta.audio_tracks and peak is not None and peak < 1e-4:
        issues.append(ValidationIssue(code="silent_audio", severity="warning",
                                      message=f"{path.name}: the first audio track is silent at the start"))


def _camera_fields(meta, exif, tags, sources) -> None:
    meta.camera_make = exif_tag(exif, "Keys:Make", "UserData:Make", "IFD0:Make", "Make") or tags.get("com.apple.quicktime.make") or tags.get("make")
    meta.camera_model = exif_tag(exif, "Keys:Model", "UserData:Model", "IFD0:Model", "Model") or tags.get("com.apple.quicktime.model") or tags.get("model")
    meta.camera_serial = exif_tag(exif, "SerialNumber", "InternalSerialNumber", "BodySerialNumber", "CameraSerialNumber")
    meta.lens = exif_tag(exif, "LensModel", "LensType", "Lens", "LensInfo")
    meta.focal_length_mm = number(exif_tag(exif, "FocalLength"))
    meta.focal_length_35mm = number(exif_tag(exif, "FocalLengthIn35mmFormat", "FocalLength35efl"))
    meta.iso = integer(exif_tag(exif, "ISO", "ISOSpeed"))
    exposure = number(exif_tag(exif, "ExposureTime", "ShutterSpeed"))
    if exposure:
        meta.shutter_speed = f"1/{round(1 / exposure)}" if exposure < 1 else f"{exposure:g}s"
    meta.aperture = number(exif_tag(exif, "FNumber", "Aperture", "ApertureValue"))
    white_balance = exif_tag(exif, "WhiteBalance")
    meta.white_balance = str(white_balance) if white_balance is not None else None
    for key in ("camera_serial", "lens"):
        value = getattr(meta, key)
        if value is not None:
            setattr(meta, key, str(value))
    lat, lon, alt = number(exif_tag(exif, "Composite:GPSLatitude")), number(exif_tag(exif, "Composite:GPSLongitude")), number(exif_tag(exif, "Composite:GPSAltitude"))
    if lat is None:
        coords = exif_tag(exif, "GPSCoordinates")
        if coords is not None:
            numbers = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", str(coords))]
            lat, lon, alt = (numbers + [None, None, None])[:3]
            sources["gps"] = "exiftool GPSCoordinates"
    if lat is None:
        lat, lon, alt = iso6709(tags.get("location") or tags.get("com.apple.quicktime.location.ISO6709"))
        if lat is not None:
            sources["gps"] = "container location tag (ISO 6709)"
    meta.gps_latitude, meta.gps_longitude, meta.gps_altitude = lat, lon, alt
    software = exif_tag(exif, "Keys:Software", "UserData:Software", "Software", "CreatorTool") or tags.get("com.apple.quicktime.software")
    meta.software = str(software) if software is not None else None
    for key in ("camera_make", "camera_model"):
        value = getattr(meta, key)
        if value is not None:
            setattr(meta, key, str(value).strip())


def _recorded_at(meta, exif, tags, sources) -> None:
    candidates = [
        ("exiftool Keys:CreationDate", exif_tag(exif, "Keys:CreationDate"), False),
        ("exiftool DateTimeOriginal", exif_tag(exif, "DateTimeOriginal"), False),
        ("container creation_time", tags.get("creation_time"), True),
        ("exiftool QuickTime:CreateDate (UTC)", exif_tag(exif, "QuickTime:CreateDate"), True),
        ("exiftool XMP CreateDate", exif_tag(exif, "XMP-xmp:CreateDate"), False),
    ]
    for label, value, utc in candidates:
        parsed = parse_date(value, assume_utc=utc)
        if parsed is not None:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
                label += ", no zone given: read as UTC"
            meta.recorded_at = parsed
            sources["recorded_at"] = label
            return
