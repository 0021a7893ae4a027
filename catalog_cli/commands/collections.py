"""`video-catalog collection ...`: named sets of clips (a project, a client, a selects reel). Only `add
--from-search` loads the embedding model; the rest import no Dagster and no model."""

from __future__ import annotations

from typing import Annotated

import typer

from catalog_cli.common import catalog_db, fail, handles_errors, many_clips
from catalog_cli.errors import EXIT_FAILED
from catalog_cli.options import FilterFlags, filter_options
from catalog_cli.render import err, out
from catalog_cli.render.export import LIST_KEYS
from catalog_cli.render.manage import collections_table, print_json
from catalog_cli.render.tables import clips_table
from catalog_cli.render.text import count, literal

collection_app = typer.Typer(help="Named sets of clips: create, add, remove, show, rename, delete.",
                             no_args_is_help=True)
NAME = Annotated[str, typer.Argument(help="The collection's name (case does not matter when you refer to it).")]
CLIP_IDS = Annotated[list[str] | None, typer.Option("--clip-ids", "--clip-id", help="Clips, comma-separated or repeated: "
                                                    "ids, id prefixes, paths, file names or partition keys.")]
JSON = Annotated[bool, typer.Option("--json", help="Print JSON with stable keys.")]


def _summary_json(row: dict) -> dict:
    return {k: row[k] for k in ("name", "description", "clip_count", "duration_seconds", "size_bytes")} | {
        "created_at": row["created_at"].isoformat(), "updated_at": row["updated_at"].isoformat()}


@collection_app.command("create")
@handles_errors
def create(name: NAME,
           description: Annotated[str | None, typer.Option(help="A line about what it is for.")] = None,
           as_json: JSON = False) -> None:
    """Create an empty collection.

    Examples:
      video-catalog collection create "Project Alpha"
      video-catalog collection create selects --description "best takes, day 2"
    """
    row = catalog_db()[1].create_collection(name, description)
    if as_json:
        print_json({"name": row["name"], "description": row["description"], "created_at": row["created_at"].isoformat()})
    else:
        err.print(f"created collection {literal(row['name'])}", highlight=False)


@collection_app.command("list")
@handles_errors
def list_collections(as_json: JSON = False) -> None:
    """List the collections with their clip counts, total duration and size.

    Examples:
      video-catalog collection list
      video-catalog collection list --json
    """
    rows = catalog_db()[1].collection_summaries()
    if as_json:
        print_json([_summary_json(r) for r in rows])
    elif not rows:
        out.print('No collections yet. Make one with: video-catalog collection create "Project Alpha"')
    else:
        out.print(collections_table(rows))


@collection_app.command("show")
@handles_errors
def show(name: NAME, as_json: JSON = False) -> None:
    """Show a collection and its clips (the same rows as `list --collection NAME`).

    Examples:
      video-catalog collection show "Project Alpha"
      video-catalog collection show selects --json | jq '.clips[].path'
    """
    from catalog_resources.models.clips import ClipFilter

    store = catalog_db()[1]
    (summary,) = store.collection_summaries(name)
    rows = store.list_clips(None, ClipFilter(collection=summary["name"]), "name")
    if as_json:
        print_json(_summary_json(summary) | {"clips": [{k: r[k] for k in LIST_KEYS} for r in rows]})
        return
    out.print(collections_table([summary]))
    if rows:
        out.print(clips_table(rows))
    else:
        out.print(f"No clips in it yet. Add some with: video-catalog collection add {summary['name']!r} --clip-ids ID1,ID2",
                  highlight=False, markup=False)


@collection_app.command("rename")
@handles_errors
def rename(name: NAME, new_name: Annotated[str, typer.Argument(help="Its new name.")], as_json: JSON = False) -> None:
    """Rename a collection; its clips stay in it.

    Example:
      video-catalog collection rename "Project Alpha" "Alpha (final)"
    """
    row = catalog_db()[1].rename_collection(name, new_name)
    if as_json:
        print_json({"old_name": row["old_name"], "name": row["name"]})
    else:
        err.print(f"renamed collection {literal(row['old_name'])} to {literal(row['name'])}", highlight=False)


@collection_app.command("delete")
@handles_errors
def delete(name: NAME, as_json: JSON = False) -> None:
    """Delete a collection. Its clips stay cataloged (and in their other collections).

    Example:
      video-catalog collection delete "old selects"
    """
    row = catalog_db()[1].delete_collection(name)
    if as_json:
        print_json({"name": row["name"], "clip_count": row["clip_count"]})
    else:
        err.print(f"deleted collection {literal(row['name'])} ({count(row['clip_count'], 'clip')} left cataloged)",
                  highlight=False)


@collection_app.command("add")
@handles_errors
@filter_options
def add(
    name: NAME,
    clip_ids: CLIP_IDS = None,
    from_search: Annotated[str | None, typer.Option("--from-search", help="Add the clips this search finds "
                                                    "(words and inline filters, as `search` takes them).")] = None,
    from_list: Annotated[bool, typer.Option("--from-list", help="Add every clip `list` shows with the filter options "
                                            "given here.")] = False,
    limit: Annotated[int, typer.Option(help="--from-search: at most N clips.", min=1)] = 50,
    filters: FilterFlags = FilterFlags(),  # --codec, --resolution, ...: with --from-list or --from-search
    as_json: JSON = False,
) -> None:
    """Add clips to a collection: named ones, the hits of a search, or every clip a filtered list shows.

    Examples:
      video-catalog collection add "Project Alpha" --clip-ids 3f9a2c1d,GOPR0042.MP4
      video-catalog collection add "Project Alpha" --from-search "interview about pricing codec:prores"
      video-catalog collection add "4k drone" --from-list --resolution 4k --camera dji
    """
    from catalog_resources.search.filters import is_filtered

    if sum((bool(clip_ids), from_search is not None, from_list)) != 1:
        fail("say which clips: --clip-ids ID1,ID2, --from-search \"query\" or --from-list with filters (one of them)")
    store = catalog_db()[1]
    store.collection_summaries(name)  # an unknown collection is one line before any search runs
    if clip_ids:
        chosen = many_clips(store, clip_ids)
    elif from_list:
        chosen_filter = filters.clip_filter()
        if not is_filtered(chosen_filter):
            fail("--from-list needs at least one filter (e.g. --codec prores); to add every clip, say so with "
                 "--min-duration 0")
        chosen = [r["clip_id"] for r in store.list_clips(None, chosen_filter, "name")]
    else:
        chosen = _search_hits(store, from_search or "", filters, limit)
    if not chosen:
        err.print("No clips matched; nothing added.", highlight=False)
        raise typer.Exit(EXIT_FAILED)
    result = store.add_to_collection(name, chosen)
    if as_json:
        print_json(result)
        return
    err.print(f"added {count(len(result['added']), 'clip')} to {literal(result['collection'])}"
              + (f" ({len(result['already'])} already in it)" if result["already"] else ""), highlight=False)


def _search_hits(store, query: str, filters: FilterFlags, limit: int) -> list[str]:
    """The clip ids `search QUERY` would print, by the same search (hybrid, or words alone until clips are embedded)."""
    from catalog_cli.commands.search import query_embedder
    from catalog_resources.search.query import parse_inline_filters
    from catalog_resources.search.ranking import search as run_search

    text, inline = parse_inline_filters(query)
    chosen = filters.clip_filter(inline)
    if not text.strip():
        fail("--from-search has no words to search for (only filters); use --from-list with those filters")
    embedder = query_embedder()
    if store.embedded_clip_count(embedder.model) == 0:
        embedder = None
    return [hit.clip_id for hit in run_search(store, embedder, text, chosen, limit=limit).hits]


@collection_app.command("remove")
@handles_errors
def remove(name: NAME, clip_ids: CLIP_IDS = None, as_json: JSON = False) -> None:
    """Take clips out of a collection (they stay cataloged).

    Example:
      video-catalog collection remove "Project Alpha" --clip-ids 3f9a2c1d
    """
    if not clip_ids:
        fail("say which clips: --clip-ids ID1,ID2")
    store = catalog_db()[1]
    store.collection_summaries(name)
    result = store.remove_from_collection(name, many_clips(store, clip_ids))
    if as_json:
        print_json(result)
        return
    err.print(f"removed {count(len(result['removed']), 'clip')} from {literal(result['collection'])}"
              + (f" ({len(result['absent'])} were not in it)" if result["absent"] else ""), highlight=False)
