"""What `video-catalog report` prints for people: the content summary as labelled lines, storage usage as a table
(text), or machine-readable rows (JSON, CSV with one row per group). Every value is data shown literally."""

from __future__ import annotations

from typing import Any

from catalog_cli.render import out
from catalog_cli.render.tables import duration_text, human_size
from catalog_cli.render.text import LiteralTable

SUMMARY_LINES = (("clip_count", "clips"), ("duration_seconds", "total duration"), ("size_bytes", "size"),
                 ("recorded_from", "recorded from"), ("recorded_to", "recorded to"), ("codecs", "codecs"),
                 ("resolutions", "resolutions"), ("cameras", "cameras"), ("languages", "languages"),
                 ("shot_types", "shot types"), ("quality", "quality score"), ("top_keywords", "top keywords"),
                 ("people", "people"), ("top_entities", "top entities"), ("top_visual_labels", "visual labels"),
                 ("exposure_warnings", "exposure warnings"), ("blurry", "blurry"),
                 ("exposure_or_blur_warnings", "clips with either"))
STORAGE_COLUMNS = ("clips", "originals_bytes", "copies_bytes", "online_bytes", "offline_bytes", "proxy_bytes",
                   "audio_bytes", "analysis_frames_bytes", "thumbnails_bytes", "sidecars_bytes", "media_store_bytes")


def _value(key: str, value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{name} {n}" for name, n in value.items()) or "-"
    if key == "duration_seconds":
        return duration_text(value)
    if key == "size_bytes":
        return human_size(value)
    return "-" if value is None else str(value)


def print_content_summary(summary: dict[str, Any], title: str) -> None:
    table = LiteralTable(title=title, show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, label in SUMMARY_LINES:
        table.add_row(label, _value(key, summary[key]))
    out.print(table)


def print_storage(report: dict[str, Any]) -> None:
    totals = report["totals"]
    table = LiteralTable(title="Storage usage", header_style="bold")
    table.add_column(report["by"] or "", overflow="fold")
    for column in STORAGE_COLUMNS:
        table.add_column(column.removesuffix("_bytes").replace("_", " "), justify="right")
    for group in [*report["groups"], {"group": "total", **totals}]:
        table.add_row(group["group"], *(str(group[c]) if c == "clips" else human_size(group[c]) for c in STORAGE_COLUMNS))
    out.print(table)
    out.print(f"distinct contents: {totals['distinct_contents']}, offline clips: {totals['offline_clips']}, "
              f"database: {human_size(totals['database_bytes'])}", highlight=False, markup=False)
