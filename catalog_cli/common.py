"""What every command shares: the one-line failure, the error boundary, settings and the catalog handles.

Heavy layers are imported inside these functions, not at the top: `video-catalog list` must start without
importing Dagster, torch or onnxruntime.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import Any

import typer
from pydantic import ValidationError

from catalog_cli.errors import EXIT_FAILED, EXIT_USAGE
from catalog_cli.render import err
from catalog_cli.render.text import literal
from catalog_resources.settings import CatalogSettings, load_settings


def fail(message: str, code: int = EXIT_USAGE) -> None:
    err.print(f"[bold red]error:[/] {literal(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def handles_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Environment problems (database lost or refused, disk full, permission denied, bad input) become one line
    naming the fix and exit code 2, never a traceback; the traceback goes to <home>/logs/errors.log. A defect in
    the code is one line too, naming that log (VIDEO_CATALOG_DEBUG=1 shows the traceback instead)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import click

        from catalog_cli.errors import describe, library_stderr_to_log, log_details, route_library_logs, unexpected

        route_library_logs()
        try:
            with library_stderr_to_log():
                return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise  # typer's and click's own ways out: their message and exit code are meant
        except Exception as exc:
            fault = describe(exc)
            log = log_details(exc) if fault is None or fault.log else None
            if fault is not None:
                fail(fault.message, fault.code)
            if os.environ.get("VIDEO_CATALOG_DEBUG"):
                raise
            fail(unexpected(exc, log), EXIT_FAILED)

    return wrapper


def cli_settings() -> CatalogSettings:
    try:
        return load_settings()
    except ValidationError as exc:
        problems = "; ".join(f"VIDEO_CATALOG_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        fail(f"bad setting: {problems}")
        raise


def catalog_db():
    """The catalog for read commands (list, show, db): started and migrated, without importing Dagster."""
    settings = cli_settings()
    from catalog_resources.store.catalog import CatalogDB
    from catalog_resources.store.endpoint import resolve_database

    endpoint = resolve_database(settings, start=True)
    db = CatalogDB(endpoint.catalog_url)
    applied = db.migrate()
    return endpoint, db, applied


def catalog_app():
    """The catalog for commands that run the pipeline (ingest, refresh, ui): imports Dagster."""
    settings = cli_settings()  # first: a bad setting is a one-line error, not a traceback from an import
    from catalog_cli.errors import check_home_writable

    check_home_writable(settings.home)  # an unwritable home is one line now, not a failure in every clip
    from catalog_assets.catalog_app import CatalogApp

    return CatalogApp(settings)


def split_list(values: list[str] | None) -> list[str]:
    """A repeatable, comma-separated option (`--enable a,b --enable c`) as one list."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def one_clip(store, ref: str) -> str:
    """The clip an id, id prefix, path, file name or Dagster partition key names, or a one-line error (exit 2)."""
    matches = store.resolve_clip(ref)
    if not matches:
        fail(f"{ref}: no cataloged clip has this id, id prefix, path, file name or partition key (see `video-catalog list`)")
    if len(matches) > 1:
        fail(f"{ref}: ambiguous, matches {', '.join(matches)}; give the path or more of the id")
    return matches[0]


def many_clips(store, refs: list[str] | None) -> list[str]:
    """Clip ids for comma-separated or repeated references (`--clip-ids a,b --clip-ids c`), each resolved as `show`
    resolves one (id, prefix, path, file name, partition key); the first unknown or ambiguous one ends the command."""
    return list(dict.fromkeys(one_clip(store, ref) for ref in split_list(refs)))
