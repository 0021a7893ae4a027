"""Rich rendering of one clip for `video-catalog show`: facts, tracks and analysis as panels."""

from __future__ import annotations

from typing import Any

from rich.columns import Columns
from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from catalog_cli.render.text import LiteralTable, plain
from catalog_resources.analysis.transcript_export import timecode


def _facts(title: str, pairs: list[tuple[str, Any]]) -> Panel | None:
    table = LiteralTable.grid(padding=(0, 2))  # every value is footage or file text, shown literally
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    shown = 0
    for label, value in pairs:
        if value in (None, "", [], {}):
            continue
        if isinstance(value, float):
            value = f"{value:.6g}"
        table.add_row(label, value if isinstance(value, Text) else str(value))
        shown += 1
    return Panel(table, title=plain(title), title_align="left") if shown else None


def _tracks(title: str, rows: list[dict[str, Any]], columns: list[str]) -> Panel | None:
    if not rows:
        return None
    table = LiteralTable(*columns, header_style="bold", expand=False)
    for row in rows:
        table.add_row(*("-" if row.get(c) in (None, "") else str(row.get(c)) for c in columns))
    return Panel(table, title=plain(title), title_align="left")


def _proxy(proxy: dict[str, Any] | None) -> Panel | None:
    if not proxy:
        return None
    return _facts("Proxy", [
        ("video", f"{proxy['proxy_path']}  ({proxy['proxy_width']}x{proxy['proxy_height']}, {proxy['proxy_fps']:g} fps, "
                  f"{proxy['proxy_codec']} via {proxy['encoder']}{', tone-mapped' if proxy.get('tone_mapped') else ''})"),
        ("speech audio", proxy.get("audio_path")),
        ("analysis frames", f"{proxy['analysis_path']}  ({proxy['analysis_frames']} frames, "
                            f"{proxy['analysis_width']}x{proxy['analysis_height']} gray)"),
    ])


def _thumbnails(thumbs: dict[str, Any] | None) -> Panel | None:
    if not thumbs:
        return None
    kept = thumbs.get("thumbnails") or []
    rejected = ", ".join(f"{count} {reason}" for reason, count in (thumbs.get("rejected") or {}).items())
    return _facts("Thumbnails", [
        ("poster", thumbs.get("poster_path")),
        ("contact sheet", thumbs.get("contact_sheet_path")),
        ("frames", f"{len(kept)} kept of {thumbs.get('candidates')} candidates ({thumbs.get('frames_decoded')} decoded)"
                   + (f"; dropped {rejected}" if rejected else "")),
        ("at", ", ".join(f"{t['pts_seconds']:.2f}s" for t in kept[:12]) + (" ..." if len(kept) > 12 else "")),
        ("tone-mapped", "yes (HDR to SDR BT.709)" if thumbs.get("tone_mapped") else None),
    ])


def _analysis(fa: dict[str, Any] | None) -> Panel | None:
    if not fa:
        return None
    parts = ", ".join(f"{k} {v:.2f}" for k, v in (fa.get("quality_parts") or {}).items())
    return _facts("Frame analysis", [
        ("quality", f"{fa.get('quality_score')} / 100" + (f"  ({parts})" if parts else "")),
        ("exposure", f"{fa.get('overexposed_percent')}% clipped, {fa.get('underexposed_percent')}% crushed"
                     + ("  WARNING" if fa.get("exposure_warning") else "")),
        ("off by", f"{fa['exposure_stops']:+.1f} stops" if fa.get("exposure_stops") is not None else None),
        ("blur", f"{fa.get('blur_score')}" + ("  (blurry)" if fa.get("is_blurry") else "")),
        ("noise", fa.get("noise_score")), ("blockiness", fa.get("blockiness")),
        ("edge density", fa.get("edge_density")), ("entropy", fa.get("entropy")),
        ("shot type", _shot_type(fa)),
        ("focal length", fa.get("focal_length_category")),
        ("scene cuts", ", ".join(f"{t:.2f}s" for t in fa.get("scene_cuts") or []) or "none"),
    ])


def _shot_type(fa: dict[str, Any]) -> str | None:
    frames = fa.get("frames") or []
    with_faces = sum(1 for f in frames if f.get("faces"))
    if not fa.get("shot_type"):
        return None
    return f"{fa['shot_type']}  (faces in {with_faces} of {len(frames)} frames)" if frames else fa["shot_type"]


def _ai_panels(a: dict[str, Any] | None, tags: list[dict[str, str]]) -> list[Panel | None]:
    if not a:
        return [_facts("AI analysis", [("status", "not analysed yet (step ai_analysis)")])]
    summary = a.get("summary") or {}
    content = a.get("content_analysis") or {}
    entities = content.get("entities") or {}
    audio = a.get("audio_analysis") or {}
    visual = a.get("visual_analysis") or {}
    transcript = audio.get("transcript") or {}
    language = transcript.get("language")
    if language and not transcript.get("language_trusted", True):
        language += f" (unsure, p={transcript.get('language_probability')})"
    panels = [_facts(f"AI analysis ({a['backend']}: {a['model']})", [
        ("summary", (summary.get("overall") or "") + ("  [extractive]" if summary.get("extractive") else "")),
        ("keywords", ", ".join(summary.get("keywords") or [])),
        ("scene", ", ".join(summary.get("scene_classification") or [])),
        ("sentiment", summary.get("sentiment")),
        ("people", ", ".join(entities.get("people") or [])),
        ("organisations", ", ".join(entities.get("organizations") or [])),
        ("locations", ", ".join(entities.get("locations") or [])),
        ("warnings", ", ".join(w["category"] for w in content.get("content_warnings") or [])),
        ("tags", ", ".join(f"{t['name']} ({t['source']}{', ' + t['review'] if t.get('review') else ''})" for t in tags)),
        ("language", language),
        ("file", a.get("analysis_file_path")),
    ])]
    segments = transcript.get("segments") or []
    if segments:
        table = LiteralTable.grid(padding=(0, 2))
        table.add_column(style="cyan", no_wrap=True)
        table.add_column(overflow="fold")
        for seg in segments:
            who = f"{seg['speaker']}: " if seg.get("speaker") else ""
            table.add_row(f"{timecode(seg['start_seconds'], tenths=True)}-{timecode(seg['end_seconds'], tenths=True)}", who + seg["text"])
        panels.append(Panel(table, title="Transcript", title_align="left"))
    elif audio:
        panels.append(_facts("Transcript", [("speech", "none found")]))
    panels.append(_tracks("Sound events", [
        {**e, "time": f"{timecode(e['start_seconds'], tenths=True)}-{timecode(e['end_seconds'], tenths=True)}"} for e in audio.get("sound_events") or []
    ], ["time", "category", "label", "confidence"]))
    items = (visual.get("text_and_graphics") or {}).get("items") or []
    panels.append(_tracks("On-screen text", [
        {**t, "time": f"{timecode(t['start_seconds'], tenths=True)}-{timecode(t['end_seconds'], tenths=True)}"} for t in items
    ], ["time", "text", "confidence"]))
    panels.append(_tracks("Shot types", [
        {**s, "time": f"{timecode(s['start_seconds'], tenths=True)}-{timecode(s['end_seconds'], tenths=True)}"} for s in visual.get("shot_types") or []
    ], ["time", "shot_type", "description"]))
    return panels


def _state(state: dict[str, Any] | None) -> str | None:
    """complete, in progress, failed (step: why), incomplete (missing steps), stale or metadata-only."""
    if not state:
        return None
    return f"{state['state']}: {state['detail']}" if state.get("detail") else state["state"]


def render_clip(console: Console, clip: dict[str, Any]) -> None:
    tech = clip.get("technical_metadata") or {}
    sources = Text("\n").join(plain(f"{'online ' if s['online'] else 'offline'}  {s['path']}") for s in clip["sources"])
    resolution = f"{tech.get('width')}x{tech.get('height')}" if tech.get("width") else None
    display = f"{tech.get('display_width')}x{tech.get('display_height')}" if tech.get("display_width") else None
    mastering = tech.get("mastering_display") or {}
    panels = [
        _facts(f"{clip['file_name']}  ({clip['clip_id']})", [
            ("paths", sources), ("status", _state(clip.get("state"))),
            ("size", f"{clip['size_bytes']:,} bytes"), ("md5", clip["md5"]),
            ("container", " ".join(p for p in (tech.get("container_format"), tech.get("container_brand")) if p)),
            ("recorded", tech.get("recorded_at")), ("timecode", tech.get("timecode")), ("reel", tech.get("reel_name")),
            ("source", tech.get("source_workflow")), ("evidence", "; ".join(tech.get("source_workflow_evidence") or [])),
        ]),
        _facts("Video", [
            ("codec", " / ".join(p for p in (tech.get("video_codec"), tech.get("video_profile"), tech.get("video_level")) if p)),
            ("resolution", resolution), ("display", display), ("aspect", tech.get("display_aspect_ratio")),
            ("pixel aspect", tech.get("sample_aspect_ratio") if tech.get("sample_aspect_ratio") != "1:1" else None),
            ("rotation", tech.get("rotation") or None), ("frame rate", tech.get("frame_rate")),
            ("variable rate", "yes" if tech.get("is_vfr") else None), ("frames", tech.get("frame_count")),
            ("duration", tech.get("duration_seconds")), ("starts at", tech.get("start_time_seconds") or None),
            ("scan", " ".join(p for p in (tech.get("scan_type"), tech.get("field_order")) if p)),
            ("pixel format", tech.get("pixel_format")), ("bit depth", tech.get("bit_depth")),
            ("chroma", tech.get("chroma_subsampling")), ("bitrate", tech.get("video_bitrate")),
            ("bits/pixel", tech.get("bits_per_pixel")), ("keyframe every", tech.get("keyframe_interval_seconds")),
        ]),
        _facts("Colour", [
            ("primaries", tech.get("color_primaries")), ("transfer", tech.get("transfer_characteristics")),
            ("matrix", tech.get("matrix_coefficients")), ("range", tech.get("color_range")),
            ("HDR", tech.get("hdr_format")), ("Dolby Vision profile", tech.get("dolby_vision_profile")),
            ("mastering display", mastering.get("primaries")),
            ("mastering luminance", f"{mastering.get('min_luminance')} - {mastering.get('max_luminance')} cd/m²" if mastering else None),
            ("MaxCLL", tech.get("max_cll")), ("MaxFALL", tech.get("max_fall")),
        ]),
        _facts("Camera", [
            ("make", tech.get("camera_make")), ("model", tech.get("camera_model")), ("serial", tech.get("camera_serial")),
            ("lens", tech.get("lens")), ("focal length", tech.get("focal_length_mm")),
            ("35 mm equivalent", tech.get("focal_length_35mm")), ("ISO", tech.get("iso")),
            ("shutter", tech.get("shutter_speed")), ("aperture", tech.get("aperture")),
            ("white balance", tech.get("white_balance")),
            ("GPS", ", ".join(str(v) for v in (tech.get("gps_latitude"), tech.get("gps_longitude"), tech.get("gps_altitude")) if v is not None)),
            ("software", tech.get("software")),
        ]),
        _proxy(clip.get("proxy")),
        _thumbnails(clip.get("thumbnails")),
        _analysis(clip.get("frame_analysis")),
        _tracks("Scenes", [{**seg, "keyframe": seg.get("keyframe_path")} for seg in clip.get("segments") or []
                           if seg["segment_type"] == "scene_change"],
                ["segment_index", "start_seconds", "end_seconds", "keyframe"]),
        _tracks("Seen (offline visual analysis)", [seg for seg in clip.get("segments") or []
                                                   if seg["segment_type"] == "visual"],
                ["start_seconds", "end_seconds", "text"]),
        _tracks("Manual segments", [{**seg, "label": seg["text"]} for seg in clip.get("segments") or []
                                    if seg["segment_type"] == "manual"],
                ["start_seconds", "end_seconds", "label", "note"]),
        *_ai_panels(clip.get("ai_analysis"), clip.get("tags") or []),
        _tracks("People", [{**t, "person": t.get("name") or t.get("person_id"),
                            "on screen": ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in t.get("ranges") or []),
                            "face": t.get("crop_path")} for t in clip.get("people") or []],
                ["person", "on screen", "face"]),
        _tracks("Audio", tech.get("audio_tracks") or [],
                ["index", "codec", "channels", "channel_layout", "sample_rate", "bit_depth", "language", "title", "is_default"]),
        _tracks("Subtitles", tech.get("subtitle_tracks") or [], ["index", "codec", "language", "title", "is_default", "is_forced"]),
        _tracks("Validation", tech.get("validation_issues") or [], ["severity", "code", "message"]),
    ]
    if not tech:
        panels.append(_facts("Technical metadata", [("status", "not extracted yet (step technical_metadata)")]))
    shown = [p for p in panels if p is not None]
    console.print(Group(shown[0], Columns(shown[1:4], equal=False, expand=False), *shown[4:]))
