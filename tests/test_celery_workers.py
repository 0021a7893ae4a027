"""Steps on Celery workers (issue 20): a real Redis broker started here, `video-catalog worker` processes on their
own queues, ingests with VIDEO_CATALOG_EXECUTOR=celery read back from the catalog and Dagster's step events."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from catalog_resources.media.samples import ClipSpec, make_clip

pytestmark = pytest.mark.slow
VC = str(Path(sys.executable).with_name("video-catalog"))
PATTERNS = ("testsrc2", "smptebars", "rgbtestsrc", "mandelbrot", "testsrc", "yuvtestsrc")
AI_STEPS = {"ai_analysis", "embeddings"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """redis-server on a free port, nothing saved to disk; stop() and start() again on the same port."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port, self.process = folder, free_port(), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is missing: `make test` installs it (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        pytest.fail("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def six_clips(tmp_path_factory) -> Path:
    """Six short, small clips of different content (six fingerprints)."""
    folder = tmp_path_factory.mktemp("six")
    for i, pattern in enumerate(PATTERNS):
        make_clip(folder / f"clip{i}.mp4", ClipSpec(name=f"clip{i}.mp4", width=320, height=180, fps=25,
                                                     seconds=1 + i * 0.1, pattern=pattern))
    return folder


def celery_environ(broker: str, **extra: str) -> dict[str, str]:
    """This test's catalog (catalog_env exported it) on the celery executor."""
    return {**os.environ, "VIDEO_CATALOG_EXECUTOR": "celery", "VIDEO_CATALOG_BROKER_URL": broker,
            "VIDEO_CATALOG_CELERY_RUNS": "3", **extra}


class Workers:
    """`video-catalog worker` processes, each in a session of its own (so a kill takes its pool with it)."""

    def __init__(self, env: dict[str, str], home: Path) -> None:
        self.env, self.home, self.processes, self.killed = env, home, {}, set()

    def start(self, name: str, queues: str) -> subprocess.Popen:
        """Its output goes to a file (a pipe nobody reads would block a chatty worker once full)."""
        with open(self.home / f"worker-{name}.out", "a") as log:
            process = subprocess.Popen([VC, "worker", "--queues", queues, "--concurrency", "1", "--name", name,
                                        "--log-level", "INFO"], env=self.env, start_new_session=True,
                                       stdout=log, stderr=subprocess.STDOUT, text=True)
        self.processes[name] = process
        return process

    def log(self, name: str) -> Path:
        """Where `video-catalog worker` logs (its --log-file default)."""
        return self.home / "logs" / f"worker-{name}.log"

    def logs(self, tail: int = 4000) -> str:
        """The end of every worker's output and log, for an assertion message."""
        texts = []
        for name in self.processes:
            for path in (self.home / f"worker-{name}.out", self.log(name)):
                text = path.read_text(errors="replace")[-tail:] if path.exists() else "(none)"
                texts.append(f"--- {path.name}\n{text}")
        return "\n".join(texts)

    def wait_ready(self, timeout: float = 90) -> None:
        """Every worker answers Celery's ping."""
        from catalog_assets.celery_worker import celery_app
        from catalog_resources.settings import CatalogSettings

        app = celery_app(CatalogSettings(broker_url=self.env["VIDEO_CATALOG_BROKER_URL"]))
        wanted = {f"{name}@{socket.gethostname()}" for name, p in self.processes.items() if p.poll() is None}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                assert process.poll() is None or name in self.killed, f"worker {name} exited: {self.logs()}"
            try:
                answered = {n for reply in (app.control.ping(timeout=1) or []) for n in reply}
            except Exception:  # noqa: BLE001 - a broker just restarted drops the first connection
                answered = set()
                time.sleep(0.5)
            if wanted <= answered:
                return
        pytest.fail(f"workers not ready: {wanted - answered}")

    def kill(self, name: str) -> None:
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait(10)
        self.killed.add(name)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


@pytest.fixture
def workers(catalog_env, redis_server) -> Iterator[Workers]:
    catalog_env.media_dir.mkdir(parents=True, exist_ok=True)  # the shared media store every worker checks for
    pool = Workers(celery_environ(redis_server.url, VIDEO_CATALOG_WORKER_REDELIVER_SECONDS="10"), catalog_env.home)
    yield pool
    pool.stop()


def ingest(folder: Path, env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([VC, "ingest", "--json", str(folder)], capture_output=True, text=True, env=env,
                          timeout=timeout)


def statuses(env: dict[str, str]) -> dict[str, str]:
    listed = json.loads(subprocess.run([VC, "list", "--json"], capture_output=True, text=True, env=env,
                                       check=True).stdout)
    return {c["clip_id"]: c["status"] for c in listed}


def step_workers() -> list[tuple[str, str, str]]:
    """(run id, step key, worker) of every step a worker took, from dagster-celery's engine event on the step."""
    from dagster import DagsterEventType, DagsterInstance

    from catalog_resources.settings import CatalogSettings
    from catalog_resources.store.dagster_home import prepare_dagster_home
    from catalog_resources.store.endpoint import resolve_database

    settings = CatalogSettings()
    prepare_dagster_home(settings, resolve_database(settings))
    with DagsterInstance.get() as instance:
        taken = []
        for run in instance.get_runs():
            for entry in instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT):
                data = entry.dagster_event.engine_event_data
                worker = data.metadata.get("Celery worker") if data and data.metadata else None
                if worker is not None:
                    taken.append((run.run_id, entry.step_key, str(worker.value).split("@")[0]))
        return taken


def catalog_rows(sql: str) -> list[tuple]:
    with psycopg.connect(os.environ["VIDEO_CATALOG_DATABASE_URL"]) as conn:
        return conn.execute(sql).fetchall()


def test_six_clips_on_two_workers_each_queue_honoured(catalog_env, workers, six_clips):
    workers.start("front", "ingest,processing")
    workers.start("models", "processing,ai")
    workers.wait_ready()
    result = ingest(six_clips, workers.env)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert len(summary["new"]) == 6 and not summary["failed"], summary
    assert set(statuses(workers.env).values()) == {"complete"}
    assert len(catalog_rows("SELECT clip_id FROM catalog_records")) == 6
    taken = step_workers()
    by_worker: dict[str, set[str]] = {}
    for _run, step, worker in taken:
        by_worker.setdefault(worker, set()).add(step.split("_check")[0] if step else "")
    assert set(by_worker) == {"front", "models"}, by_worker  # both worked
    ai_on = {w for _r, step, w in taken if step in AI_STEPS}
    ingest_on = {w for _r, step, w in taken if step in ("clip_source", "technical_metadata")}
    assert ai_on == {"models"} and ingest_on == {"front"}, taken  # each queue only where a worker listens to it
    assert {step for _r, step, _w in taken} >= {"clip_source", "proxy", "ai_analysis", "embeddings", "catalog_record"}
    tasks = subprocess.run([VC, "system", "tasks", "--json"], capture_output=True, text=True, env=workers.env)
    assert tasks.returncode == 0, tasks.stderr
    report = json.loads(tasks.stdout)["celery"]
    host = socket.gethostname()
    assert report["queue_depth"] == {"ingest": 0, "processing": 0, "ai": 0}, report
    assert {n: w["queues"] for n, w in report["workers"].items()} == {
        f"front@{host}": ["ingest", "processing"], f"models@{host}": ["ai", "processing"]}, report


def test_worker_killed_mid_step_its_step_is_redelivered(catalog_env, workers, six_clips, tmp_path):
    folder = tmp_path / "four"
    folder.mkdir()
    for name in sorted(os.listdir(six_clips))[:4]:
        shutil.copy2(six_clips / name, folder / name)
    workers.start("doomed", "ai")  # its first step loads the speech model: it is killed in the middle of that
    workers.start("survivor", "ingest,processing,ai")
    workers.wait_ready()
    running = subprocess.Popen([VC, "ingest", "--json", str(folder)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=workers.env)
    deadline = time.monotonic() + 300
    while not any(w == "doomed" for _r, _s, w in step_workers()):  # a step has started on it
        assert time.monotonic() < deadline and running.poll() is None, running.communicate()
        time.sleep(0.5)
    workers.kill("doomed")
    killed_at = step_workers()
    out, err = running.communicate(timeout=900)
    assert running.returncode == 0, (err[-3000:], workers.logs())
    assert set(statuses(workers.env).values()) == {"complete"} and len(statuses(workers.env)) == 4
    doomed = {(r, s) for r, s, w in killed_at if w == "doomed"}
    after = {(r, s) for r, s, w in step_workers() if w == "survivor"}
    assert doomed & after, (doomed, after)  # at least the step it died in was taken again by the survivor


def test_a_step_outlasting_the_visibility_timeout_runs_once(catalog_env, redis_server, tmp_path):
    """Redis hands a step out again when it is not acknowledged within the visibility timeout (5 s here), as it must
    for a dead worker's step; a step that is merely long must still run once, or the steps below it turn stale."""
    folder = tmp_path / "long"
    make_clip(folder / "long take.mp4", ClipSpec(name="long take.mp4", width=640, height=360, seconds=60))
    catalog_env.media_dir.mkdir(parents=True, exist_ok=True)
    pool = Workers(celery_environ(redis_server.url, VIDEO_CATALOG_WORKER_REDELIVER_SECONDS="5"), catalog_env.home)
    try:
        pool.start("patient", "ingest,processing,ai")
        pool.wait_ready()
        result = ingest(folder, pool.env)
        assert result.returncode == 0, (result.stderr[-3000:], pool.logs())
        assert list(statuses(pool.env).values()) == ["complete"]  # nothing stale: no product rewritten under another
        received = Counter(re.findall(r"Task execute_plan\[([0-9a-f-]+)\] received", pool.log("patient").read_text()))
        assert max(received.values()) > 1, received  # some step outlasted the timeout and was handed out again
        executed = Counter((run, step) for run, step, _worker in step_workers())
        assert set(executed.values()) == {1}, executed  # ... and every step was executed once
    finally:
        pool.stop()


def test_broker_down_is_one_line_and_nothing_is_lost(catalog_env, six_clips, tmp_path):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    env = celery_environ(dead)
    result = ingest(six_clips, env, timeout=300)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and dead in lines[0] and "redis-server" in lines[0], result.stderr
    catalog_env.media_dir.mkdir(parents=True, exist_ok=True)
    worker = subprocess.run([VC, "worker", "--queues", "ai"], capture_output=True, text=True, env=env, timeout=120)
    assert worker.returncode == 2 and dead in worker.stderr and len(worker.stderr.strip().splitlines()) == 1
    # nothing is lost: the clips were found and stay registered, waiting for the next ingest
    assert all(s != "complete" for s in statuses(env).values())


def test_broker_stopped_mid_ingest_one_line_then_the_same_ingest_finishes(catalog_env, workers, six_clips, tmp_path,
                                                                            redis_server):
    folder = tmp_path / "three"
    folder.mkdir()
    for name in sorted(os.listdir(six_clips))[:3]:
        shutil.copy2(six_clips / name, folder / name)
    workers.start("steady", "ingest,processing,ai")
    workers.wait_ready()
    running = subprocess.Popen([VC, "ingest", "--json", str(folder)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=workers.env)
    deadline = time.monotonic() + 300
    while not step_workers():  # the ingest has steps on the worker
        assert time.monotonic() < deadline and running.poll() is None, running.communicate()
        time.sleep(0.3)
    redis_server.stop()
    try:
        _out, err = running.communicate(timeout=300)
        assert running.returncode == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and redis_server.url in lines[0] and "re-run the same command" in lines[0], err
    finally:
        redis_server.start()  # same port: the worker reconnects on its own
    workers.wait_ready()
    again = ingest(folder, workers.env)
    assert again.returncode == 0, (again.stdout, again.stderr[-3000:], workers.logs())
    assert set(statuses(workers.env).values()) == {"complete"} and len(statuses(workers.env)) == 3


def test_worker_without_the_media_store_names_the_path(catalog_env, redis_server):
    env = celery_environ(redis_server.url)
    shutil.rmtree(catalog_env.media_dir, ignore_errors=True)
    result = subprocess.run([VC, "worker"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2
    assert str(catalog_env.media_dir) in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_ctrl_c_stops_an_idle_worker_cleanly(catalog_env, workers):
    process = workers.start("brief", "ingest")
    workers.wait_ready()
    process.send_signal(signal.SIGINT)  # what Ctrl-C sends: Celery's warm shutdown
    assert process.wait(60) == 0, workers.logs()


def test_every_launch_path_gets_the_configured_executor(catalog_env):
    """The UI's Materialize and backfills (the implicit asset job), the footage and retry sensors (the ingest job)
    and `ingest` all run with the executor the settings name; in process unless it is celery."""
    from catalog_assets.definitions import build_definitions
    from catalog_assets.graph import INGEST_JOB_NAME

    for name, expected in (("in_process", "in_process"), ("celery", "celery")):
        defs = build_definitions(catalog_env.model_copy(update={"executor": name}))
        assert defs.resolve_job_def(INGEST_JOB_NAME).executor_def.name == expected
        assert defs.resolve_implicit_global_asset_job_def().executor_def.name == expected
        for sensor in ("footage_sensor", "footage_batch_retry"):
            assert defs.resolve_sensor_def(sensor).job_name == INGEST_JOB_NAME
