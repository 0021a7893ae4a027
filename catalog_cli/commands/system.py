"""`video-catalog system ...`: status (everything the catalog depends on, and where its clips stand), healthchecks
(the same checks as an exit code, for cron and monitoring) and tasks (Dagster runs: queued, in progress, failed;
cancel and retry).

The checks themselves are in catalog_resources/system/ (no Dagster) and catalog_assets/system_tasks.py (Dagster);
this module gathers them and prints. The embedded database is never started here: a status that started it would
never report it stopped.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from catalog_cli.common import cli_settings, fail, handles_errors
from catalog_cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from catalog_cli.render import out
from catalog_cli.render.text import LiteralTable, literal

system_app = typer.Typer(
    help="The catalog's health: database, Dagster daemon and sensor, model files, tools, disk, clips by pipeline "
    "state; Dagster runs (tasks) with their clips.",
    no_args_is_help=True,
)


def _dagster_checks(settings, db_ok: bool) -> tuple[list, dict[str, Any]]:
    """The instance, the daemon and sensor, the run counts: checks and their figures."""
    from catalog_resources.system.checks import Check

    if not db_ok:
        return [Check(name="dagster", level="problem", detail="not checked: its storage is on the database",
                      fix="start the database first")], {}
    try:
        from catalog_assets.catalog_app import CatalogApp
        from catalog_assets.system_tasks import dagster_status

        info = dagster_status(CatalogApp(settings).instance)
    except Exception as exc:  # noqa: BLE001 - one line for the report, whatever the storage said
        line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [Check(name="dagster", level="problem", detail=f"instance unusable: {line}",
                      fix="check VIDEO_CATALOG_DAGSTER_DATABASE_URL, or `video-catalog db start`")], {}
    runs = info["runs"]
    checks = [Check(name="dagster", detail=f"instance {info['home']}; runs: {runs['queued']} queued, "
                    f"{runs['in_progress']} in progress, {runs['failed']} failed", data=info)]
    watching = bool(settings.watch_folders)
    daemon = "running" if info["daemon_running"] else "not running"
    if watching and not info["daemon_running"]:
        checks.append(Check(name="daemon", level="problem", detail=f"{daemon}, so the watched folders are not cataloged",
                            fix="start it with `video-catalog ui` (webserver and daemon)"))
    elif runs["queued"] and not info["daemon_running"]:
        checks.append(Check(name="daemon", level="warning", detail=f"{daemon}; {runs['queued']} queued runs wait for it",
                            fix="start it with `video-catalog ui`, or cancel them: `video-catalog system tasks --cancel RUN`"))
    else:
        checks.append(Check(name="daemon", detail=daemon + ("" if watching else " (needed only for watched folders and the UI)")))
    sensor = info["sensors"].get("footage_sensor") or ("RUNNING (declared)" if watching else "STOPPED (no watch folders)")
    checks.append(Check(name="sensor", detail=f"footage_sensor {sensor}" + ("" if info["daemon_running"] else ", daemon not running"),
                        data={"footage_sensor": sensor, "running": info["daemon_running"] and sensor.startswith("RUNNING")}))
    return checks, info


def gather(settings) -> tuple[list, dict[str, Any]]:
    """Every check, in report order, and the figures `status --json` prints."""
    from catalog_resources.system.catalog import config_check, open_catalog, pipeline_check, pipeline_counts, watch_check
    from catalog_resources.system.checks import disk_check, guarded, tool_checks
    from catalog_resources.system.model_files import model_checks

    db_check, db = open_catalog(settings)
    checks = [db_check]
    dagster, dagster_info = _dagster_checks(settings, db is not None)
    checks += dagster
    tools = tool_checks()
    models = model_checks(settings)
    disk = guarded("disk", lambda: disk_check(settings.home))
    counts: dict[str, int] = {}
    if db is not None:
        try:
            counts = pipeline_counts(db)
            checks.append(pipeline_check(counts))
        except Exception as exc:  # noqa: BLE001
            from catalog_resources.system.checks import Check

            checks.append(Check(name="clips", level="problem", detail=str(exc).splitlines()[0]))
    checks += [*tools, *models, disk, guarded("config", lambda: config_check(settings)),
               guarded("watch", lambda: watch_check(settings))]
    info = {
        "home": str(settings.home),
        "database": {"ok": db_check.level != "problem", "detail": db_check.detail, **db_check.data},
        "dagster": dagster_info,
        "tools": {c.name: {"ok": c.ok, "detail": c.detail, **c.data} for c in tools},
        "models": {c.name.removeprefix("model:"): {"ok": c.ok, "detail": c.detail, "fix": c.fix} for c in models},
        "disk": disk.data | {"ok": disk.level != "problem"},
        "clips": {"total": sum(counts.values()), "by_state": counts},
    }
    return checks, info


def _verdict(checks) -> int:
    if any(c.level == "problem" for c in checks):
        return EXIT_USAGE
    return EXIT_FAILED if any(c.level == "warning" for c in checks) else EXIT_OK


@system_app.command("status")
@handles_errors
def status(as_json: Annotated[bool, typer.Option("--json", help="Print everything as JSON.")] = False) -> None:
    """Database (version, size), Dagster instance, daemon and sensor, model files, ffmpeg / ExifTool / MediaInfo
    versions, disk free in the home, clips by pipeline state. Starts nothing and loads no model.

    Examples:
      video-catalog system status
      video-catalog system status --json | jq .clips.by_state
    """
    checks, info = gather(cli_settings())
    if as_json:
        info["healthy"] = _verdict(checks) == EXIT_OK
        info["checks"] = [c.model_dump(exclude={"data"}) for c in checks]
        _print_json(info)
        return
    table = LiteralTable(title=f"video-catalog at {info['home']}")
    for column in ("check", "state", "detail"):
        table.add_column(column)
    for c in checks:
        table.add_row(c.name, c.level, c.detail + (f" ({c.fix})" if c.fix else ""))
    out.print(table)


@system_app.command("healthchecks")
@handles_errors
def healthchecks(as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False) -> None:
    """The checks of `system status` as an exit code for cron and monitoring: 0 healthy, 1 warnings only (failed
    clips, pending migrations, little disk), 2 a problem (database down, a tool or model missing, the daemon
    stopped while folders are watched, a watched folder gone). One line per warning or problem, naming the fix.

    Examples:
      video-catalog system healthchecks || mail -s "catalog unhealthy" me@example.com
      video-catalog system healthchecks --json | jq '.checks[] | select(.level != "ok")'
    """
    checks, _info = gather(cli_settings())
    code = _verdict(checks)
    if as_json:
        _print_json({"healthy": code == EXIT_OK, "exit_code": code,
                     "checks": [c.model_dump(exclude={"data"}) for c in checks]})
    else:
        bad = [c for c in checks if c.level != "ok"]
        for c in bad:
            out.print(literal(c.line()), highlight=False, soft_wrap=True)
        if not bad:
            out.print(f"ok: all {len(checks)} checks passed", highlight=False)
    raise typer.Exit(code)


STATUS_NAMES = {"queued": "queued", "in-progress": "in_progress", "in_progress": "in_progress", "failed": "failed"}


@system_app.command("tasks")
@handles_errors
def tasks(
    status_filter: Annotated[list[str] | None, typer.Option("--status", metavar="STATUS", help="queued, in-progress or failed (repeatable); default all three.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Runs per status, newest first.")] = 20,
    cancel: Annotated[str | None, typer.Option("--cancel", metavar="RUN", help="Cancel this run (id or id prefix).")] = None,
    retry: Annotated[str | None, typer.Option("--retry", metavar="RUN", help="Re-execute this failed run from its failed steps.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Dagster runs queued, in progress and failed, with the clips each works on; cancel or retry one. With the
    celery executor also the broker's queues (steps waiting) and each live worker with its queues and running steps.

    Examples:
      video-catalog system tasks
      video-catalog system tasks --status failed --json
      video-catalog system tasks --cancel 3f9a2c1d        # a queued run never starts
      video-catalog system tasks --retry 3f9a2c1d         # re-executes its failed steps here, now
    """
    from catalog_cli.common import catalog_app

    if cancel and retry:
        fail("--cancel and --retry: give one of them")
    groups = []
    for name in status_filter or ["queued", "in-progress", "failed"]:
        if name.lower() not in STATUS_NAMES:
            fail(f"--status {name!r}: choose queued, in-progress or failed")
        groups.append(STATUS_NAMES[name.lower()])
    instance = catalog_app().instance
    from catalog_assets import system_tasks

    if cancel:
        run, done = system_tasks.cancel_run(instance, cancel)
        _say({"run_id": run.run_id, "action": "cancel", "result": done}, as_json, f"run {run.run_id}: {done}")
        return
    if retry:
        result = system_tasks.retry_run(instance, retry)
        verdict = "succeeded" if result.success else "failed again (`video-catalog system tasks --status failed`)"
        _say(result.model_dump(), as_json, f"run {result.parent_run_id} re-executed as {result.run_id} "
             f"({len(result.clips)} clips, {result.seconds:.1f} s): {verdict}")
        if not result.success:
            raise typer.Exit(EXIT_FAILED)
        return
    found = system_tasks.list_tasks(instance, list(dict.fromkeys(groups)), limit=limit)
    celery = _celery_report(cli_settings())
    if as_json:
        _print_json({g: [t.model_dump() for t in ts] for g, ts in found.items()} | ({"celery": celery} if celery else {}))
        return
    if celery:
        _print_celery(celery)
    table = LiteralTable(title="Dagster runs")
    for column in ("run", "status", "clips", "launched by", "started"):
        table.add_column(column)
    for tasks_ in found.values():
        for t in tasks_:
            clips = ", ".join(t.partitions[:3]) + (f" (+{len(t.partitions) - 3})" if len(t.partitions) > 3 else "")
            table.add_row(t.run_id[:8], t.status, clips or "-", t.launched_by, t.started_at or t.created_at or "")
    if table.row_count:
        out.print(table)
    else:
        out.print("no queued, running or failed runs", highlight=False)


def _celery_report(settings) -> dict[str, Any] | None:
    """With the celery executor: queue depths, live workers and the steps each runs now; a broker that does not
    answer is said in the report (`error`), not raised: the runs are still worth showing."""
    if settings.executor != "celery":
        return None
    from catalog_assets.celery_worker import workers_report
    from catalog_resources.errors import CatalogError
    from catalog_resources.workers import check_broker, masked_url

    try:
        check_broker(settings.broker_url)
        return workers_report(settings)
    except CatalogError as exc:
        return {"broker": masked_url(settings.broker_url), "error": str(exc), "queue_depth": {}, "workers": {}}


def _print_celery(report: dict[str, Any]) -> None:
    if report.get("error"):
        out.print(literal(f"broker: {report['error']}"), highlight=False, soft_wrap=True)
        return
    depths = ", ".join(f"{q} {n}" for q, n in report["queue_depth"].items())
    out.print(literal(f"queues at {report['broker']} (steps waiting): {depths}"), highlight=False, soft_wrap=True)
    table = LiteralTable(title="Celery workers")
    for column in ("worker", "queues", "running"):
        table.add_column(column)
    for name, worker in report["workers"].items():
        table.add_row(name, ", ".join(worker["queues"]), "; ".join(worker["running"]) or "idle")
    if table.row_count:
        out.print(table)
    else:
        out.print("no worker answered (`video-catalog worker --queues ingest,processing,ai` starts one)", highlight=False)


def _print_json(data: Any) -> None:
    """JSON to stdout; a reader that stops early (`| head`) is not an error."""
    import os
    import sys

    try:
        print(json.dumps(data, indent=2, default=str))
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _say(data: dict[str, Any], as_json: bool, line: str) -> None:
    if as_json:
        _print_json(data)
    else:
        out.print(literal(line), highlight=False, soft_wrap=True)
