"""`video-catalog segments`, and the segment answers of `search` (`--segment-level`, `--at`) and `similar`
(`--segment-id`): time-coded pieces of clips (transcript lines, scenes, what the offline analyzer saw, and the
ranges a person marked: catalog_cli/commands/manual_segments.py). Only the searches by meaning load the embedding
model.

`segments` is a group (list, add, edit, remove) whose listing stays the default: `segments CLIP --start 2:00`
is `segments list CLIP --start 2:00`, as it was before the group existed."""

from __future__ import annotations

from typing import Annotated

import click
import typer
from typer.core import TyperGroup

from catalog_cli.commands import manual_segments
from catalog_cli.common import catalog_db, fail, handles_errors, one_clip, split_list
from catalog_cli.errors import EXIT_FAILED, EXIT_OK
from catalog_cli.render import err, out
from catalog_cli.render.export import export_rows
from catalog_cli.render.manage import print_json, print_moment, segment_hits_table, segments_table
from catalog_cli.render.text import count, echo, literal

WHERE_KEYS = ("segment_id", "clip_id", "file_name", "path", "segment_type", "start_seconds", "end_seconds",
              "duration_seconds", "text", "keyframe_path")
SEGMENT_KEYS = (*WHERE_KEYS, "note")  # note: a manual segment's (None for the analysis' kinds)
HIT_KEYS = (*WHERE_KEYS, "score", "strength", "similarity", "matched_words", "matched_by", "snippet")
TYPES = Annotated[list[str] | None, typer.Option("--type", help="scene_change, transcript, visual, speaker_change or "
                                                 "manual; repeat or comma-separate for several.")]


class ListByDefault(TyperGroup):
    """A group whose arguments go to `list` unless they start with a subcommand's name: `segments CLIP ...`,
    `segments --duration-min 30` and a bare `segments` list as they did when `segments` was one command. (A clip
    whose name is a subcommand's, e.g. a file called `add`, is listed with `segments list add`.)"""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = ["list", *args]
        return super().parse_args(ctx, args)


segments_app = typer.Typer(
    cls=ListByDefault,
    help="Time-coded segments of clips: list them (`segments CLIP` is `segments list CLIP`), and add, edit or "
         "remove your own (manual) ones.",
)


def _seconds(text: str | None, option: str) -> float | None:
    from catalog_resources.search.segments import parse_time

    return None if text is None else parse_time(text, option)


@segments_app.command("list")
@handles_errors
def segments(
    clip: Annotated[str | None, typer.Argument(help="A clip id, an id prefix, a file path or name, or a partition key; "
                                               "leave out to look across the catalog.")] = None,
    start: Annotated[str | None, typer.Option(help="From this time (00:02:00, 2:00 or 120).")] = None,
    end: Annotated[str | None, typer.Option(help="Up to this time.")] = None,
    inside: Annotated[bool, typer.Option("--inside", help="Only segments wholly inside --start/--end (default: "
                                         "those that overlap it).")] = False,
    types: TYPES = None,
    duration_min: Annotated[float | None, typer.Option("--duration-min", help="At least this many seconds long.",
                                                       min=0)] = None,
    duration_max: Annotated[float | None, typer.Option("--duration-max", help="At most this many seconds long.",
                                                       min=0)] = None,
    limit: Annotated[int, typer.Option(help="At most N segments.", min=1)] = 500,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array with stable keys.")] = False,
) -> None:
    """List a clip's segments in a time range, or segments of a length across the catalog.

    Transcript lines, scene cuts, described scenes and manual segments. Each has an id for `similar --segment-id`
    (and, for a manual one, `segments edit|remove`). `segments CLIP` is short for `segments list CLIP`.

    Examples:
      video-catalog segments 3f9a2c1d
      video-catalog segments 3f9a2c1d --start 00:02:00 --end 00:05:00 --type transcript
      video-catalog segments 3f9a2c1d --type manual
      video-catalog segments --duration-min 30 --duration-max 120 --type scene_change --json
    """
    from catalog_resources.search.segments import check_range, check_types

    chosen_types = check_types(split_list(types))
    begin, finish = _seconds(start, "--start"), _seconds(end, "--end")
    check_range(begin, finish)
    check_range(duration_min, duration_max, "--duration-min", "--duration-max")
    store = catalog_db()[1]
    clip_id = one_clip(store, clip) if clip else None
    rows = store.segment_rows(clip_id, start=begin, end=finish, inside=inside, types=chosen_types,
                              duration_min=duration_min, duration_max=duration_max, limit=limit)
    if as_json:
        print_json([{k: r[k] for k in SEGMENT_KEYS} for r in rows])
    elif not rows:
        out.print("No segments match." if clip_id is None else f"Clip {clip_id} has no segments that match.",
                  highlight=False, markup=False)
    else:
        out.print(segments_table(rows, count(len(rows), "segment") + (f" of {clip_id}" if clip_id else ""),
                                 with_clip=clip_id is None))


segments_app.command("add")(manual_segments.add)
segments_app.command("edit")(manual_segments.edit)
segments_app.command("remove")(manual_segments.remove)


def segment_level_search(store, embedder, text: str, chosen, types: list[str] | None, mode: str, limit: int,
                         fmt: str | None, output) -> None:
    """`search QUERY --segment-level`: each hit one segment."""
    from catalog_resources.search.filters import is_filtered
    from catalog_resources.search.segments import check_types, segment_search

    hits = segment_search(store, embedder, text, chosen, types=check_types(types or []), mode=mode, limit=limit)
    if fmt:
        export_rows([h.model_dump() for h in hits], fmt, output, HIT_KEYS)
    if not hits:
        err.print(literal(f"No segment matches {echo(text)}") + (" with these filters." if is_filtered(chosen) else "."),
                  highlight=False)
    elif not fmt:
        out.print(segment_hits_table([h.model_dump() for h in hits], f"{count(len(hits), 'segment')} for {echo(text)}"))
    raise typer.Exit(EXIT_OK if hits else EXIT_FAILED)


def search_at(store, clip_ref: str, at: str, context: float, as_json: bool) -> None:
    """`search --at 00:05:30 --context-seconds 30 CLIP`: what is said and shown around a moment."""
    from catalog_resources.search.segments import moment

    if not clip_ref.strip():
        fail("--at needs the clip: video-catalog search --at 00:05:30 CLIP")
    clip_id = one_clip(store, clip_ref)
    seconds = _seconds(at, "--at")
    duration = (store.clip_row(clip_id) or {}).get("duration_seconds")
    if duration is not None and seconds > duration + 0.5:
        fail(f"--at {at}: clip {clip_id} is only {duration:.1f} s long")
    found = moment(store, clip_id, seconds, context) | {"file_name": store.clip_row(clip_id)["file_name"]}
    if as_json:
        print_json(found)
    elif not found["items"]:
        out.print(f"Nothing said or shown in {clip_id} around {at} (±{context:g} s).", highlight=False, markup=False)
    else:
        print_moment(found)


def similar_segments(segment_id: int, limit: int, as_json: bool) -> None:
    """`similar --segment-id ID`: segments of other clips nearest to this one."""
    from catalog_cli.commands.search import query_embedder
    from catalog_resources.search.segments import similar_segments as run

    store = catalog_db()[1]
    hits = run(store, query_embedder(), segment_id, limit)
    if as_json:
        print_json([{k: h.model_dump()[k] for k in HIT_KEYS} for h in hits])
    elif not hits:
        err.print(f"No segment of another clip is embedded near segment {segment_id}.", highlight=False)
    else:
        out.print(segment_hits_table([h.model_dump() for h in hits], f"{count(len(hits), 'segment')} like segment "
                                                                      f"{segment_id}"))
    raise typer.Exit(EXIT_OK if hits else EXIT_FAILED)
