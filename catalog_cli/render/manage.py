"""What the catalog-management commands print: collections, tags, segments and a moment of a clip. Every cell is
data shown literally (LiteralTable); `print_json` is the one JSON writer of these commands (stable keys)."""

from __future__ import annotations

import json
from typing import Any

from catalog_cli.render import out
from catalog_cli.render.tables import duration_text, human_size
from catalog_cli.render.text import LiteralTable, count
from catalog_resources.analysis.transcript_export import timecode


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def collections_table(rows: list[dict[str, Any]]) -> LiteralTable:
    table = LiteralTable(title=count(len(rows), "collection"), header_style="bold")
    for column, justify in (("name", "left"), ("clips", "right"), ("duration", "right"), ("size", "right"),
                            ("updated", "left"), ("description", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for row in rows:
        table.add_row(row["name"], str(row["clip_count"]), duration_text(row["duration_seconds"]),
                      human_size(row["size_bytes"]), row["updated_at"].strftime("%Y-%m-%d %H:%M"),
                      row["description"] or "")
    return table


def clip_tags_table(rows: list[dict[str, Any]]) -> LiteralTable:
    """`tag list --clip-id`: each tag of each clip, with its source and review."""
    table = LiteralTable(title=count(len(rows), "tag"), header_style="bold")
    for column in ("clip", "file", "tag", "source", "review"):
        table.add_column(column, overflow="fold")
    for row in rows:
        review = row["review"] or ("-" if row["source"] == "user" else "unreviewed")
        table.add_row(row["clip_id"], row["file_name"], row["tag"], row["source"], review)
    return table


def tag_counts_table(rows: list[dict[str, Any]]) -> LiteralTable:
    """`tag list`: each tag and source with its clip count (rejected ones apart)."""
    table = LiteralTable(title=count(len(rows), "tag"), header_style="bold")
    for column, justify in (("tag", "left"), ("source", "left"), ("clips", "right"), ("accepted", "right"),
                            ("rejected", "right"), ("unreviewed", "right")):
        table.add_column(column, justify=justify, overflow="fold")
    for row in rows:
        table.add_row(row["tag"], row["source"], str(row["clips"]), str(row["accepted"]), str(row["rejected"]),
                      str(row["unreviewed"]))
    return table


def segments_table(rows: list[dict[str, Any]], title: str, with_clip: bool) -> LiteralTable:
    table = LiteralTable(title=title, header_style="bold")
    columns = ["segment", *(["clip", "file"] if with_clip else []), "type", "from", "to", "length", "text"]
    for column in columns:
        table.add_column(column, overflow="fold", justify="right" if column == "length" else "left")
    for row in rows:
        cells = [str(row["segment_id"]), *([row["clip_id"], row["file_name"]] if with_clip else []),
                 row["segment_type"], timecode(row["start_seconds"], tenths=True), timecode(row["end_seconds"], tenths=True),
                 f"{row['duration_seconds']:.1f} s", row.get("snippet") or row.get("text") or ""]
        table.add_row(*cells)
    return table


def segment_hits_table(hits: list[dict[str, Any]], title: str) -> LiteralTable:
    """`search --segment-level` and `similar --segment-id`: one row per segment."""
    table = LiteralTable(title=title, header_style="bold")
    for column in ("#", "match", "segment", "clip", "file", "type", "at", "text"):
        table.add_column(column, overflow="fold")
    for i, hit in enumerate(hits, start=1):
        match = f"{hit['strength']} %" if hit.get("strength") is not None else f"{hit['similarity']:.3f}"
        table.add_row(str(i), match, str(hit["segment_id"]), hit["clip_id"], hit["file_name"], hit["segment_type"],
                      f"{timecode(hit['start_seconds'], tenths=True)}–{timecode(hit['end_seconds'], tenths=True)}",
                      hit.get("snippet") or hit.get("text") or "")
    return table


def print_moment(moment: dict[str, Any]) -> None:
    """`search --at T CLIP`: what is said and shown from T - context to T + context, in time order."""
    out.print(f"{moment['file_name']} ({moment['clip_id']}) around {timecode(moment['at_seconds'])}, "
              f"{timecode(moment['start_seconds'])}–{timecode(moment['end_seconds'])}", highlight=False, markup=False)
    table = LiteralTable(header_style="bold")
    for column in ("from", "to", "what", "text"):
        table.add_column(column, overflow="fold")
    for item in moment["items"]:
        table.add_row(timecode(item["start_seconds"], tenths=True), timecode(item["end_seconds"], tenths=True), item["kind"], item["text"] or "")
    out.print(table)
