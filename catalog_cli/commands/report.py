"""`video-catalog report`: what the catalog (or a collection, or any `list` filter) holds, and what it costs on
disk. Imports no Dagster and no model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from catalog_cli.common import catalog_db, cli_settings, fail, handles_errors
from catalog_cli.options import FilterFlags, filter_options
from catalog_cli.render.export import export_rows
from catalog_cli.render.manage import print_json
from catalog_cli.render.reports import STORAGE_COLUMNS, print_content_summary, print_storage

report_app = typer.Typer(help="Reports: content summary and storage usage.", no_args_is_help=True)


@report_app.command("content-summary")
@handles_errors
@filter_options
def content_summary(
    filters: FilterFlags = FilterFlags(),  # --collection NAME, or any `list` filter
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object with stable keys.")] = False,
) -> None:
    """Summarise a set of clips: count, duration, codecs, resolutions, cameras, recording dates, languages, top
    keywords, people, entities and visual labels, shot types, quality bands, exposure and blur warnings.

    Examples:
      video-catalog report content-summary
      video-catalog report content-summary --collection "Project Alpha"
      video-catalog report content-summary --camera sony --after 2024-05-01 --json
    """
    from catalog_resources.reports import content_summary as summarise
    from catalog_resources.search.filters import is_filtered

    chosen = filters.clip_filter()
    store = catalog_db()[1]
    if chosen.collection:
        store.collection_summaries(chosen.collection)  # an unknown collection is one line, not an empty report
    summary = summarise(store, chosen)
    if as_json:
        print_json(summary)
        return
    title = f"Collection {chosen.collection}" if chosen.collection else "Filtered clips" if is_filtered(chosen) else "Catalog"
    print_content_summary(summary, title)


@report_app.command("storage-usage")
@handles_errors
def storage_usage(
    by: Annotated[str | None, typer.Option("--by", help="Group by folder, camera, codec or collection.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, json or csv.")] = "text",
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write json or csv to this file.")] = None,
) -> None:
    """Bytes of the originals (counted once per content; extra paths as copies; online and offline), the media
    store's proxies, audio, analysis frames, thumbnails and sidecars, and the database.

    Examples:
      video-catalog report storage-usage
      video-catalog report storage-usage --by camera --format csv -o usage.csv
      video-catalog report storage-usage --by collection --json
    """
    from catalog_resources.reports import storage_usage as usage

    fmt = "json" if as_json else fmt.lower()
    if fmt not in ("text", "json", "csv"):
        fail(f"--format {fmt!r}: choose text, json or csv")
    if output is not None and fmt == "text":
        fail("--output needs --format json or csv")
    report = usage(catalog_db()[1], cli_settings().media_dir, by)
    if fmt == "text":
        print_storage(report)
    elif fmt == "json" and output is None:
        print_json(report)
    elif fmt == "json":
        from catalog_cli.errors import write_output

        write_output(output, json.dumps(report, indent=2, default=str) + "\n")
    else:  # one row per group and a total row
        rows = [*report["groups"], {"group": "total", **report["totals"]}]
        export_rows(rows, "csv", output, ("group", *STORAGE_COLUMNS))
