"""`video-catalog ui`: the Dagster webserver and daemon for this catalog, as a child process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from catalog_cli.common import catalog_app, handles_errors
from catalog_cli.render import err
from catalog_cli.render.text import literal


@handles_errors
def ui(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 3000,
) -> None:
    """Start the Dagster webserver and daemon (sensor, queued runs) for this catalog on 127.0.0.1.

    Example:
      video-catalog ui --port 3000     # then open http://127.0.0.1:3000
    """
    from catalog_resources.store.dagster_home import prepare_dagster_home

    catalog = catalog_app()
    catalog.store  # started and migrated
    prepare_dagster_home(catalog.settings, catalog.endpoint)
    dagster = shutil.which("dagster") or str(Path(sys.executable).with_name("dagster"))
    command = [dagster, "dev", "-m", "catalog_assets.definitions", "-h", "127.0.0.1", "-p", str(port)]
    err.print(f"Dagster UI on http://127.0.0.1:{port} (instance {literal(os.environ['DAGSTER_HOME'])}); Ctrl-C stops it.")
    # cwd = the instance folder: dagster dev warns about (and ignores) a dagster.yaml in the current folder
    raise typer.Exit(subprocess.call(command, cwd=os.environ["DAGSTER_HOME"]))
