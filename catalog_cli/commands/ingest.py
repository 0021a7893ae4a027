"""`video-catalog ingest`: scan folders, catalog new clips through Dagster runs, print the summary."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

import typer

from catalog_cli.common import catalog_app, catalog_db, cli_settings, fail, handles_errors, split_list
from catalog_cli.errors import EXIT_FAILED, EXIT_OK
from catalog_cli.render import err
from catalog_cli.render.tables import print_summary
from catalog_cli.render.text import literal


@handles_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Folders or files to catalog (recursively).", show_default=False)],
    limit: Annotated[int | None, typer.Option(help="Catalog at most N new clips this time.", min=1)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Scan and classify only; write nothing.")] = False,
    enable: Annotated[list[str] | None, typer.Option(help="Steps to turn on (comma separated).")] = None,
    disable: Annotated[list[str] | None, typer.Option(help="Steps to turn off (comma separated).")] = None,
    config: Annotated[Path | None, typer.Option(help='Pipeline config JSON: {"steps": {"name": true}}.')] = None,
    compression_fps: Annotated[float | None, typer.Option(help="Proxy frame rate for this run (default: the proxy_fps setting, 5).", min=0.1)] = None,
    compression_bitrate: Annotated[str | None, typer.Option(help="Proxy maximum bitrate for this run, e.g. 2M (default: the proxy_max_bitrate setting, 1000k).")] = None,
    analyzer: Annotated[str | None, typer.Option(help="ai_analysis backend: local (offline, default), gemini or openai. Same as VIDEO_CATALOG_ANALYZER.")] = None,
    max_cost: Annotated[float | None, typer.Option(help="With a paid analyzer: stop before starting if the estimated cost in USD is above this.", min=0)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON for scripts.")] = False,
) -> None:
    """Scan PATHS, register each new clip as a Dagster partition and materialize its assets.

    Originals are only read, never written. Runs go through the Dagster instance, so they show up in
    `video-catalog ui` with lineage.

    Examples:
      video-catalog ingest ~/Footage
      video-catalog ingest /mnt/card1 /mnt/card2 --limit 5 --json
      video-catalog ingest ./shoot --dry-run
      video-catalog ingest ./shoot --disable catalog_record
      video-catalog ingest ./shoot --compression-fps 2 --compression-bitrate 600k
      video-catalog ingest ./shoot --disable ai_analysis     # technical catalog only
      GEMINI_API_KEY=... video-catalog ingest ./shoot --analyzer gemini --max-cost 2.50

    Exit codes: 0 all cataloged, 1 some files failed, 2 usage or environment error.
    """
    if analyzer is not None:  # a setting like any other, so the code version (and staleness) follows it
        os.environ["VIDEO_CATALOG_ANALYZER"] = analyzer
    proxy_config: dict[str, object] = {}
    if compression_fps is not None:
        proxy_config["fps"] = compression_fps
    if compression_bitrate is not None:
        if not re.fullmatch(r"\d+(\.\d+)?[kKmM]?", compression_bitrate):
            fail(f"--compression-bitrate {compression_bitrate!r}: expected a rate like 1000k or 2M")
        proxy_config["max_bitrate"] = compression_bitrate
    from catalog_cli.errors import check_home_writable

    check_home_writable(cli_settings().home)  # an unwritable home is one line now, not a failure in every clip
    # the default pipeline: a folder already cataloged may be answered from the catalog, without Dagster
    plain = not (enable or disable or config or dry_run or analyzer or proxy_config)
    steps = None if plain else _selected_steps(enable, disable, config)
    missing = [p for p in paths if not p.exists()]
    if missing and len(missing) == len(paths):
        fail(f"{missing[0]}: no such file or folder")
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    quiet = as_json or not err.is_terminal
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, disable=quiet, transient=True,
    )
    with progress:
        scan_task = progress.add_task("Scanning", total=None)
        report, summary = None, None
        if plain:
            from catalog_assets.settled_ingest import scan_then_settle

            _endpoint, db, _applied = catalog_db()
            report, summary = scan_then_settle(db, paths, cli_settings(), on_scan=lambda f: progress.advance(scan_task))
        if summary is None:
            steps = steps or _selected_steps(enable, disable, config)
            catalog = catalog_app()
            summary = _run(catalog, progress, scan_task, paths, steps, report=report, limit=limit, dry_run=dry_run,
                           proxy_config=proxy_config, max_cost=max_cost)
    if as_json:
        print(summary.model_dump_json(indent=2))
    else:
        print_summary(summary, dry_run)
    raise typer.Exit(EXIT_FAILED if summary.failed else EXIT_OK)


def _selected_steps(enable: list[str] | None, disable: list[str] | None, config: Path | None) -> list[str]:
    from catalog_assets.steps import select_steps

    return select_steps(split_list(enable), split_list(disable), config)


def _run(catalog, progress, scan_task, paths: list[Path], steps: list[str], *, report, limit: int | None,
         dry_run: bool, proxy_config: dict[str, object], max_cost: float | None):
    """The Dagster path: the clips' runs, with the catalog's progress and the paid analyzer's estimate shown."""
    from catalog_resources.progress_bus import subscribe

    clip_task = progress.add_task("Cataloging", total=None, visible=False)
    step_task = progress.add_task("", total=100, visible=False)  # the clip being decoded, in % (ffmpeg's progress)
    unsubscribe = subscribe(lambda e: progress.update(
        step_task, completed=round(e.fraction * 100), visible=e.fraction < 1.0, description=literal(f"  {e.step}: {e.label}")))
    try:
        return catalog.ingest(
            paths,
            steps=steps,
            limit=limit,
            dry_run=dry_run,
            report=report,
            on_scan=lambda f: progress.advance(scan_task),
            on_plan=lambda n: progress.update(clip_task, total=n, visible=True),
            on_progress=lambda n, msg: progress.advance(clip_task, n),
            log_level="CRITICAL",  # the summary names each failure in one line; details stay in the run logs
            asset_config={"proxy": proxy_config} if proxy_config else None,
            max_cost=max_cost,
            on_estimate=lambda e: err.print(
                f"analysis with {e['model']}: {int(e['clips'])} clips, {e['footage_seconds'] / 60:.1f} min of footage, "
                f"~{int(e['tokens']):,} tokens, " + (f"estimated ${e['usd']:.2f}" if e["priced"] else "no price known"),
                highlight=False),
        )
    finally:
        unsubscribe()
