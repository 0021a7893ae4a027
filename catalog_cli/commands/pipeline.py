"""Pipeline commands: `refresh` (redo stale or missing steps through Dagster runs) and `steps` (what the pipeline
makes). Both import the pipeline's code inside their bodies, never at import time."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from catalog_cli.common import catalog_app, fail, handles_errors, one_clip, split_list
from catalog_cli.errors import EXIT_FAILED, EXIT_OK
from catalog_cli.render import err, out
from catalog_cli.render.tables import refresh_plan_table, steps_table
from catalog_cli.render.text import literal


@handles_errors
def refresh(
    stale: Annotated[bool, typer.Option("--stale", help="Redo assets whose code version (e.g. analyzer, model, prompt) changed, and what depends on them.")] = False,
    missing: Annotated[list[str] | None, typer.Option("--missing", help="Also make these steps for clips that never had them (repeatable or comma separated), e.g. ai_analysis.")] = None,
    clip: Annotated[list[str] | None, typer.Option("--clip", help="Only these clips (id, prefix, path or Dagster partition key; repeatable).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the (asset, clip) pairs and change nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan (and results) as JSON.")] = False,
) -> None:
    """Bring clips up to date after a prompt, model or analyzer change, through Dagster runs.

    Examples:
      video-catalog refresh --stale --dry-run
      video-catalog refresh --stale
      video-catalog refresh --missing ai_analysis          # clips cataloged before the step existed or while it was off
      VIDEO_CATALOG_ANALYSIS_LANGUAGE=de video-catalog refresh --stale

    Exit codes: 0 up to date, 1 some refreshes failed, 2 usage or environment error.
    """
    from catalog_assets.steps import pipeline_steps

    known = [s.name for s in pipeline_steps()]
    missing_steps = split_list(missing)
    unknown = [m for m in missing_steps if m not in known]
    if unknown:
        fail(f"--missing {unknown[0]!r}: no such step; choose from {', '.join(known)}")
    if not stale and not missing_steps:
        fail("nothing to do: give --stale and/or --missing STEP (see `video-catalog refresh --help`)")
    catalog = catalog_app()
    clip_ids = [one_clip(catalog.store, ref) for ref in clip] if clip else None
    plan = catalog.plan_refresh(stale=stale, missing_steps=missing_steps, clip_ids=clip_ids)
    clips = sorted({p.clip_id for p in plan.pairs})
    if dry_run or not plan.pairs:
        if as_json:
            print(json.dumps({"pairs": [p.model_dump() for p in plan.pairs], "clips": len(clips),
                              "plan_seconds": plan.seconds, "dry_run": dry_run}, indent=2))
            return
        if not plan.pairs:
            out.print("Everything is up to date.")
            return
        out.print(refresh_plan_table(plan.pairs, clips))
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=err, disable=as_json or not err.is_terminal, transient=True)
    with progress:
        task = progress.add_task("Refreshing", total=len(clips))
        results = catalog.refresh(plan, on_progress=lambda n, msg: progress.advance(task, n), log_level="CRITICAL")
    failed = {c: r.error for c, r in results.items() if not r.success}
    if as_json:
        print(json.dumps({"pairs": [p.model_dump() for p in plan.pairs], "clips": len(clips),
                          "refreshed": sorted(c for c in results if c not in failed), "failed": failed}, indent=2))
    else:
        out.print(f"Refreshed {len(plan.pairs) - sum(1 for p in plan.pairs if p.clip_id in failed)} (asset, clip) pairs "
                  f"over {len(clips) - len(failed)} clips.")
        for clip_id, error in failed.items():
            err.print(f"[red]failed[/] {literal(clip_id)}: {literal(error)}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


@handles_errors
def steps(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the pipeline's steps (Dagster assets) with descriptions and whether they run by default."""
    from catalog_assets.steps import pipeline_steps

    found = pipeline_steps()
    if as_json:
        print(json.dumps([s.model_dump() for s in found], indent=2))
        return
    out.print(steps_table(found))
