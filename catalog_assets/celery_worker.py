"""`video-catalog worker`: a Celery worker, through dagster-celery's app and task, that runs the steps of celery runs.

The app is built from the same executor config the runs send with (catalog_resources/workers.py), so both sides
agree on broker, result store and late acknowledgement. The task is dagster-celery's own `execute_plan`: it
rebuilds the job from the run's pointer (catalog_assets/executors.py `worker_job`, which reads this process's
catalog settings), opens the Dagster instance from the run's reference (the storage URL comes from this process's
environment, set by `prepare_dagster_home`) and writes the step's events to it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from pydantic import BaseModel

from catalog_resources.settings import CatalogSettings
from catalog_resources.store.dagster_home import prepare_dagster_home
from catalog_resources.store.endpoint import resolve_database
from catalog_resources.workers import (
    celery_executor_config, check_broker, check_media_store, masked_url, step_task_lock,
)


class WorkerPlan(BaseModel):
    """What a worker will do, said before it starts."""

    name: str
    queues: list[str]
    concurrency: int
    broker: str
    media_dir: str
    dagster_home: str


def prepare_worker(settings: CatalogSettings, queues: Sequence[str], concurrency: int, name: str | None) -> WorkerPlan:
    """Every check a worker makes before taking work, each a one-line CatalogError: the media store is here, the
    database answers, the broker answers. Then the Dagster home and storage URL are exported for the steps."""
    media = check_media_store(settings)
    endpoint = resolve_database(settings, start=True)  # the embedded server on this machine, else the URL given
    _ping_database(endpoint.catalog_url)
    home = prepare_dagster_home(settings, endpoint)
    check_broker(settings.broker_url)
    return WorkerPlan(name=name or f"video-catalog-{os.getpid()}", queues=list(queues), concurrency=concurrency,
                      broker=settings.broker_url, media_dir=str(media), dagster_home=str(home))


def _ping_database(url: str) -> None:
    """Connect once and close, before the pool forks: a child must not inherit an open connection."""
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as conn:
        conn.execute("SELECT 1")


def celery_app(settings: CatalogSettings):
    """dagster-celery's app with the catalog's config and its step task registered (what `-A dagster_celery.app`
    gives its own CLI, without the config module it writes to disk)."""
    from dagster_celery.executor import CeleryExecutor
    from dagster_celery.make_app import make_app

    config = celery_executor_config(settings)
    app = make_app(CeleryExecutor.for_cli(**config).app_args())
    register_step_task(app, settings)
    return app


def register_step_task(app, settings: CatalogSettings) -> None:
    """dagster-celery's step task (same name, same body) that runs a step once however often Redis delivers it.

    With late acknowledgement Redis gives a task out again when its visibility timeout passes before the ack: that
    is how a dead worker's step is taken over, but a step that is merely long (a 2-hour clip's transcript) would be
    executed a second time, its products rewritten after the steps below had read them (they turn stale). A copy
    waits for the first delivery under a lock (catalog_resources/workers.py) and answers with its stored result;
    it runs the step only when the first one's worker died before storing one."""
    from celery import Celery
    from dagster_celery.config import TASK_EXECUTE_PLAN_NAME
    from dagster_celery.tasks import create_task

    # its body, unbound, from a throwaway app; not shared: a shared task joins every app made later, and which of
    # two tasks of one name an app keeps would then depend on set order
    run_step = create_task(Celery(set_as_current=False), shared=False).__wrapped__.__func__

    def execute_plan(self, execute_step_args_packed, executable_dict):
        catalog_url = resolve_database(settings, start=False).catalog_url
        with step_task_lock(catalog_url, self.request.id):
            earlier = self.AsyncResult(self.request.id)
            if earlier.ready():  # this is a copy: the step ran to its end already
                return earlier.result if earlier.successful() else []
            events = run_step(self, execute_step_args_packed, executable_dict)
            self.backend.store_result(self.request.id, events, "SUCCESS", request=self.request)  # before unlocking
            return events

    if TASK_EXECUTE_PLAN_NAME in app.tasks:  # (finalizes the app) dagster-celery's own, shared by an import
        app.tasks.unregister(TASK_EXECUTE_PLAN_NAME)
    app.task(bind=True, name=TASK_EXECUTE_PLAN_NAME, shared=False)(execute_plan)


def run_worker(settings: CatalogSettings, plan: WorkerPlan, loglevel: str = "WARNING", logfile: str | None = None) -> None:
    """Run the worker in this process until it is stopped; Ctrl-C (SIGINT) or SIGTERM is Celery's warm shutdown:
    the steps running finish, the ones not started stay on the broker for another worker."""
    import catalog_assets.definitions  # noqa: F401 - loaded once here, so every pool process forks with it

    app = celery_app(settings)
    argv = ["worker", "--queues", ",".join(plan.queues), "--hostname", f"{plan.name}@%h",
            "--concurrency", str(plan.concurrency), "--prefetch-multiplier", "1", "--loglevel", loglevel,
            "--without-mingle", "--without-gossip", "--pool", "prefork", *(["--logfile", logfile] if logfile else [])]
    app.worker_main(argv=argv)


def workers_report(settings: CatalogSettings, timeout: float = 2.0) -> dict:
    """What `system tasks` shows of the workers: queue depths on the broker, each live worker with its queues and
    the steps it runs now (Celery's inspect, one broadcast answered within `timeout`)."""
    import redis

    from catalog_resources.workers import QUEUES

    client = redis.Redis.from_url(settings.broker_url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        # kombu keeps one Redis list per queue and priority step (0, 3, 6, 9; `queue\x06\x16<n>` for n > 0)
        depths = {q: sum(int(client.llen(key)) for key in [q, *(f"{q}\x06\x16{n}" for n in (3, 6, 9))])
                  for q in QUEUES}
    finally:
        client.close()
    inspect = celery_app(settings).control.inspect(timeout=timeout)
    active = inspect.active() or {}
    queues = inspect.active_queues() or {}
    workers = {}
    for name in sorted(set(active) | set(queues)):
        workers[name] = {
            "queues": sorted(q["name"] for q in queues.get(name, [])),
            "running": [_step_of(task) for task in active.get(name, [])],
        }
    return {"broker": masked_url(settings.broker_url), "queue_depth": depths, "workers": workers}


def _step_of(task: dict) -> str:
    """`step_key (run id prefix)` of an active execute_plan task, from its packed arguments."""
    args = (task.get("kwargs") or {}).get("execute_step_args_packed") or {}
    keys = args.get("step_keys_to_execute") or []
    run_id = str(args.get("run_id") or "")[:8]
    return f"{', '.join(keys) or task.get('name', '?')} ({run_id})" if run_id else ", ".join(keys) or task.get("name", "?")
