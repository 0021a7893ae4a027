"""`video-catalog search` and `similar`: find clips by meaning and words. The embedding model is loaded only
when a command needs it (`--mode text` never does)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from catalog_cli.common import catalog_db, cli_settings, fail, handles_errors, one_clip, split_list
from catalog_cli.errors import EXIT_FAILED, EXIT_OK
from catalog_cli.options import FilterFlags, filter_options
from catalog_cli.render import err
from catalog_cli.render.export import EXPORT_KEYS, export_rows
from catalog_cli.render.tables import print_hits
from catalog_cli.render.text import count, echo, literal


def query_embedder():
    """The query embedder, checked now: an unknown model or a missing key is one line before any search runs."""
    from catalog_resources.embeddings.local import EmbedderError
    from catalog_resources.search.session import query_embedder

    settings = cli_settings()
    try:
        return query_embedder(settings)
    except EmbedderError as exc:
        fail(f"{exc} (VIDEO_CATALOG_EMBEDDING_MODEL={settings.embedding_model})")


LOOK_KEYS = (*EXPORT_KEYS, "query_start_seconds", "query_end_seconds")


def _no_looks_yet(store, clip_id: str | None = None) -> None:
    """One line when the scenes have no look vectors (a catalog analysed before look-alike search existed)."""
    from catalog_resources.analysis.local.visual.look import LOOK_MODEL

    if store.scene_look_count(clip_id, LOOK_MODEL) == 0:
        whose = f"clip {clip_id} has" if clip_id else "no clip has"
        fail(f"{whose} no scene look vectors ({LOOK_MODEL}) yet; run: video-catalog refresh --stale")


def _image_search(image: Path, text: str, chosen, limit: int, fmt: str | None, output: Path | None) -> None:
    """`search --image`: clips by their scene that looks most like the image, with its time range."""
    from catalog_resources.analysis.local.visual.classifier import FrameClassifier
    from catalog_resources.analysis.local.visual.look import image_look
    from catalog_resources.search.filters import is_filtered
    from catalog_resources.search.looks import image_search

    if text.strip():
        fail(f"--image searches by the picture alone; drop the words {text.strip()!r} (inline filters are fine)")
    vector = image_look(image, FrameClassifier(cli_settings().models_dir))  # unreadable: one line, exit 2
    store = catalog_db()[1]
    _no_looks_yet(store)
    hits = image_search(store, vector, chosen, limit)
    if fmt:
        export_rows([h.model_dump() for h in hits], fmt, output, EXPORT_KEYS)
    if not hits:
        err.print(literal(f"No scene looks like {image}") + (" with these filters." if is_filtered(chosen) else "."),
                  highlight=False)
    elif not fmt:
        print_hits(hits, f"{count(len(hits), 'clip')} with a scene like {image}")
    raise typer.Exit(EXIT_OK if hits else EXIT_FAILED)


def _person_search(chosen, limit: int, fmt: str | None, output: Path | None) -> None:
    """`search --person anna` or `--speaker anna` without words: that person's clips, most time on screen (or
    speaking) first, with their times. --speaker wins when both are given (its turns are what is asked for)."""
    from catalog_resources.people.search import person_hits

    kind = "speaker" if chosen.speaker else "person"
    who = chosen.speaker or chosen.person
    hits = person_hits(catalog_db()[1], chosen, limit, kind)
    if fmt:
        export_rows([h.model_dump() for h in hits], fmt, output, EXPORT_KEYS)
    if not hits:
        doing = "has a person speaking who matches" if kind == "speaker" else "shows a person matching"
        err.print(literal(f"No clip {doing} {echo(who)}."), highlight=False)
    elif not fmt:
        print_hits(hits, f"{count(len(hits), 'clip')} with {echo(who)}{' speaking' if kind == 'speaker' else ''}")
    raise typer.Exit(EXIT_OK if hits else EXIT_FAILED)


@handles_errors
@filter_options
def search(
    query: Annotated[str, typer.Argument(help="What you are looking for, in words; inline filters like codec:prores fps:>30 shot:close-up work too.")] = "",
    image: Annotated[Path | None, typer.Option("--image", help="Find scenes that look like this picture (JPEG, PNG...) instead of words.")] = None,
    mode: Annotated[str, typer.Option(help="hybrid (default), semantic or text.")] = "hybrid",
    limit: Annotated[int, typer.Option(help="At most N clips.", min=1)] = 10,
    filters: FilterFlags = FilterFlags(),  # --codec, --resolution, ... --collection, as in `list`
    as_json: Annotated[bool, typer.Option("--json", help="Same as --export json.")] = False,
    export: Annotated[str | None, typer.Option(help="json or csv: machine-readable results.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the export to this file.")] = None,
    segment_level: Annotated[bool, typer.Option("--segment-level", help="Each hit is one segment (a transcript line, "
                                                "a scene), not a clip.")] = False,
    types: Annotated[list[str] | None, typer.Option("--type", help="--segment-level: only scene_change, transcript, "
                                                    "visual, speaker_change or manual segments (repeat or comma-separate).")] = None,
    at: Annotated[str | None, typer.Option("--at", help="What is said and shown around this time (00:05:30) of the "
                                           "clip given in place of the query.")] = None,
    context_seconds: Annotated[float, typer.Option("--context-seconds", help="--at: seconds before and after.",
                                                   min=0)] = 30.0,
) -> None:
    """Find clips by meaning and by words, with timestamps for the moment that matched.

    Hybrid ranking fuses vector similarity (clip and segment embeddings) with full-text search over what
    the clip says and shows. Filters are the same as `list` and combine with AND.

    Examples:
      video-catalog search "interview about pricing on a rooftop"
      video-catalog search "solar panels" --mode text --codec h264
      video-catalog search "crowd cheering at night" --min-height 1080 --export csv -o hits.csv
      video-catalog search --image frame.jpg --limit 5
      video-catalog search --person "Anna"              # every clip Anna is in, with her times on screen
      video-catalog search --speaker "Anna"             # every clip Anna speaks in, with her turns
      video-catalog search "harbour speaker:anna"       # what Anna says about the harbour
      video-catalog search "discussion about pricing" --segment-level --type transcript
      video-catalog search --at 00:05:30 --context-seconds 30 3f9a2c1d

    --segment-level ranks segments instead of clips (same filters, cut-off and strength scale). --at answers
    with the clip's transcript lines, scenes, sound events and on-screen text around that moment.

    Each hit shows its match strength (0-100 %: 50 % is the model's cut-off, 100 % where nine in ten correct
    matches are, raised when the query's words are in the clip) and why: the transcript line, scene, on-screen
    text, visual label or tag that matched, with its time range, and the words found. --json adds strength,
    similarity, matched_words, why and reasons to the existing fields; score stays the fused rank.

    --image finds the clips whose scenes look most like a picture (same classifier as the scenes' look vectors),
    with the scene's time range; filters and --limit apply, words do not.

    Exit codes: 0 hits found, 1 no good matches (--json prints []), 2 usage or environment error.
    """
    from catalog_resources.search.ranking import search as run_search
    from catalog_resources.search.filters import is_filtered
    from catalog_resources.search.session import MODES, split_query, usable_embedder

    if mode not in MODES:
        fail(f"--mode {mode!r}: choose hybrid, semantic or text")
    fmt = "json" if as_json else export
    if fmt not in (None, "json", "csv"):
        fail(f"--export {export!r}: choose json or csv")
    if at is not None:  # the query is the clip
        from catalog_cli.commands.segments import search_at

        if fmt == "csv" or output is not None:
            fail("--at prints a table, or JSON with --json; it has no CSV or -o")

        search_at(catalog_db()[1], query, at, context_seconds, fmt == "json")
        return
    text, chosen = split_query(query, filters.values)  # a flag wins over the same filter written in the query
    if image is not None:
        _image_search(image, text, chosen, limit, fmt, output)
    if not text.strip() and (chosen.person or chosen.speaker):  # a person alone: their clips and times
        _person_search(chosen, limit, fmt, output)
    if not text.strip():
        fail("the query has no words to search for (only filters); use `video-catalog list` with those filters")
    store = catalog_db()[1]
    embedder = usable_embedder(store, query_embedder() if mode != "text" else None, mode)  # hybrid: words alone until embedded
    if segment_level:
        from catalog_cli.commands.segments import segment_level_search

        segment_level_search(store, embedder, text, chosen, split_list(types), mode, limit, fmt, output)
    result = run_search(store, embedder, text, chosen, mode=mode, limit=limit)
    from catalog_resources.people.search import with_times

    if chosen.speaker:
        with_times(store, result.hits, chosen.speaker, "speaker")
    if chosen.person:
        with_times(store, result.hits, chosen.person, "person")
    if fmt:  # no good matches: an empty array (or a header-only CSV), the line on stderr, exit 1
        export_rows([h.model_dump() for h in result.hits], fmt, output, EXPORT_KEYS)
    if not result.hits:
        err.print(literal(f"No good matches for {echo(text)}") + (" with these filters." if is_filtered(chosen) else "."),
                  highlight=False)
    elif not fmt:
        print_hits(result.hits, f"{count(len(result.hits), 'clip')} for {echo(text)} ({result.mode})",
                    frozenset(re.findall(r"\w+", text.lower())))
    raise typer.Exit(EXIT_OK if result.hits else EXIT_FAILED)


@handles_errors
def similar(
    clip: Annotated[str | None, typer.Argument(help="A clip id, an id prefix (4+ characters), a file path or name, or a partition key from the Dagster UI.")] = None,
    limit: Annotated[int, typer.Option(help="At most N clips.", min=1)] = 10,
    segment_id: Annotated[int | None, typer.Option("--segment-id", help="Segments of other clips like this segment "
                                                   "(ids from `video-catalog segments CLIP`).")] = None,
    by: Annotated[str, typer.Option("--by", help="meaning (default: what the clip says and shows, in words) or look (what its shots look like).")] = "meaning",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array with stable keys.")] = False,
) -> None:
    """Clips nearest to this one by meaning (its full-clip embedding) or by look (its scenes' pictures), itself
    excluded.

    --by look pairs each of this clip's scenes with the nearest scenes of other clips and ranks clips by their
    best pair: the hit's time range is its scene, query_start/end_seconds (--json) this clip's, with a match
    strength in percent. Look-alikes below the cut-off are not shown (exit 1 when none).

    Examples:
      video-catalog similar 3f9a2c1d
      video-catalog similar interview.mov --limit 5 --json
      video-catalog similar 3f9a2c1d --by look
      video-catalog similar --segment-id 1234 --limit 10
    """
    from catalog_resources.search.ranking import similar as run_similar

    if by not in ("meaning", "look"):
        fail(f"--by {by!r}: choose meaning or look")
    if (clip is None) == (segment_id is None):
        fail("say what to compare: a clip, or --segment-id ID (one of them)")
    if segment_id is not None:
        from catalog_cli.commands.segments import similar_segments

        similar_segments(segment_id, limit, as_json)
    assert clip is not None
    store = catalog_db()[1]
    clip_id = one_clip(store, clip)
    if by == "look":
        _similar_looks(store, clip_id, limit, as_json)
    embedder = query_embedder()
    hits = run_similar(store, embedder, clip_id, limit)
    if not hits and store.clip_vector(clip_id, embedder.model)[0] is None:
        fail(f"clip {clip_id} has no {embedder.model} embedding yet; run: video-catalog refresh --missing embeddings")
    if as_json:
        export_rows([h.model_dump() for h in hits], "json", None, EXPORT_KEYS)
        return
    print_hits(hits, f"{count(len(hits), 'clip')} like {clip_id}")


def _similar_looks(store, clip_id: str, limit: int, as_json: bool) -> None:
    from catalog_resources.search.looks import similar_looks

    _no_looks_yet(store, clip_id)
    hits = similar_looks(store, clip_id, limit)
    if as_json:
        export_rows([h.model_dump() for h in hits], "json", None, LOOK_KEYS)
    if not hits:
        err.print(f"No other clip has a scene that looks like clip {clip_id}'s.", highlight=False)
    elif not as_json:
        print_hits(hits, f"{count(len(hits), 'clip')} that look like {clip_id}")
    raise typer.Exit(EXIT_OK if hits else EXIT_FAILED)
