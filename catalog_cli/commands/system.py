"""`video-catalog system ...`: status, healthchecks and Dagster tasks (placeholder while built)."""

from __future__ import annotations

import typer

system_app = typer.Typer(help="The catalog's health: database, Dagster, models, tools, disk, pipeline.", no_args_is_help=True)
