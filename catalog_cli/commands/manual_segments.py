"""`video-catalog segments add|edit|remove`: time ranges a person marks on a clip, with a label and a note.

The rows and their checks are catalog_resources/store/manual_segments.py's; here is the order of the work. A
segment is written in one transaction with what makes it findable at once: its vector from the configured
embedder (only when the clip already has vectors from that model; otherwise the embeddings step embeds it with
the rest when it runs) and the clip's search row (catalog_record), rebuilt by the asset's own function so the
label's words are in the full-text document. The range is checked before any model loads.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from catalog_cli.common import catalog_db, cli_settings, handles_errors, one_clip
from catalog_cli.render import err
from catalog_cli.render.manage import print_json
from catalog_cli.render.text import echo
from catalog_resources.analysis.transcript_export import timecode

CLIP = Annotated[str, typer.Argument(help="A clip id, an id prefix, a file path or name, or a partition key.")]
SEGMENT_ID = Annotated[int, typer.Argument(help="A manual segment's id (see `segments CLIP --type manual`).")]
LABEL = Annotated[str | None, typer.Option("--label", help="What the range is, e.g. \"B-roll market\" (searchable).")]
NOTE = Annotated[str | None, typer.Option("--note", help="A longer note (searchable too).")]
JSON = Annotated[bool, typer.Option("--json", help="Print the segment as JSON with stable keys.")]


def _seconds(text: str | None, option: str) -> float | None:
    from catalog_resources.search.segments import parse_time

    return None if text is None else parse_time(text, option)


def _vector(store, clip_id: str, text: str):
    """(model, the text's vector) when the clip has vectors from the configured model, else None."""
    from catalog_resources.store.manual_segments import embedded_models

    if cli_settings().embedding_model not in embedded_models(store, clip_id):
        return None
    from catalog_cli.commands.search import query_embedder

    service = query_embedder()  # an uninstalled model or a missing key: its one line, nothing written
    return service.model, service.embed_segment(0, text)


def _write_findable(store, row: dict[str, Any], vector) -> None:
    """Inside the caller's transaction: the segment's vector and the clip's rebuilt search row."""
    from catalog_resources.store.manual_segments import has_catalog_record, write_segment_vector

    if vector is not None:
        model, item = vector
        write_segment_vector(store, row["clip_id"], model, item.model_copy(update={"segment_id": row["segment_id"]}))
    if has_catalog_record(store, row["clip_id"]):  # else catalog_record, when it first runs, reads the label
        from catalog_assets.catalog_record import build_record  # Dagster is imported here: a write command

        with store.connect() as conn:
            store.write_catalog_record(conn, build_record(row["clip_id"], store))


def _report(verb: str, row: dict[str, Any], as_json: bool, embedded: bool | None = None) -> None:
    from catalog_cli.commands.segments import SEGMENT_KEYS

    if as_json:
        print_json({k: row[k] for k in SEGMENT_KEYS} | ({} if embedded is None else {"embedded": embedded}))
        return
    where = f"{timecode(row['start_seconds'], tenths=True)}–{timecode(row['end_seconds'], tenths=True)}"
    later = "" if embedded is not False else (" (found by its words now, by meaning once the clip is embedded: "
                                              "video-catalog refresh --missing embeddings)")
    err.print(f"{verb} manual segment {row['segment_id']} of clip {row['clip_id']}, {where} "
              f"{echo(row['text'])}{later}", highlight=False, markup=False)


@handles_errors
def add(
    clip: CLIP,
    start: Annotated[str, typer.Option("--start", help="From this time (00:01:02, 1:02 or 62.5).")],
    end: Annotated[str, typer.Option("--end", help="Up to this time; after --start, within the clip.")],
    label: Annotated[str, typer.Option("--label", help="What the range is, e.g. \"B-roll market\" (searchable).")],
    note: NOTE = None,
    as_json: JSON = False,
) -> None:
    """Mark a time range of a clip as a segment of your own, with a label and a note.

    It is listed (`segments CLIP --type manual`), found by `search` (its label and note, by words and by meaning) and exported (`export`: a range of a search hit, a
    marker on a clip) like the analysis' segments, and it stays when the clip is analysed again.

    Examples:
      video-catalog segments add 3f9a2c1d --start 00:01:02 --end 1:10 --label "B-roll market"
      video-catalog segments add GOPR0042.MP4 --start 12 --end 19.5 --label "drone reveal" --note "use the end"
    """
    from catalog_resources.embeddings.texts import manual_text
    from catalog_resources.store.manual_segments import add_manual_segment, check_segment, clip_duration

    begin, finish = _seconds(start, "--start"), _seconds(end, "--end")
    store = catalog_db()[1]
    clip_id = one_clip(store, clip)
    with store.connect() as conn:  # the one-line errors before any model loads
        check_segment(clip_id, begin, finish, label, clip_duration(conn, clip_id))
    vector = _vector(store, clip_id, manual_text(label, note))
    with store.connect():  # one transaction: the segment, its vector, the clip's search row
        row = add_manual_segment(store, clip_id, begin, finish, label, note)
        _write_findable(store, row, vector)
    _report("added", row, as_json, embedded=vector is not None)


@handles_errors
def edit(
    segment_id: SEGMENT_ID,
    start: Annotated[str | None, typer.Option("--start", help="New start time.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="New end time.")] = None,
    label: LABEL = None,
    note: Annotated[str | None, typer.Option("--note", help="New note (\"\" removes it).")] = None,
    as_json: JSON = False,
) -> None:
    """Change a manual segment's range, label or note.

    What is not given stays. Only manual segments can be changed: the analysis' own are replaced when its step
    runs again.

    Examples:
      video-catalog segments edit 1234 --end 1:15
      video-catalog segments edit 1234 --label "B-roll fish market" --note ""
    """
    from catalog_resources.embeddings.texts import manual_text
    from catalog_resources.store.manual_segments import ManualSegmentInput, edit_manual_segment, planned_edit

    change = ManualSegmentInput(start_seconds=_seconds(start, "--start"), end_seconds=_seconds(end, "--end"),
                                label=label, note=note)
    store = catalog_db()[1]
    new = planned_edit(store, segment_id, change)  # no such id, not manual, a bad range: its one line, now
    words_changed = label is not None or note is not None
    vector = _vector(store, new["clip_id"], manual_text(new["label"], new["note"])) if words_changed else None
    with store.connect():
        row = edit_manual_segment(store, segment_id, change)
        _write_findable(store, row, vector)
    _report("changed", row, as_json, embedded=(vector is not None) if words_changed else None)


@handles_errors
def remove(segment_id: SEGMENT_ID, as_json: JSON = False) -> None:
    """Remove a manual segment (and its vector).

    The analysis' segments cannot be removed: they are replaced when their step runs again.

    Example:
      video-catalog segments remove 1234
    """
    from catalog_resources.store.manual_segments import remove_manual_segment

    store = catalog_db()[1]
    with store.connect():
        row = remove_manual_segment(store, segment_id)
        _write_findable(store, row, None)
    _report("removed", row, as_json)
