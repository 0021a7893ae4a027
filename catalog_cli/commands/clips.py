"""Read commands for single clips and lists: `list`, `show`, `open`, `transcript`. None of them imports Dagster."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from catalog_cli.common import catalog_db, cli_settings, fail, handles_errors, one_clip
from catalog_cli.errors import EXIT_FAILED, write_output
from catalog_cli.options import FilterFlags, filter_options
from catalog_cli.render import err, out
from catalog_cli.render.export import LIST_KEYS, export_rows
from catalog_cli.render.tables import clips_table
from catalog_cli.render.text import for_stdout, literal, visible


@handles_errors
@filter_options
def list_clips(
    filters: FilterFlags = FilterFlags(),  # --codec, --resolution, ... --collection: one option per filter (catalog_cli/options.py)
    sort: Annotated[str, typer.Option(help="cataloged, name, duration, size, recorded, resolution, fps or quality.")] = "cataloged",
    limit: Annotated[int | None, typer.Option(help="Show at most N clips.", min=1)] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Only clips none of whose recorded files is there now (a drive not mounted, a folder moved).")] = False,
    user_only: Annotated[bool, typer.Option("--user-only", help="In a shared catalog: only your own clips (an admin "
                                            "otherwise sees every user's). Same as --owner me.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array with stable keys.")] = False,
    export: Annotated[str | None, typer.Option(help="json or csv: machine-readable rows (same keys as --json).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the export to this file.")] = None,
) -> None:
    """List cataloged clips, filtered by technical facts (all filters combine with AND).

    Examples:
      video-catalog list
      video-catalog list --codec hevc --hdr --sort recorded
      video-catalog list --resolution 4k --fps 25 --min-duration 10
      video-catalog list --camera iphone --after 2024-05-01 --json | jq '.[].path'
      video-catalog list --min-quality 70 --exposure-ok --sort quality
      video-catalog list --shot-type close-up
      video-catalog list --codec prores --export csv -o prores.csv
      video-catalog list --offline
    """
    from catalog_resources.models.clips import SORT_KEYS
    from catalog_resources.search.filters import is_filtered

    if sort not in SORT_KEYS:
        fail(f"--sort {sort!r}: choose one of {', '.join(SORT_KEYS)}")
    chosen = filters.clip_filter()
    if user_only:
        chosen = chosen.model_copy(update={"owner": "me"})
    if export not in (None, "json", "csv"):
        fail(f"--export {export!r}: choose json or csv")
    db = catalog_db()[1]
    rows = db.list_clips(None if offline else limit, chosen, sort)
    if offline:  # whether a file is there is a question for the disk, now, not for the catalog
        rows = [row for row in rows if not any(os.path.exists(p) for p in row["paths"])][:limit]
    states = db.clip_states([row["clip_id"] for row in rows]) if rows else {}
    for row in rows:  # complete, in progress, failed (which step, why), incomplete, stale or metadata-only
        row["status"] = states[row["clip_id"]].label if row["clip_id"] in states else row["status"]
    if as_json or export:
        records = [{k: row[k] for k in LIST_KEYS}
                   | {"cataloged_at": row["cataloged_at"].isoformat(),
                      "recorded_at": row["recorded_at"].isoformat() if row["recorded_at"] else None}
                   for row in rows]
        export_rows(records, export or "json", output, (*LIST_KEYS, "cataloged_at", "recorded_at"))
        return
    if not rows:
        out.print("No clips match these filters." if is_filtered(chosen) or offline else
                  "The catalog is empty. Add footage with: video-catalog ingest /path/to/footage")
        return
    out.print(clips_table(rows))


@handles_errors
def show(
    clip: Annotated[str, typer.Argument(help="A clip id, an id prefix (4+ characters), a file path or name, or a partition key from the Dagster UI.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored models as JSON.")] = False,
) -> None:
    """Show everything cataloged about one clip.

    Examples:
      video-catalog show 3f9a2c1d
      video-catalog show ~/Footage/interview.mov --json
    """
    store = catalog_db()[1]
    clip_id = one_clip(store, clip)
    detail = store.clip_detail(clip_id)
    detail["state"] = store.clip_states([clip_id])[clip_id].model_dump()
    detail["people"] = store.clip_people(clip_id)  # face tracks (the faces step), see `video-catalog people`
    for product in ("proxy", "thumbnails"):
        sidecar = cli_settings().media_dir / clip_id / f"{product}.json"
        detail[product] = json.loads(sidecar.read_text()) if sidecar.exists() else None
    if as_json:
        print(json.dumps(detail, indent=2, default=str))
        return
    from catalog_cli.render.clip import render_clip

    render_clip(out, detail)


@handles_errors
def open_clip(
    clip: Annotated[str, typer.Argument(help="A clip id, an id prefix, a file path or name, or a partition key from the Dagster UI.")],
) -> None:
    """Open the clip's contact sheet in the desktop's image viewer (prints the path where there is none).

    Example:
      video-catalog open 3f9a2c1d
    """
    clip_id = one_clip(catalog_db()[1], clip)
    sidecar = cli_settings().media_dir / clip_id / "thumbnails.json"
    if not sidecar.exists():
        fail(f"clip {clip_id} has no thumbnails yet; run: video-catalog ingest <its folder> (step thumbnails)")
    sheet = json.loads(sidecar.read_text()).get("contact_sheet_path")
    viewer = shutil.which("xdg-open") or shutil.which("open")
    if viewer and (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform == "darwin"):
        subprocess.Popen([viewer, sheet], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(for_stdout(sheet))


@handles_errors
def transcript(
    clip: Annotated[str, typer.Argument(help="A clip id, an id prefix (4+ characters), a file path or name, or a partition key from the Dagster UI.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text, srt, vtt or json.")] = "text",
    srt: Annotated[bool, typer.Option("--srt", help="Same as --format srt.")] = False,
    vtt: Annotated[bool, typer.Option("--vtt", help="Same as --format vtt.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Export a clip's transcript with timestamps.

    Examples:
      video-catalog transcript 3f9a2c1d
      video-catalog transcript interview.mov --srt -o interview.srt
      video-catalog transcript 3f9a2c1d --vtt > captions.vtt
    """
    from catalog_resources.models.analysis import ComprehensiveAIAnalysis
    from catalog_resources.analysis.transcript_export import timecode, to_json, to_srt, to_vtt

    fmt = "srt" if srt else "vtt" if vtt else "json" if as_json else fmt.lower()
    if fmt not in ("text", "srt", "vtt", "json"):
        fail(f"--format {fmt!r}: choose text, srt, vtt or json")
    store = catalog_db()[1]
    clip_id = one_clip(store, clip)
    raw = store.analysis_detail(clip_id)
    if raw is None:
        fail(f"clip {clip_id} has no analysis yet; run: video-catalog refresh --missing ai_analysis --clip {clip_id}")
    found = ComprehensiveAIAnalysis.model_validate(raw).transcript
    if found is None:
        fail(f"clip {clip_id} has no audio track, so no transcript", EXIT_FAILED)
    from catalog_resources.speakers.transcript import label_transcript

    found = label_transcript(found, store.clip_speakers(clip_id))  # S1, S2... or their names (the speakers step)
    if fmt == "text":
        text = "\n".join(f"[{timecode(s.start_seconds)} - {timecode(s.end_seconds)}] "
                         f"{visible(s.speaker) + ': ' if s.speaker else ''}{visible(s.text)}" for s in found.segments)
    else:
        text = {"srt": to_srt, "vtt": to_vtt}[fmt](found) if fmt != "json" else to_json(found, clip_id)
    if output is not None:
        write_output(output, text + ("\n" if text and not text.endswith("\n") else ""))
        err.print(f"wrote {literal(output)}", highlight=False)
    elif text:
        print(text)
    if not found.segments:
        err.print(f"clip {literal(clip_id)}: no speech found", highlight=False)
