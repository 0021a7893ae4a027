"""`video-catalog worker`: take the steps of celery runs from the broker's queues, on this machine."""

from __future__ import annotations

from typing import Annotated

import typer

from catalog_cli.common import cli_settings, handles_errors
from catalog_cli.render import err
from catalog_cli.render.text import literal


@handles_errors
def worker(
    queues: Annotated[str, typer.Option("--queues", "-Q", help="Queues to take steps from, comma separated: ingest (clip_source, technical_metadata), processing (proxy, thumbnails, frame_analysis, faces, catalog_record), ai (ai_analysis, embeddings).")] = "ingest,processing,ai",
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, help="Steps this worker runs at once (one process each).")] = 1,
    name: Annotated[str | None, typer.Option("--name", help="Worker name (unique per machine); default video-catalog-<pid>.")] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="Celery's log level: DEBUG, INFO, WARNING, ERROR.")] = "WARNING",
) -> None:
    """Run a worker for the celery executor (VIDEO_CATALOG_EXECUTOR=celery): it takes steps from the broker at
    VIDEO_CATALOG_BROKER_URL and writes into the same catalog as every other machine (same database, same
    VIDEO_CATALOG_HOME/media path). Ctrl-C lets the steps running finish, then stops; steps not started stay
    queued for another worker. Its log is <home>/logs/worker-<name>.log.

    Examples:
      video-catalog worker --queues ingest,processing,ai
      video-catalog worker --queues ai --concurrency 1 --name gpu-box
    """
    from catalog_assets.celery_worker import prepare_worker, run_worker
    from catalog_resources.workers import masked_url, parse_queues

    settings = cli_settings()
    plan = prepare_worker(settings, parse_queues(queues), concurrency, name)
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    logfile = logs / f"worker-{plan.name}.log"
    err.print(literal(f"worker {plan.name}: queues {', '.join(plan.queues)}, {plan.concurrency} at once, broker "
                      f"{masked_url(plan.broker)}, media {plan.media_dir}; log {logfile}; Ctrl-C stops it"),
              highlight=False, soft_wrap=True)
    run_worker(settings, plan, loglevel=log_level.upper(), logfile=str(logfile))
