"""`video-catalog export edl|fcpxml|otio`: a collection or a search's hits as subclips for an editor.

The timeline is built by catalog_resources/export/timeline.py (OpenTimelineIO); the search is the `search`
command's own (catalog_resources/search/ranking.py), so a hit here is a hit there, with its time range.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

import typer

from catalog_cli.common import catalog_db, fail, handles_errors
from catalog_cli.errors import write_output
from catalog_cli.render import err
from catalog_cli.render.text import count, literal

_HANDLES = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|seconds?)?\s*$", re.IGNORECASE)


def parse_handles(text: str) -> float:
    """`2s`, `2`, `0.5s`: seconds added before and after each hit."""
    match = _HANDLES.match(text or "")
    if match is None:
        fail(f"--handles {text!r}: give seconds, e.g. 2s or 0.5")
    return float(match.group(1))


def _search_hits(store, query: str, mode: str, limit: int) -> list[tuple[str, float | None, float | None, str | None]]:
    """(clip id, start, end, snippet) of each hit of the `search` command's query: the same function, filters
    written in the query (`codec:prores fps:25`) included."""
    from catalog_cli.commands.search import query_embedder
    from catalog_resources.search.query import parse_inline_filters
    from catalog_resources.search.filters import FilterError, build_filter
    from catalog_resources.search.ranking import search as run_search

    if mode not in ("hybrid", "semantic", "text"):
        fail(f"--mode {mode!r}: choose hybrid, semantic or text")
    text, inline = parse_inline_filters(query)
    try:
        chosen = build_filter(inline)
    except FilterError as exc:
        fail(str(exc))
    if not text.strip():
        fail("the --search query has no words to search for (only filters)")
    embedder = query_embedder() if mode != "text" else None
    if embedder is not None and store.embedded_clip_count(embedder.model) == 0:
        if mode == "semantic":
            fail(f"no clip has embeddings from {embedder.model} yet; run: video-catalog refresh --missing embeddings")
        embedder = None  # as `search`: words alone until clips are embedded
    hits = run_search(store, embedder, text, chosen, mode=mode, limit=limit).hits
    return [(h.clip_id, h.start_seconds, h.end_seconds, h.snippet) for h in hits]


def _subclips(store, picks: list[tuple[str, float | None, float | None, str | None]]):
    """The picks as subclips, each with the clip's manual segments (`segments add`) as marks: markers where they
    overlap what is exported."""
    from catalog_resources.export.timeline import Mark, Subclip
    from catalog_resources.store.export_clips import timeline_facts
    from catalog_resources.store.manual_segments import manual_segments_of

    facts = timeline_facts(store, [p[0] for p in picks])
    manual = manual_segments_of(store, [p[0] for p in picks])
    subclips, offline = [], 0
    for clip_id, start, end, note in picks:
        row = facts.get(clip_id)
        if row is None:
            continue
        path = next((p for p in row["paths"] if os.path.exists(p)), None)
        offline += path is None
        whole = start is None or end is None or end <= start
        subclips.append(Subclip(
            clip_id=clip_id, name=row["file_name"], path=path or row["paths"][0], frame_rate=row["frame_rate"],
            duration_seconds=row["duration_seconds"], frame_count=row["frame_count"], timecode=row["timecode"],
            reel=row["reel"], start_seconds=None if whole else start, end_seconds=None if whole else end, note=note,
            marks=[Mark(name=m["text"], start_seconds=m["start_seconds"], end_seconds=m["end_seconds"], note=m["note"],
                        segment_id=m["segment_id"]) for m in manual.get(clip_id, [])]))
    return subclips, offline


@handles_errors
def export(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="edl (CMX 3600), fcpxml (Final Cut Pro X, DaVinci Resolve) or otio (OpenTimelineIO).")],
    collection: Annotated[str | None, typer.Option("--collection", help="Export every clip of this collection, whole.")] = None,
    search: Annotated[str | None, typer.Option("--search", help="Export the hits of this search (words plus inline filters such as codec:prores fps:25), each hit's time range.")] = None,
    handles: Annotated[str, typer.Option("--handles", help="Extra media before and after each hit, e.g. 2s (clamped to the clip).")] = "0s",
    mode: Annotated[str, typer.Option(help="--search mode: hybrid (default), semantic or text.")] = "hybrid",
    limit: Annotated[int, typer.Option(help="--search: at most N hits.", min=1)] = 50,
    name: Annotated[str | None, typer.Option("--name", help="Timeline name (default: the collection or the query).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Export subclips to editing software: a collection's clips, or a search's hits with their time ranges.

    Each subclip references the original file (its current online path) and starts at the clip's source
    timecode when it has a timecode track, at its own frame rate (29.97 and 59.94 drop-frame when the timecode
    says so). An EDL holds one frame rate, so clips of mixed rates go to fcpxml or otio. Manual segments
    (`segments add`) inside a subclip become markers with their label; a search hit on one is its range.

    Examples:
      video-catalog export edl --collection "Best of day 1" -o day1.edl
      video-catalog export fcpxml --search "interview about pricing codec:prores" --handles 2s -o pricing.fcpxml
      video-catalog export otio --search "drone coastline" --mode text > coast.otio
    """
    from catalog_resources.export.timeline import FORMATS, build_timeline, render
    from catalog_resources.store.export_clips import collection_clip_ids, collection_names

    fmt = fmt.lower()
    if fmt not in FORMATS:
        fail(f"unknown export format {fmt!r}: choose {', '.join(FORMATS)}")
    if (collection is None) == (search is None):
        fail("give exactly one of --collection NAME or --search \"query\"")
    seconds = parse_handles(handles)
    store = catalog_db()[1]
    if collection is not None:
        clip_ids = collection_clip_ids(store, collection)
        if clip_ids is None:
            known = collection_names(store)
            fail(f"no collection named {collection!r}" + (f"; there are: {', '.join(known)}" if known
                                                           else "; the catalog has no collections yet"))
        if not clip_ids:
            fail(f"collection {collection!r} is empty: nothing to export", 1)
        picks = [(clip_id, None, None, None) for clip_id in clip_ids]
    else:
        picks = _search_hits(store, search or "", mode, limit)
        if not picks:
            fail(f"no good matches for {search!r}: nothing to export", 1)
    subclips, offline = _subclips(store, picks)
    timeline = build_timeline(name or collection or search or "video-catalog", subclips, seconds)
    text = render(timeline, fmt)  # type: ignore[arg-type]
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        try:
            write_output(output, text)  # a missing folder, a folder, no permission: its one line, exit 2
        except OSError as exc:  # anything else the file system says (read-only, /proc, I/O error)
            fail(f"cannot write {output}: {exc.strerror or exc}; choose another --output")
        err.print(f"wrote {count(len(subclips), 'subclip')} to {literal(output)}", highlight=False)
    if offline:
        err.print(f"{count(offline, 'clip')} offline: referenced at the last known path (`video-catalog relink` "
                  "after mounting the drive elsewhere)", highlight=False)
