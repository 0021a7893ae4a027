"""`video-catalog`: the command line. Thin: it parses, shows progress, and calls the layers below.

This module only assembles the Typer app; each command lives in `catalog_cli/commands/`, shared plumbing
(the error boundary, settings, the catalog handles) in `catalog_cli/common.py`, what is printed in
`catalog_cli/render/`, and the exit codes and the one-line messages for known faults in `catalog_cli/errors.py`.
Registration order here is the order `video-catalog --help` lists the commands in.
"""

from __future__ import annotations

import typer

from catalog_cli.commands import clips, collections, db, ingest, pipeline, prompt, report, search, segments, tags, ui
from catalog_cli.commands import export, maintenance
from catalog_cli.commands import people
from catalog_cli.commands import auth, config, system, web, worker

app = typer.Typer(
    name="video-catalog",
    help="Catalog video footage without touching the originals: fingerprints, metadata, search. "
    "Data lives in VIDEO_CATALOG_HOME (default ~/.video-catalog).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)

app.command()(ingest.ingest)
app.command("list")(clips.list_clips)
app.command()(clips.show)
app.command("open")(clips.open_clip)
app.command()(search.search)
app.command()(search.similar)
app.command()(pipeline.refresh)
app.command()(clips.transcript)
app.command()(pipeline.steps)
app.command()(ui.ui)
app.command()(worker.worker)
app.command()(export.export)
app.command()(maintenance.verify)
app.command()(maintenance.relink)
app.command()(maintenance.forget)
app.add_typer(segments.segments_app, name="segments")  # groups are listed after the commands
app.add_typer(collections.collection_app, name="collection")
app.add_typer(tags.tag_app, name="tag")
app.add_typer(report.report_app, name="report")
app.command()(web.web)
app.add_typer(db.db_app, name="db")
app.add_typer(prompt.prompt_app, name="prompt")
app.add_typer(people.people_app, name="people")
app.add_typer(system.system_app, name="system")
app.add_typer(config.config_app, name="config")
app.add_typer(auth.auth_app, name="auth")
app.add_typer(auth.admin_app, name="admin")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
