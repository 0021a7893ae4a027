"""`video-catalog tag ...`: your own tags on clips, and the review of the tags the analysis gave them (source
`ai`: the analysis' keywords; `visual`: what the offline analyzer saw). Imports no Dagster and no model."""

from __future__ import annotations

from typing import Annotated

import typer

from catalog_cli.common import catalog_db, fail, handles_errors, many_clips
from catalog_cli.errors import EXIT_FAILED
from catalog_cli.render import err, out
from catalog_cli.render.manage import clip_tags_table, print_json, tag_counts_table
from catalog_cli.render.text import count, literal

tag_app = typer.Typer(help="Tags on clips: add, remove, list; accept or reject the analysis' own tags.",
                      no_args_is_help=True)
TAGS = Annotated[str, typer.Argument(help="Tags, comma-separated: \"interview,primary\" (stored lower-case).")]
CLIP_IDS = Annotated[list[str] | None, typer.Option("--clip-id", "--clip-ids", help="Clips, comma-separated or "
                                                    "repeated: ids, id prefixes, paths, file names or partition keys.")]
JSON = Annotated[bool, typer.Option("--json", help="Print JSON with stable keys.")]
REVIEWS = ("accepted", "rejected", "unreviewed")


def _clips(store, clip_ids: list[str] | None) -> list[str]:
    if not clip_ids:
        fail("say which clips: --clip-id ID (repeat it, or comma-separate several)")
    return many_clips(store, clip_ids)


@tag_app.command("add")
@handles_errors
def add(tags: TAGS, clip_ids: CLIP_IDS = None, as_json: JSON = False) -> None:
    """Tag clips (source `user`). A tag the analysis gave the clip becomes yours; a rejected one is taken back.

    Examples:
      video-catalog tag add "interview,primary" --clip-id 3f9a2c1d
      video-catalog tag add broll --clip-id GOPR0042.MP4 --clip-id 7c1e0b2a
    """
    from catalog_resources.store.tags import tag_names

    names = tag_names([tags])
    store = catalog_db()[1]
    result = store.add_user_tags(_clips(store, clip_ids), names)
    if as_json:
        print_json(result)
        return
    err.print(f"added {count(len(result['added']), 'tag')}"
              + (f" ({len(result['already'])} already there)" if result["already"] else ""), highlight=False)


@tag_app.command("remove")
@handles_errors
def remove(tags: TAGS, clip_ids: CLIP_IDS = None, as_json: JSON = False) -> None:
    """Remove tags from clips. Your own tags are deleted; an `ai` or `visual` tag is rejected instead, so the next
    analysis does not bring it back (`tag accept` takes a rejection back).

    Example:
      video-catalog tag remove primary --clip-id 3f9a2c1d
    """
    from catalog_resources.store.tags import tag_names

    names = tag_names([tags])
    store = catalog_db()[1]
    result = store.remove_tags(_clips(store, clip_ids), names)
    if as_json:
        print_json(result)
    else:
        err.print(f"removed {count(len(result['removed']), 'tag')}, rejected {len(result['rejected'])} from the "
                  f"analysis" + (f"; {len(result['absent'])} not on those clips" if result["absent"] else ""),
                  highlight=False)
    if not result["removed"] and not result["rejected"]:
        raise typer.Exit(EXIT_FAILED)


def _review(tags: str, clip_ids: list[str] | None, all_clips: bool, verdict: str, as_json: bool) -> None:
    from catalog_resources.store.tags import tag_names

    names = tag_names([tags])
    if bool(clip_ids) == all_clips:
        fail("say which clips: --clip-id ID (repeatable), or --all-clips for every clip with these tags")
    store = catalog_db()[1]
    chosen = None if all_clips else many_clips(store, clip_ids)
    rows = store.review_tags(chosen, names, verdict)  # type: ignore[arg-type]
    if as_json:
        print_json(rows)
    if not rows:
        where = "any clip" if all_clips else "these clips"
        fail(f"no ai or visual tag {', '.join(names)} on {where} (your own tags need no review; see `video-catalog "
             f"tag list --clip-id ID`)", EXIT_FAILED)
    if not as_json:
        err.print(f"{verdict} {count(len(rows), 'tag')} on {count(len({r['clip_id'] for r in rows}), 'clip')}",
                  highlight=False)


@tag_app.command("accept")
@handles_errors
def accept(tags: TAGS, clip_ids: CLIP_IDS = None,
           all_clips: Annotated[bool, typer.Option("--all-clips", help="Every clip that has these tags.")] = False,
           as_json: JSON = False) -> None:
    """Accept tags the analysis gave (source ai or visual): they stay when the analysis runs again, even if it
    no longer finds them.

    Examples:
      video-catalog tag accept "coast,beach" --clip-id 3f9a2c1d
      video-catalog tag accept dog --all-clips
    """
    _review(tags, clip_ids, all_clips, "accepted", as_json)


@tag_app.command("reject")
@handles_errors
def reject(tags: TAGS, clip_ids: CLIP_IDS = None,
           all_clips: Annotated[bool, typer.Option("--all-clips", help="Every clip that has these tags.")] = False,
           as_json: JSON = False) -> None:
    """Reject tags the analysis gave (source ai or visual): they no longer match `list --tag` or search, and stay
    rejected when the analysis runs again.

    Examples:
      video-catalog tag reject bobsled --clip-id 3f9a2c1d
      video-catalog tag reject "missile" --all-clips
    """
    _review(tags, clip_ids, all_clips, "rejected", as_json)


@tag_app.command("list")
@handles_errors
def list_tags(
    clip_ids: CLIP_IDS = None,
    source: Annotated[str | None, typer.Option(help="Only tags of this source: user, ai, visual.")] = None,
    review: Annotated[str | None, typer.Option(help="Only accepted, rejected or unreviewed tags.")] = None,
    as_json: JSON = False,
) -> None:
    """List tags: with --clip-id each tag of those clips with its source and review, else every tag with how many
    clips carry it.

    Examples:
      video-catalog tag list
      video-catalog tag list --clip-id 3f9a2c1d --json
      video-catalog tag list --source visual --review unreviewed
    """
    if review is not None and review not in REVIEWS:
        fail(f"--review {review!r}: choose one of {', '.join(REVIEWS)}")
    store = catalog_db()[1]
    if clip_ids:
        rows = store.tag_rows(many_clips(store, clip_ids), source, review)
        keys = ("clip_id", "file_name", "tag", "source", "review")
        if as_json:
            print_json([{k: r[k] for k in keys} for r in rows])
        elif rows:
            out.print(clip_tags_table(rows))
        else:
            out.print("No tags on these clips.")
        return
    counts = store.tag_counts(source, review)
    if as_json:
        print_json(counts)
    elif counts:
        out.print(tag_counts_table(counts))
    else:
        out.print("No tags yet. Add some with: video-catalog tag add \"interview,primary\" --clip-id ID", markup=False)
    if source and not as_json and not counts:
        err.print(f"(only source {literal(source)})", highlight=False)
