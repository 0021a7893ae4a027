"""`video-catalog`: the command line. Thin: it parses, shows progress, and calls the layers below."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from catalog_cli.errors import write_output
from catalog_cli.text import LiteralTable, echo, for_stdout, literal, visible
from catalog_resources.settings import CatalogSettings, load_settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

app = typer.Typer(
    name="video-catalog",
    help="Catalog video footage without touching the originals: fingerprints, metadata, search. "
    "Data lives in VIDEO_CATALOG_HOME (default ~/.video-catalog).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Manage the catalog database (embedded PostgreSQL + pgvector unless VIDEO_CATALOG_DATABASE_URL is set).", no_args_is_help=True)
app.add_typer(db_app, name="db")

out = Console(width=None if sys.stdout.isatty() else 200, emoji=False)  # `:abc:` in a folder name is text
err = Console(stderr=True, emoji=False, soft_wrap=True)  # a message is one line; the terminal wraps it


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    err.print(f"[bold red]error:[/] {literal(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def handles_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Environment problems (database lost or refused, disk full, permission denied, bad input) become one line
    naming the fix and exit code 2, never a traceback; the traceback goes to <home>/logs/errors.log. A defect in
    the code is one line too, naming that log (VIDEO_CATALOG_DEBUG=1 shows the traceback instead)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import click

        from catalog_cli.errors import describe, log_details, route_library_logs, unexpected

        route_library_logs()
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise  # typer's and click's own ways out: their message and exit code are meant
        except Exception as exc:
            fault = describe(exc)
            log = log_details(exc) if fault is None or fault.log else None
            if fault is not None:
                _fail(fault.message, fault.code)
            if os.environ.get("VIDEO_CATALOG_DEBUG"):
                raise
            _fail(unexpected(exc, log), EXIT_FAILED)

    return wrapper


def _settings() -> CatalogSettings:
    try:
        return load_settings()
    except ValidationError as exc:
        problems = "; ".join(f"VIDEO_CATALOG_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        _fail(f"bad setting: {problems}")
        raise


def _catalog_db():
    """The catalog for read commands (list, show, db): started and migrated, without importing Dagster."""
    settings = _settings()
    from catalog_resources.catalog_store import CatalogDB
    from catalog_resources.database import resolve_database

    endpoint = resolve_database(settings, start=True)
    db = CatalogDB(endpoint.catalog_url)
    applied = db.migrate()
    return endpoint, db, applied


def _app():
    settings = _settings()  # first: a bad setting is a one-line error, not a traceback from an import
    from catalog_cli.errors import check_home_writable

    check_home_writable(settings.home)  # an unwritable home is one line now, not a failure in every clip
    from catalog_assets.catalog_app import CatalogApp

    return CatalogApp(settings)


def _split(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def _human_size(size: float | None) -> str:
    if size is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return "-"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    total = int(round(seconds))
    return f"{total // 3600:d}:{total % 3600 // 60:02d}:{total % 60:02d}"


@app.command()
@handles_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Folders or files to catalog (recursively).", show_default=False)],
    limit: Annotated[int | None, typer.Option(help="Catalog at most N new clips this time.", min=1)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Scan and classify only; write nothing.")] = False,
    enable: Annotated[list[str] | None, typer.Option(help="Steps to turn on (comma separated).")] = None,
    disable: Annotated[list[str] | None, typer.Option(help="Steps to turn off (comma separated).")] = None,
    config: Annotated[Path | None, typer.Option(help='Pipeline config JSON: {"steps": {"name": true}}.')] = None,
    compression_fps: Annotated[float | None, typer.Option(help="Proxy frame rate (default 5).", min=0.1)] = None,
    compression_bitrate: Annotated[str | None, typer.Option(help="Proxy maximum bitrate, e.g. 1000k (default).")] = None,
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
    from catalog_assets.steps import select_steps

    if analyzer is not None:  # a setting like any other, so the code version (and staleness) follows it
        os.environ["VIDEO_CATALOG_ANALYZER"] = analyzer
    steps = select_steps(_split(enable), _split(disable), config)
    proxy_config: dict[str, object] = {}
    if compression_fps is not None:
        proxy_config["fps"] = compression_fps
    if compression_bitrate is not None:
        if not re.fullmatch(r"\d+(\.\d+)?[kKmM]?", compression_bitrate):
            _fail(f"--compression-bitrate {compression_bitrate!r}: expected a rate like 1000k or 2M")
        proxy_config["max_bitrate"] = compression_bitrate
    missing = [p for p in paths if not p.exists()]
    if missing and len(missing) == len(paths):
        _fail(f"{missing[0]}: no such file or folder")
    catalog = _app()
    quiet = as_json or not err.is_terminal
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, disable=quiet, transient=True,
    )
    from catalog_resources.progress_bus import subscribe

    with progress:
        scan_task = progress.add_task("Scanning", total=None)
        clip_task = progress.add_task("Cataloging", total=None, visible=False)
        step_task = progress.add_task("", total=100, visible=False)  # the clip being decoded, in % (ffmpeg's progress)
        unsubscribe = subscribe(lambda e: progress.update(
            step_task, completed=round(e.fraction * 100), visible=e.fraction < 1.0, description=literal(f"  {e.step}: {e.label}")))
        summary = catalog.ingest(
            paths,
            steps=steps,
            limit=limit,
            dry_run=dry_run,
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
        unsubscribe()
    if as_json:
        print(summary.model_dump_json(indent=2))
    else:
        _print_summary(summary, dry_run)
    raise typer.Exit(EXIT_FAILED if summary.failed else EXIT_OK)


prompt_app = typer.Typer(help="The analysis prompt template and its hash (part of ai_analysis' code version).", no_args_is_help=True)
app.add_typer(prompt_app, name="prompt")


@prompt_app.command("show")
@handles_errors
def prompt_show() -> None:
    """Print the prompt template in use and its hash.

    Example:
      video-catalog prompt show
    """
    from catalog_assets.definitions import build_analyzer
    from catalog_resources.analyzer import packaged_prompt_path, prompt_text

    settings = _settings()
    analyzer = build_analyzer(settings)
    text = prompt_text(analyzer.prompt_file)
    err.print(f"# {literal(analyzer.prompt_file or packaged_prompt_path())}  hash {analyzer.prompt_hash()}  "
              f"code version {analyzer.code_version()}", highlight=False, soft_wrap=True)
    print(text, end="")


@prompt_app.command("path")
@handles_errors
def prompt_path() -> None:
    """Print the path of the prompt template in use (copy it, edit it, point VIDEO_CATALOG_ANALYSIS_PROMPT_FILE at it).

    Example:
      cp "$(video-catalog prompt path)" my-prompt.md
    """
    from catalog_assets.definitions import build_analyzer
    from catalog_resources.analyzer import packaged_prompt_path

    analyzer = build_analyzer(_settings())
    print(for_stdout(analyzer.prompt_file or packaged_prompt_path()))


def _print_summary(summary, dry_run: bool) -> None:
    title = "Dry run (nothing written)" if dry_run else "Ingest summary"
    table = LiteralTable(title=title, show_header=True, header_style="bold")
    table.add_column("outcome")
    table.add_column("files", justify="right")
    for key, label in (("new", "new"), ("existing", "already cataloged"), ("duplicates", "duplicates"),
                       ("moved", "moved"), ("resumed", "resumed (finished an earlier run's work)"),
                       ("in_progress", "in progress (another ingest has them)"), ("not_video", "not video"),
                       ("failed", "failed")):
        if key not in ("resumed", "in_progress") or getattr(summary, key):
            table.add_row(label, str(len(getattr(summary, key))))
    out.print(table)
    if summary.analysis_usage:
        usage = summary.analysis_usage
        out.print(f"analysis used {int(usage['prompt_tokens']):,} prompt + {int(usage['output_tokens']):,} output tokens "
                  f"in {int(usage['requests'])} requests, estimated ${usage['estimated_cost_usd']:.4f}", highlight=False)
    for item in summary.failed:
        err.print(f"[red]failed[/] {literal(item.path)}: {literal(item.reason)}", highlight=False, soft_wrap=True)
    for item in summary.in_progress:
        err.print(f"[cyan]in progress[/] {literal(item.path)}: {literal(item.reason)}", highlight=False, soft_wrap=True)
    for item in summary.not_video:
        if item.reason and "video extension" in item.reason:
            err.print(f"[yellow]not video[/] {literal(item.path)}: {literal(item.reason)}", highlight=False, soft_wrap=True)


LIST_KEYS = ("clip_id", "path", "file_name", "duration_seconds", "size_bytes", "md5", "container", "video_codec",
             "width", "height", "frame_rate", "has_audio", "hdr_format", "camera", "quality_score", "exposure_warning",
             "shot_type", "status", "paths")


def _clip_filter(*, resolution: str | None = None, shot_type: str | None = None, after: str | None = None,
                 before: str | None = None, **values: Any):
    """The technical filters of `list` and `search`, checked and normalised into one ClipFilter."""
    from catalog_resources.models import RESOLUTIONS, SHOT_TYPES, ClipFilter

    if resolution is not None and resolution.lower() not in RESOLUTIONS:
        _fail(f"--resolution {resolution!r}: choose one of {', '.join(RESOLUTIONS)}")
    shot_choices = {s.replace(" ", "-"): s for s in SHOT_TYPES}  # "close-up" or "close up" on the command line
    shot = shot_choices.get(shot_type.lower().replace(" ", "-").replace("_", "-")) if shot_type else None
    if shot_type and shot is None:
        _fail(f"--shot-type {shot_type!r}: choose one of {', '.join(shot_choices)}")
    return ClipFilter(resolution=resolution.lower() if resolution else None, shot_type=shot,
                      after=_date(after, "--after"), before=_date(before, "--before"), **values)


def _date(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        _fail(f"{option} {value!r}: expected a date like 2024-05-17 or 2024-05-17T10:30")
        raise
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


# The technical filters, shared by `list` and `search` so a flag means the same in both.
CodecOpt = Annotated[str | None, typer.Option("--codec", help="Video codec, e.g. h264, hevc, prores.")]
ResolutionOpt = Annotated[str | None, typer.Option("--resolution", help="sd, 720p, 1080p, 1440p, 4k, 8k (by the picture's short side).")]
MinHeightOpt = Annotated[int | None, typer.Option("--min-height", help="At least this many pixels high.")]
FpsOpt = Annotated[float | None, typer.Option("--fps", help="Frame rate (30 also matches 29.97).")]
CameraOpt = Annotated[str | None, typer.Option("--camera", help="Camera make or model contains this text.")]
HdrOpt = Annotated[bool | None, typer.Option("--hdr/--sdr", help="Only HDR (HDR10, HLG, Dolby Vision) or only SDR clips.")]
MinDurationOpt = Annotated[float | None, typer.Option("--min-duration", help="Seconds.")]
MaxDurationOpt = Annotated[float | None, typer.Option("--max-duration", help="Seconds.")]
AfterOpt = Annotated[str | None, typer.Option("--after", help="Recorded on or after this date (2024-05-17).")]
BeforeOpt = Annotated[str | None, typer.Option("--before", help="Recorded before this date.")]
MinQualityOpt = Annotated[float | None, typer.Option("--min-quality", help="Technical quality score at least this (0-100).")]
ExposureOpt = Annotated[bool | None, typer.Option("--exposure-warning/--exposure-ok", help="Only clips whose exposure is (or is not) flagged.")]
ShotTypeOpt = Annotated[str | None, typer.Option("--shot-type", help="Framing from face size: extreme-close-up, close-up, medium, wide, no-people.")]
TagOpt = Annotated[str | None, typer.Option("--tag", help="Has this tag (e.g. an AI keyword).")]
CollectionOpt = Annotated[str | None, typer.Option("--collection", help="In this collection.")]


@app.command("list")
@handles_errors
def list_clips(
    codec: CodecOpt = None,
    resolution: ResolutionOpt = None,
    min_height: MinHeightOpt = None,
    fps: FpsOpt = None,
    camera: CameraOpt = None,
    hdr: HdrOpt = None,
    min_duration: MinDurationOpt = None,
    max_duration: MaxDurationOpt = None,
    after: AfterOpt = None,
    before: BeforeOpt = None,
    min_quality: MinQualityOpt = None,
    exposure_warning: ExposureOpt = None,
    shot_type: ShotTypeOpt = None,
    tag: TagOpt = None,
    collection: CollectionOpt = None,
    sort: Annotated[str, typer.Option(help="cataloged, name, duration, size, recorded, resolution, fps or quality.")] = "cataloged",
    limit: Annotated[int | None, typer.Option(help="Show at most N clips.", min=1)] = None,
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
    """
    from catalog_resources.models import SORT_KEYS

    if sort not in SORT_KEYS:
        _fail(f"--sort {sort!r}: choose one of {', '.join(SORT_KEYS)}")
    filters = _clip_filter(codec=codec, resolution=resolution, min_height=min_height, fps=fps, camera=camera, hdr=hdr,
                           min_duration=min_duration, max_duration=max_duration, after=after, before=before,
                           min_quality=min_quality, exposure_warning=exposure_warning, shot_type=shot_type, tag=tag,
                           collection=collection)
    if export not in (None, "json", "csv"):
        _fail(f"--export {export!r}: choose json or csv")
    db = _catalog_db()[1]
    rows = db.list_clips(limit, filters, sort)
    states = db.clip_states([row["clip_id"] for row in rows]) if rows else {}
    for row in rows:  # complete, in progress, failed (which step, why), incomplete, stale or metadata-only
        row["status"] = states[row["clip_id"]].label if row["clip_id"] in states else row["status"]
    if as_json or export:
        records = [{k: row[k] for k in LIST_KEYS}
                   | {"cataloged_at": row["cataloged_at"].isoformat(),
                      "recorded_at": row["recorded_at"].isoformat() if row["recorded_at"] else None}
                   for row in rows]
        _export(records, export or "json", output, (*LIST_KEYS, "cataloged_at", "recorded_at"))
        return
    if not rows:
        filtered = any(v is not None for v in filters.model_dump().values())
        out.print("No clips match these filters." if filtered else
                  "The catalog is empty. Add footage with: video-catalog ingest /path/to/footage")
        return
    table = LiteralTable(title=f"{len(rows)} clips", header_style="bold")
    for column, justify in (("clip", "left"), ("file", "left"), ("duration", "right"), ("size", "right"),
                            ("resolution", "right"), ("fps", "right"), ("codec", "left"), ("HDR", "left"),
                            ("shot", "left"), ("camera", "left"), ("recorded", "left"), ("status", "left"),
                            ("path", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for row in rows:
        resolution_text = f"{row['width']}x{row['height']}" if row["width"] else "-"
        fps_text = f"{row['frame_rate']:.3g}" if row["frame_rate"] else "-"
        recorded = row["recorded_at"].strftime("%Y-%m-%d %H:%M") if row["recorded_at"] else "-"
        table.add_row(row["clip_id"], row["file_name"], _duration(row["duration_seconds"]), _human_size(row["size_bytes"]),
                      resolution_text, fps_text, row["video_codec"] or "-", row["hdr_format"] or "-",
                      row["shot_type"] or "-", row["camera"] or "-", recorded, row["status"], row["path"])
    out.print(table)


def _one_clip(store, ref: str) -> str:
    """The clip an id, id prefix or path names, or a one-line error (exit 2)."""
    matches = store.resolve_clip(ref)
    if not matches:
        _fail(f"{ref}: no cataloged clip has this id, id prefix or path (see `video-catalog list`)")
    if len(matches) > 1:
        _fail(f"{ref}: ambiguous, matches {', '.join(matches)}; give more of the id")
    return matches[0]


@app.command()
@handles_errors
def show(
    clip: Annotated[str, typer.Argument(help="A clip id, an id prefix (4+ characters), or a file path.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored models as JSON.")] = False,
) -> None:
    """Show everything cataloged about one clip.

    Examples:
      video-catalog show 3f9a2c1d
      video-catalog show ~/Footage/interview.mov --json
    """
    store = _catalog_db()[1]
    clip_id = _one_clip(store, clip)
    detail = store.clip_detail(clip_id)
    detail["state"] = store.clip_states([clip_id])[clip_id].model_dump()
    for product in ("proxy", "thumbnails"):
        sidecar = _settings().media_dir / clip_id / f"{product}.json"
        detail[product] = json.loads(sidecar.read_text()) if sidecar.exists() else None
    if as_json:
        print(json.dumps(detail, indent=2, default=str))
        return
    from catalog_cli.show_view import render_clip

    render_clip(out, detail)


@app.command("open")
@handles_errors
def open_clip(
    clip: Annotated[str, typer.Argument(help="A clip id, an id prefix, or a file path.")],
) -> None:
    """Open the clip's contact sheet in the desktop's image viewer (prints the path where there is none).

    Example:
      video-catalog open 3f9a2c1d
    """
    clip_id = _one_clip(_catalog_db()[1], clip)
    sidecar = _settings().media_dir / clip_id / "thumbnails.json"
    if not sidecar.exists():
        _fail(f"clip {clip_id} has no thumbnails yet; run: video-catalog ingest <its folder> (step thumbnails)")
    sheet = json.loads(sidecar.read_text()).get("contact_sheet_path")
    viewer = shutil.which("xdg-open") or shutil.which("open")
    if viewer and (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform == "darwin"):
        subprocess.Popen([viewer, sheet], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(for_stdout(sheet))


EXPORT_KEYS = ("clip_id", "path", "score", "start_seconds", "end_seconds", "snippet", "file_name", "matched_by",
               "thumbnail_path", "duration_seconds", "video_codec", "width", "height", "frame_rate", "shot_type",
               "quality_score")


def _export(rows: list[dict[str, Any]], fmt: str, output: Path | None, keys: tuple[str, ...]) -> None:
    """JSON (an array of objects with stable keys) or CSV (with a header) to stdout or a file."""
    import csv
    import io

    if fmt == "json":
        text = json.dumps([{k: row.get(k) for k in keys} for row in rows], indent=2, default=str) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(keys), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        shown = visible if output is None and sys.stdout.isatty() else str  # a person reads it: no raw escapes
        for row in rows:
            writer.writerow({k: shown(";".join(v) if isinstance(v, list) else v) if isinstance(v, (str, list)) else v
                             for k, v in row.items()})
        text = buffer.getvalue()
    if output is None:
        sys.stdout.write(text)
    else:
        write_output(output, text)
        err.print(f"wrote {len(rows)} rows to {literal(output)}", highlight=False)


def _embedder():
    from catalog_resources.embedder import EmbedderError, LocalEmbedder
    from catalog_resources.embedding_service import EmbeddingService

    settings = _settings()
    service = EmbeddingService(model=settings.embedding_model, backend=settings.embedding_backend,
                               min_similarity=settings.search_min_similarity, base_url=settings.embedding_base_url,
                               api_key=settings.embedding_api_key)
    try:
        if settings.embedding_backend == "local":
            LocalEmbedder(settings.embedding_model)  # an unknown or uninstalled model fails here, naming its package
        else:
            service.model_backend()  # a missing key fails here
    except EmbedderError as exc:
        _fail(f"{exc} (VIDEO_CATALOG_EMBEDDING_MODEL={settings.embedding_model})")
    return service


def _highlighted(snippet: str, words: frozenset[str] = frozenset()):
    """The snippet with the words search marked [like this] in bold, everything else literal (no markup).
    Full-text search ('simple' config) marks only the query's own words, so a bracket around anything else is
    footage text (`[bold]`, `[/]` in a transcript) and stays as it is."""
    from rich.text import Text

    text = Text()
    for part in re.split(r"(\[[^\[\]]*\])", snippet):
        if len(part) > 2 and part.startswith("[") and part.endswith("]") and part[1:-1].lower() in words:
            text.append(visible(part[1:-1]), style="bold yellow")
        else:
            text.append(visible(part))
    return text


def _print_hits(hits: list, title: str, words: frozenset[str] = frozenset()) -> None:
    from catalog_resources.transcript_export import timecode

    table = LiteralTable(title=title, header_style="bold")
    for column in ("#", "score", "clip", "file", "at", "why", "thumbnail"):
        table.add_column(column, overflow="fold")
    for i, hit in enumerate(hits, start=1):
        at = (f"{timecode(hit.start_seconds)}–{timecode(hit.end_seconds)}" if hit.start_seconds is not None else "-")
        why = _highlighted(hit.snippet or "-", words)
        why.append(f"  ({', '.join(hit.matched_by)})", style="dim")
        table.add_row(str(i), f"{hit.score:.4g}", hit.clip_id, hit.file_name, at, why, hit.thumbnail_path or "-")
    out.print(table)


@app.command()
@handles_errors
def search(
    query: Annotated[str, typer.Argument(help="What you are looking for, in words; inline filters like codec:prores fps:>30 shot:close-up work too.")],
    mode: Annotated[str, typer.Option(help="hybrid (default), semantic or text.")] = "hybrid",
    limit: Annotated[int, typer.Option(help="At most N clips.", min=1)] = 10,
    codec: CodecOpt = None,
    resolution: ResolutionOpt = None,
    min_height: MinHeightOpt = None,
    fps: FpsOpt = None,
    camera: CameraOpt = None,
    hdr: HdrOpt = None,
    min_duration: MinDurationOpt = None,
    max_duration: MaxDurationOpt = None,
    after: AfterOpt = None,
    before: BeforeOpt = None,
    min_quality: MinQualityOpt = None,
    exposure_warning: ExposureOpt = None,
    shot_type: ShotTypeOpt = None,
    tag: TagOpt = None,
    collection: CollectionOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --export json.")] = False,
    export: Annotated[str | None, typer.Option(help="json or csv: machine-readable results.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the export to this file.")] = None,
) -> None:
    """Find clips by meaning and by words, with timestamps for the moment that matched.

    Hybrid ranking fuses vector similarity (clip and segment embeddings) with full-text search over what
    the clip says and shows. Filters are the same as `list` and combine with AND.

    Examples:
      video-catalog search "interview about pricing on a rooftop"
      video-catalog search "solar panels" --mode text --codec h264
      video-catalog search "crowd cheering at night" --min-height 1080 --export csv -o hits.csv

    Exit codes: 0 hits found, 1 no good matches, 2 usage or environment error.
    """
    from catalog_resources.search import search as run_search
    from catalog_resources.search_query import parse_inline_filters

    if mode not in ("hybrid", "semantic", "text"):
        _fail(f"--mode {mode!r}: choose hybrid, semantic or text")
    fmt = "json" if as_json else export
    if fmt not in (None, "json", "csv"):
        _fail(f"--export {export!r}: choose json or csv")
    text, inline = parse_inline_filters(query)
    flags = dict(codec=codec, resolution=resolution, min_height=min_height, fps=fps, camera=camera, hdr=hdr,
                 min_duration=min_duration, max_duration=max_duration, after=after, before=before,
                 min_quality=min_quality, exposure_warning=exposure_warning, shot_type=shot_type, tag=tag,
                 collection=collection)
    filters = _clip_filter(**{**flags, **{k: v for k, v in inline.items() if flags.get(k) is None}})
    if not text.strip():
        _fail("the query has no words to search for (only filters); use `video-catalog list` with those filters")
    store = _catalog_db()[1]
    embedder = _embedder() if mode != "text" else None
    if embedder is not None and store.embedded_clip_count(embedder.model) == 0:
        if mode == "semantic":
            _fail(f"no clip has embeddings from {embedder.model} yet; run: video-catalog refresh --missing embeddings")
        embedder = None  # hybrid falls back to words alone until clips are embedded
    result = run_search(store, embedder, text, filters, mode=mode, limit=limit)
    if fmt:
        _export([h.model_dump() for h in result.hits], fmt, output, EXPORT_KEYS)
    elif not result.hits:
        err.print(literal(f"No good matches for {echo(text)}") + (" with these filters." if any(
            v is not None for v in filters.model_dump().values()) else "."), highlight=False)
    else:
        _print_hits(result.hits, f"{len(result.hits)} clips for {echo(text)} ({result.mode})",
                    frozenset(re.findall(r"\w+", text.lower())))
    raise typer.Exit(EXIT_OK if result.hits else EXIT_FAILED)


@app.command()
@handles_errors
def similar(
    clip: Annotated[str, typer.Argument(help="A clip id, an id prefix (4+ characters), or a file path.")],
    limit: Annotated[int, typer.Option(help="At most N clips.", min=1)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array with stable keys.")] = False,
) -> None:
    """Clips nearest to this one by meaning (its full-clip embedding), itself excluded.

    Examples:
      video-catalog similar 3f9a2c1d
      video-catalog similar interview.mov --limit 5 --json
    """
    from catalog_resources.search import similar as run_similar

    store = _catalog_db()[1]
    clip_id = _one_clip(store, clip)
    embedder = _embedder()
    hits = run_similar(store, embedder, clip_id, limit)
    if not hits and store.clip_vector(clip_id, embedder.model)[0] is None:
        _fail(f"clip {clip_id} has no {embedder.model} embedding yet; run: video-catalog refresh --missing embeddings")
    if as_json:
        _export([h.model_dump() for h in hits], "json", None, EXPORT_KEYS)
        return
    _print_hits(hits, f"{len(hits)} clips like {clip_id}")


@app.command()
@handles_errors
def refresh(
    stale: Annotated[bool, typer.Option("--stale", help="Redo assets whose code version (e.g. analyzer, model, prompt) changed, and what depends on them.")] = False,
    missing: Annotated[list[str] | None, typer.Option("--missing", help="Also make these steps for clips that never had them (repeatable or comma separated), e.g. ai_analysis.")] = None,
    clip: Annotated[list[str] | None, typer.Option("--clip", help="Only these clips (id, prefix or path; repeatable).")] = None,
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
    missing_steps = _split(missing)
    unknown = [m for m in missing_steps if m not in known]
    if unknown:
        _fail(f"--missing {unknown[0]!r}: no such step; choose from {', '.join(known)}")
    if not stale and not missing_steps:
        _fail("nothing to do: give --stale and/or --missing STEP (see `video-catalog refresh --help`)")
    catalog = _app()
    clip_ids = [_one_clip(catalog.store, ref) for ref in clip] if clip else None
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
        table = LiteralTable(title=f"{len(plan.pairs)} stale (asset, clip) pairs over {len(clips)} clips", header_style="bold")
        for column in ("clip", "asset", "reason"):
            table.add_column(column, overflow="fold")
        for pair in plan.pairs:
            table.add_row(pair.clip_id, pair.asset, pair.reason)
        out.print(table)
        return
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


@app.command()
@handles_errors
def transcript(
    clip: Annotated[str, typer.Argument(help="A clip id, an id prefix (4+ characters), or a file path.")],
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
    from catalog_resources.analysis_models import ComprehensiveAIAnalysis
    from catalog_resources.transcript_export import timecode, to_json, to_srt, to_vtt

    fmt = "srt" if srt else "vtt" if vtt else "json" if as_json else fmt.lower()
    if fmt not in ("text", "srt", "vtt", "json"):
        _fail(f"--format {fmt!r}: choose text, srt, vtt or json")
    store = _catalog_db()[1]
    clip_id = _one_clip(store, clip)
    raw = store.analysis_detail(clip_id)
    if raw is None:
        _fail(f"clip {clip_id} has no analysis yet; run: video-catalog refresh --missing ai_analysis --clip {clip_id}")
    found = ComprehensiveAIAnalysis.model_validate(raw).transcript
    if found is None:
        _fail(f"clip {clip_id} has no audio track, so no transcript", EXIT_FAILED)
    if fmt == "text":
        text = "\n".join(f"[{timecode(s.start_seconds)} - {timecode(s.end_seconds)}] {visible(s.text)}" for s in found.segments)
    else:
        text = {"srt": to_srt, "vtt": to_vtt}[fmt](found) if fmt != "json" else to_json(found, clip_id)
    if output is not None:
        write_output(output, text + ("\n" if text and not text.endswith("\n") else ""))
        err.print(f"wrote {literal(output)}", highlight=False)
    elif text:
        print(text)
    if not found.segments:
        err.print(f"clip {literal(clip_id)}: no speech found", highlight=False)


@app.command()
@handles_errors
def steps(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the pipeline's steps (Dagster assets) with descriptions and whether they run by default."""
    from catalog_assets.steps import pipeline_steps

    found = pipeline_steps()
    if as_json:
        print(json.dumps([s.model_dump() for s in found], indent=2))
        return
    table = LiteralTable(title="Pipeline steps", header_style="bold")
    for column in ("step", "default", "group", "description"):
        table.add_column(column, overflow="fold")
    for s in found:
        default = "on (required)" if s.required else ("on" if s.default_enabled else "off")
        table.add_row(s.name, default, s.group, s.description)
    out.print(table)


@app.command()
@handles_errors
def ui(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 3000,
) -> None:
    """Start the Dagster webserver and daemon (sensor, queued runs) for this catalog on 127.0.0.1.

    Example:
      video-catalog ui --port 3000     # then open http://127.0.0.1:3000
    """
    from catalog_resources.dagster_home import prepare_dagster_home

    catalog = _app()
    catalog.store  # started and migrated
    prepare_dagster_home(catalog.settings, catalog.endpoint)
    dagster = shutil.which("dagster") or str(Path(sys.executable).with_name("dagster"))
    command = [dagster, "dev", "-m", "catalog_assets.definitions", "-h", "127.0.0.1", "-p", str(port)]
    err.print(f"Dagster UI on http://127.0.0.1:{port} (instance {literal(os.environ['DAGSTER_HOME'])}); Ctrl-C stops it.")
    # cwd = the instance folder: dagster dev warns about (and ignores) a dagster.yaml in the current folder
    raise typer.Exit(subprocess.call(command, cwd=os.environ["DAGSTER_HOME"]))


# ---- db ---------------------------------------------------------------------------------------------


@db_app.command("start")
@handles_errors
def db_start() -> None:
    """Start the embedded server (if not running) and apply migrations."""
    endpoint, _db, applied = _catalog_db()
    out.print(f"database ready: {literal(endpoint.catalog_url)}" + (f" (applied {len(applied)} migrations)" if applied else ""))


@db_app.command("stop")
@handles_errors
def db_stop() -> None:
    """Stop the embedded server (a no-op with an external database)."""
    from catalog_resources.database import embedded_server

    settings = _settings()
    if settings.database_url:
        out.print("external database (VIDEO_CATALOG_DATABASE_URL): nothing to stop")
        return
    out.print("stopped" if embedded_server(settings).stop() else "not running")


@db_app.command("migrate")
@handles_errors
def db_migrate() -> None:
    """Apply pending migrations from sql/ (safe to repeat)."""
    _endpoint, _db, applied = _catalog_db()
    out.print(f"applied {len(applied)} migrations" + (": " + ", ".join(m.name for m in applied) if applied else " (up to date)"))


@db_app.command("url")
@handles_errors
def db_url(dagster: Annotated[bool, typer.Option("--dagster", help="Print Dagster's storage URL instead.")] = False) -> None:
    """Print the connection URL (for psql, scripts, or `dagster dev`)."""
    from catalog_resources.database import resolve_database

    endpoint = resolve_database(_settings(), start=True)
    print(endpoint.dagster_url if dagster else endpoint.catalog_url)


@db_app.command("status")
@handles_errors
def db_status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Server and pgvector versions, data size, applied migrations; as root also the clusters under the runtime
    root whose home is gone (`video-catalog db prune` removes them)."""
    from catalog_resources.database import embedded_server
    from catalog_resources.embedded_pg import list_clusters

    settings = _settings()
    info: dict[str, Any] = {"embedded": not settings.database_url}
    if not settings.database_url:
        server = embedded_server(settings)
        running = server.info()
        info.update({"data_dir": str(server.data_dir) if server.initialized else None, "running": running is not None,
                     "pid": running.pid if running else None,
                     "socket_dir": str(server.socket_dir) if server.initialized else None})
        if running is None:
            info["hint"] = "not running; `video-catalog db start` starts it (any command also starts it on demand)"
        clusters = list_clusters(settings.pg_runtime_root)
        info["orphan_clusters"] = [c.model_dump(mode="json") for c in clusters if c.state == "orphan"]
        unclaimed = [c.model_dump(mode="json") for c in clusters if c.state == "unclaimed"]
        if unclaimed:
            info["unclaimed_clusters"] = unclaimed
    if info.get("running", True):
        endpoint, db, _applied = _catalog_db()
        info.update(db.server_status())
        info["migrations"] = [m.name for m in db.applied_migrations()]
        info["url"] = endpoint.catalog_url
    if as_json:
        print(json.dumps(info, indent=2, default=str))
        return
    for key, value in info.items():
        if key == "database_bytes":
            value = _human_size(value)
        elif key == "migrations":
            value = ", ".join(value) or "none"
        elif key in ("orphan_clusters", "unclaimed_clusters"):
            value = "; ".join(_cluster_line(c) for c in value) or "none"
            if key == "orphan_clusters" and value != "none":
                value += " (remove with `video-catalog db prune`)"
        out.print(f"[bold]{key}[/]: {literal(value)}", highlight=False)


def _cluster_line(cluster: dict[str, Any]) -> str:
    running = f", server pid {cluster['pid']}" if cluster["pid"] else ""
    return f"{cluster['path']} ({cluster['reason']}, {_human_size(cluster['size_bytes'])}{running})"


@db_app.command("prune")
@handles_errors
def db_prune(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be removed.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the clusters as JSON.")] = False,
) -> None:
    """Stop and delete embedded database clusters whose catalog home is gone (as root they live under
    VIDEO_CATALOG_PG_RUNTIME_ROOT, one per home; a normal user's cluster lives inside its home).

    Examples:
      video-catalog db prune --dry-run
      video-catalog db prune --json
    """
    from catalog_resources.embedded_pg import prune_orphan_clusters

    settings = _settings()
    pruned = prune_orphan_clusters(settings.pg_runtime_root, dry_run=dry_run)
    if as_json:
        print(json.dumps({"dry_run": dry_run, "clusters": [c.model_dump(mode="json") for c in pruned]}, indent=2))
        return
    verb = "would remove" if dry_run else "removed"
    for cluster in pruned:
        out.print(f"{verb} {_cluster_line(cluster.model_dump(mode='json'))}", markup=False, highlight=False)
    freed = _human_size(sum(c.size_bytes for c in pruned))
    out.print(f"{len(pruned)} orphan clusters" + (f", {freed} {'to free' if dry_run else 'freed'}" if pruned else ""),
              markup=False, highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
