"""`video-catalog db ...`: start, stop, migrate and inspect the catalog database; prune orphan clusters.
None of these imports Dagster."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from catalog_cli.common import catalog_db, cli_settings, fail, handles_errors
from catalog_cli.render import out
from catalog_cli.render.tables import cluster_line, human_size, print_db_status
from catalog_cli.render.text import literal

db_app = typer.Typer(help="Manage the catalog database (embedded PostgreSQL + pgvector unless VIDEO_CATALOG_DATABASE_URL is set).", no_args_is_help=True)


@db_app.command("start")
@handles_errors
def db_start(
    listen: Annotated[str | None, typer.Option("--listen", help="Team mode: also serve TCP on ADDRESS[:PORT] (e.g. "
                                               "0.0.0.0:5433) with password logins; kept in config.toml as db_listen. "
                                               "--listen off goes back to the local socket only.")] = None,
) -> None:
    """Start the embedded server (if not running) and apply migrations.

    Examples:
      video-catalog db start
      video-catalog db start --listen 0.0.0.0:5433     # colleagues connect with their own password (auth signup)
    """
    if listen is not None:
        _remember_listen(listen)
    endpoint, _db, applied = catalog_db()
    from catalog_resources.system.catalog import hide_password

    out.print(f"database ready: {literal(hide_password(endpoint.catalog_url))}" + (f" (applied {len(applied)} migrations)" if applied else ""))
    settings = cli_settings()
    if settings.db_listen and not settings.database_url:
        from catalog_resources.store.embedded_server import parse_listen

        host, port = parse_listen(settings.db_listen)
        out.print(f"listening on {literal(host)} port {port} for password logins (SCRAM); "
                  "add people with: video-catalog auth signup EMAIL", highlight=False)


def _remember_listen(listen: str) -> None:
    """Keep the choice in config.toml and restart a running server whose listening differs."""
    from catalog_resources.config_file import set_value, unset_value
    from catalog_resources.store.embedded_server import parse_listen
    from catalog_resources.store.endpoint import embedded_server

    settings = cli_settings()
    if settings.database_url:
        fail("--listen is for the embedded server; an external database (VIDEO_CATALOG_DATABASE_URL) listens as it "
             "is configured")
    wanted = None if listen.strip().lower() in ("off", "") else listen.strip()
    if wanted:
        parse_listen(wanted)  # a bad value fails here, before anything changes
        set_value(settings.config_file, "db_listen", wanted)
    else:
        unset_value(settings.config_file, "db_listen")
    server = embedded_server(settings)
    running = server.info()
    if running is not None and (running.listen or None) != (parse_listen(wanted)[0] if wanted else None):
        server.stop()  # started again below, listening as asked


@db_app.command("stop")
@handles_errors
def db_stop() -> None:
    """Stop the embedded server (a no-op with an external database)."""
    from catalog_resources.store.endpoint import embedded_server

    settings = cli_settings()
    if settings.database_url:
        out.print("external database (VIDEO_CATALOG_DATABASE_URL): nothing to stop")
        return
    out.print("stopped" if embedded_server(settings).stop() else "not running")


@db_app.command("migrate")
@handles_errors
def db_migrate() -> None:
    """Apply pending migrations from sql/ (safe to repeat)."""
    _endpoint, _db, applied = catalog_db()
    out.print(f"applied {len(applied)} migrations" + (": " + ", ".join(m.name for m in applied) if applied else " (up to date)"))


@db_app.command("url")
@handles_errors
def db_url(dagster: Annotated[bool, typer.Option("--dagster", help="Print Dagster's storage URL instead.")] = False) -> None:
    """Print the connection URL (for psql, scripts, or `dagster dev`)."""
    from catalog_resources.store.endpoint import resolve_database

    endpoint = resolve_database(cli_settings(), start=True)
    print(endpoint.dagster_url if dagster else endpoint.catalog_url)


@db_app.command("status")
@handles_errors
def db_status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Server and pgvector versions, data size, applied migrations; as root also the clusters under the runtime
    root whose home is gone (`video-catalog db prune` removes them)."""
    from catalog_resources.store.endpoint import embedded_server
    from catalog_resources.store.embedded_clusters import list_clusters

    settings = cli_settings()
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
        endpoint, db, _applied = catalog_db()
        info.update(db.server_status())
        info["migrations"] = [m.name for m in db.applied_migrations()]
        from catalog_resources.system.catalog import hide_password

        info["url"] = hide_password(endpoint.catalog_url)  # `db url` prints it whole, for scripts that ask
    if as_json:
        print(json.dumps(info, indent=2, default=str))
        return
    print_db_status(info)


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
    from catalog_resources.store.embedded_clusters import prune_orphan_clusters

    settings = cli_settings()
    pruned = prune_orphan_clusters(settings.pg_runtime_root, dry_run=dry_run)
    if as_json:
        print(json.dumps({"dry_run": dry_run, "clusters": [c.model_dump(mode="json") for c in pruned]}, indent=2))
        return
    verb = "would remove" if dry_run else "removed"
    for cluster in pruned:
        out.print(f"{verb} {cluster_line(cluster.model_dump(mode='json'))}", markup=False, highlight=False)
    freed = human_size(sum(c.size_bytes for c in pruned))
    out.print(f"{len(pruned)} orphan clusters" + (f", {freed} {'to free' if dry_run else 'freed'}" if pruned else ""),
              markup=False, highlight=False)


def _export_lines(store, fmt: str):
    """The export's text, piece by piece: a JSON object whose `clips` array is written one clip at a time, or
    JSON lines (a header line, then one line per clip)."""
    from datetime import datetime, timezone

    from catalog_resources.store.catalog_export import EXPORT_VERSION, collections, iter_clips

    header = {"format": "video-catalog", "version": EXPORT_VERSION,
              "exported_at": datetime.now(timezone.utc).isoformat(), "collections": collections(store)}
    if fmt == "jsonl":
        yield json.dumps({"kind": "catalog", **header}, sort_keys=True, default=str) + "\n"
        for clip in iter_clips(store):
            yield json.dumps({"kind": "clip", **clip}, sort_keys=True, default=str) + "\n"
        return
    yield json.dumps(header, sort_keys=True, default=str)[:-1] + ', "clips": ['
    for n, clip in enumerate(iter_clips(store)):
        yield ("," if n else "") + "\n" + json.dumps(clip, sort_keys=True, default=str)
    yield "\n]}\n"


@db_app.command("export")
@handles_errors
def db_export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="json (one object, clips streamed into its array) or jsonl (one clip a line).")] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Export the whole catalog (clips, paths, metadata, analysis, transcripts, segments, tags, collections;
    not the vectors) as JSON with stable, sorted keys, streamed: memory stays flat however large the catalog.

    Examples:
      video-catalog db export --format json -o catalog.json
      video-catalog db export --format jsonl | jq -c 'select(.kind == "clip") | .clip.path'
    """
    import sys

    from catalog_cli.errors import write_output
    from catalog_cli.render import err
    from catalog_resources.files import atomic_path

    if fmt not in ("json", "jsonl"):
        fail(f"--format {fmt!r}: choose json or jsonl")
    pieces = _export_lines(catalog_db()[1], fmt)  # the database first: if it is down, no file is touched
    if output is None:
        try:
            for piece in pieces:
                sys.stdout.write(piece)
            sys.stdout.flush()
        except BrokenPipeError:  # `| head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    if output.is_dir() or not output.parent.is_dir():
        write_output(output, "")  # "it is a folder" / "the folder does not exist": its one line, nothing written
    try:  # the old file, if any, is replaced only when the whole export is written
        with atomic_path(output) as tmp, open(tmp, "w", encoding="utf-8") as handle:
            for piece in pieces:
                handle.write(piece)
    except OSError as exc:  # anything else the file system says (read-only, /proc, full, I/O error)
        fail(f"cannot write {output}: {exc.strerror or exc}; choose another --output")
    err.print(f"wrote {literal(output)}", highlight=False)


@db_app.command("stats")
@handles_errors
def db_stats(as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False) -> None:
    """Row counts and sizes: each catalog table, the database, the originals (each clip once) and the media store.

    Examples:
      video-catalog db stats
      video-catalog db stats --json | jq '.tables[] | select(.table == "clips")'
    """
    from catalog_resources.store.catalog_export import catalog_totals, table_stats

    store = catalog_db()[1]
    media = cli_settings().media_dir
    media_bytes = sum(f.stat().st_size for f in media.rglob("*") if f.is_file()) if media.is_dir() else 0
    info = {**catalog_totals(store), "media_store_bytes": media_bytes, "tables": table_stats(store)}
    if as_json:
        print(json.dumps(info, indent=2, default=str))
        return
    out.print(f"{info['clips']} clips; originals {human_size(info['originals_bytes'])}, media store "
              f"{human_size(media_bytes)}, database {human_size(info['database_bytes'])}", markup=False, highlight=False)
    for t in info["tables"]:
        out.print(f"  {t['table']:<22} {t['rows']:>10} rows  {human_size(t['bytes']):>10}", markup=False, highlight=False)
