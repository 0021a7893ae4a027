"""`video-catalog config ...`: the home's config.toml (show, set, unset, init, backup, restore). Imports no Dagster.

The file is read by every command, the Dagster definitions and the sensor through the settings model
(catalog_resources/settings.py); environment variables win over it. Edits go through catalog_resources/config_file.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from catalog_cli.common import cli_settings, handles_errors
from catalog_cli.render import err, out
from catalog_cli.render.text import literal

config_app = typer.Typer(
    help="Settings in <home>/config.toml (thumbnails, analyzer, models, watch folders, batch size...); "
    "VIDEO_CATALOG_* environment variables win over the file.",
    no_args_is_help=True,
)


def _file() -> Path:
    """The config file of the home in use (the home comes from VIDEO_CATALOG_HOME or the default, never the file)."""
    import os

    from catalog_resources.settings import DEFAULT_HOME, config_file_path

    return config_file_path(Path(os.environ.get("VIDEO_CATALOG_HOME") or DEFAULT_HOME))


def _text(value) -> str:
    if value is None:
        return "(unset)"
    return json.dumps(value) if isinstance(value, bool) else str(value)


@config_app.command("show")
@handles_errors
def config_show(
    as_json: Annotated[bool, typer.Option("--json", help="Print the settings as JSON.")] = False,
    key: Annotated[str | None, typer.Argument(help="Only this setting.")] = None,
) -> None:
    """Every setting, its value now and where it came from: env (a VIDEO_CATALOG_* variable), file (config.toml)
    or default. API keys are hidden.

    Examples:
      video-catalog config show
      video-catalog config show thumbnail_count
      video-catalog config show --json | jq '.settings[] | select(.source != "default")'
    """
    from catalog_resources.config_file import normalize_key, show, unknown_keys

    settings = cli_settings()
    rows = show(settings)
    if key is not None:
        name = normalize_key(key)
        rows = [r for r in rows if r.key == name]
    unknown = unknown_keys(settings.config_file)
    if as_json:
        print(json.dumps({"file": str(settings.config_file), "file_exists": settings.config_file.is_file(),
                          "unknown_keys": unknown, "settings": [r.model_dump(mode="json") for r in rows]}, indent=2))
        return
    from catalog_cli.render.text import LiteralTable

    table = LiteralTable(title=f"settings ({settings.config_file}{'' if settings.config_file.is_file() else ', not created'})")
    for column in ("setting", "value", "from"):
        table.add_column(column)
    for row in rows:
        origin = row.env_var if row.source == "env" else row.source
        if row.file_value is not None:
            origin += f" (file says {_text(row.file_value)})"
        table.add_row(row.key, _text(row.value), origin)
    out.print(table)
    for name in unknown:
        err.print(f"warning: {literal(settings.config_file)}: unknown key {literal(name)} is ignored "
                  f"(`video-catalog config unset {literal(name)}`)", highlight=False)


@config_app.command("set")
@handles_errors
def config_set(
    key: Annotated[str, typer.Argument(help="Setting name: thumbnail_count, thumbnail-count or VIDEO_CATALOG_THUMBNAIL_COUNT.")],
    value: Annotated[str, typer.Argument(help="The value; checked against what the setting accepts before writing.")],
) -> None:
    """Write one setting to config.toml (validated first, written atomically; comments kept).

    Examples:
      video-catalog config set thumbnail_count 20
      video-catalog config set watch ~/Footage:/mnt/card
      video-catalog config set analyzer gemini
    """
    import os

    from catalog_resources.config_file import set_value, toml_value

    path = _file()
    name, written = set_value(path, key, value)
    out.print(f"{name} = {literal(toml_value(written))} in {literal(path)}", highlight=False)
    env_var = f"VIDEO_CATALOG_{name.upper()}"
    if env_var.lower() in {k.lower() for k in os.environ}:
        err.print(f"note: {env_var} is set in the environment and wins over the file", highlight=False)


@config_app.command("unset")
@handles_errors
def config_unset(key: Annotated[str, typer.Argument(help="Setting name.")]) -> None:
    """Remove one setting from config.toml: it goes back to its default (or the environment's value).

    Example:
      video-catalog config unset thumbnail_count
    """
    from catalog_resources.config_file import unset_value

    path = _file()
    name, removed = unset_value(path, key)
    out.print(f"{name} removed from {literal(path)}" if removed else f"{name} is not in {literal(path)}", highlight=False)


@config_app.command("init")
@handles_errors
def config_init(force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False) -> None:
    """Write a config.toml listing every setting, commented out at its default, with what each accepts.

    Examples:
      video-catalog config init
      video-catalog config init --force     # after `config backup old.toml`
    """
    from catalog_resources.config_file import init_file

    path = _file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    init_file(path, force=force)
    out.print(f"wrote {literal(path)}", highlight=False)


@config_app.command("backup")
@handles_errors
def config_backup(file: Annotated[Path, typer.Argument(help="Where to copy config.toml.")]) -> None:
    """Copy config.toml to FILE.

    Example:
      video-catalog config backup ~/my-settings.toml
    """
    from catalog_resources.config_file import backup

    if file.is_dir() or not file.parent.is_dir():
        from catalog_cli.errors import write_output

        write_output(file, "")  # its one line: "it is a folder" / "the folder does not exist"
    size = backup(_file(), file)
    out.print(f"copied {literal(_file())} to {literal(file)} ({size} bytes)", highlight=False)


@config_app.command("restore")
@handles_errors
def config_restore(file: Annotated[Path, typer.Argument(help="A config.toml saved by `config backup`.")]) -> None:
    """Replace config.toml with FILE, after checking every key and value in it.

    Example:
      video-catalog config restore ~/my-settings.toml
    """
    from catalog_resources.config_file import restore

    path = _file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = restore(file, path)
    out.print(f"restored {literal(path)} from {literal(file)} ({len(data)} settings)", highlight=False)
