"""`video-catalog ui` as a user runs it: a real subprocess serving the code location `video_catalog`, where a
launch from the asset graph runs in-process, stopped by SIGTERM with nothing of it left running, and a port
already in use refused in one line."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.media import register_clip

CLI = [sys.executable, "-m", "catalog_cli.main"]
LOCATIONS = "{ workspaceOrError { __typename ... on Workspace { locationEntries { name locationOrLoadError { __typename } } } } }"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


LAUNCH = """mutation Launch($params: ExecutionParams!) { launchPipelineExecution(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
RUN_STATUS = "query Status($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status } } }"
PARTITIONS = """query Partitions { assetNodeOrError(assetKey: {path: ["clip_source"]}) {
  ... on AssetNode { partitionKeys } } }"""


def graphql(port: int, query: str, **variables) -> dict | None:
    """The webserver's answer, or None while it does not answer yet."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        return json.loads(urllib.request.urlopen(request, timeout=5).read())
    except OSError:
        return None


def processes_of(home: Path, port: int) -> dict[int, str]:
    """Every process (but this one) started for this catalog home: its environment names the home (inherited by
    every descendant of `ui`), or its command line names the home or the port."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or a kernel thread
            continue
        if f"VIDEO_CATALOG_HOME={home}".encode() in environ or str(home) in cmdline or f" {port} " in f"{cmdline} ":
            if (entry / "stat").read_text().split(") ")[-1].split()[0] != "Z":  # a zombie is already dead
                found[int(entry.name)] = cmdline.strip()
    return found


def test_ui_refuses_a_port_in_use_in_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "VIDEO_CATALOG_HOME": str(tmp_path / "home")}
        result = subprocess.run([*CLI, "ui", "--port", str(port)], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"port {port} on 127.0.0.1 is already in use" in lines[0], result.stderr
    assert f"--port {port + 1}" in lines[0]
    assert not (tmp_path / "home").exists()  # refused before anything was started or written


def materialize_from_the_ui(port: int, key: str, assets: list[str]) -> str:
    """What the asset graph's "Materialize" sends for one partition: a run of the implicit asset job, queued,
    started by the daemon through the code server; waits for it to finish and returns its id."""
    selector = {"repositoryLocationName": "video_catalog", "repositoryName": "__repository__",
                "pipelineName": "__ASSET_JOB", "assetSelection": [{"path": [name]} for name in assets]}
    params = {"selector": selector, "mode": "default", "runConfigData": {},
              "executionMetadata": {"tags": [{"key": "dagster/partition", "value": key}]}}
    launched = graphql(port, LAUNCH, params=params)["data"]["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline, status = time.monotonic() + 120, None
    while status not in ("SUCCESS", "FAILURE", "CANCELED") and time.monotonic() < deadline:
        time.sleep(1)
        status = graphql(port, RUN_STATUS, id=run_id)["data"]["runOrError"]["status"]
    assert status == "SUCCESS", status
    return run_id


def filtered_partitions(port: int, asset: str, text: str) -> list[str]:
    """The partitions the asset's Partitions page lists after typing `text` in its filter, in Debian's chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/assets/{asset}?view=partitions", wait_until="networkidle")
            page.get_by_placeholder("Filter by name").fill(text)
            page.wait_for_timeout(1000)
            # each listed partition shows its key shortened in the middle, the whole key as its title
            titles = [row.get_attribute("title") or "" for row in page.locator("[title]").all()]
            return [title for title in titles if re.fullmatch(r".+-[0-9a-f]{16}", title)]
        finally:
            browser.close()


def dagster_instance():
    """The catalog's Dagster instance, as the CLI opens it."""
    from dagster import DagsterInstance

    from catalog_resources.settings import CatalogSettings
    from catalog_resources.store.dagster_home import prepare_dagster_home
    from catalog_resources.store.endpoint import resolve_database

    settings = CatalogSettings()
    prepare_dagster_home(settings, resolve_database(settings))
    return DagsterInstance.get()


def assert_ran_in_one_process(run_id: str) -> None:
    """No step worker was started: every step ran in the run's own process."""
    from dagster import DagsterEventType

    with dagster_instance() as instance:
        events = [entry.dagster_event for entry in instance.all_logs(run_id) if entry.is_dagster_event]
    types = {event.event_type for event in events}
    assert DagsterEventType.STEP_WORKER_STARTING not in types and DagsterEventType.STEP_WORKER_STARTED not in types
    (run_start,) = [event for event in events if event.event_type == DagsterEventType.RUN_START]
    steps = [event for event in events if event.event_type == DagsterEventType.STEP_SUCCESS]
    assert {event.step_key for event in steps} >= {"clip_source", "technical_metadata", "thumbnails"}
    assert {event.pid for event in steps} == {run_start.pid}


@pytest.mark.slow
def test_ui_serves_the_video_catalog_location_and_sigterm_stops_every_process(catalog_env, media_library, tmp_path):
    home, port = catalog_env.home, free_port()
    key = register_clip(media_library, tmp_path)
    with dagster_instance() as instance:  # as on a home where `ui` is the first command: no `ai` pool yet
        instance.event_log_storage.delete_concurrency_limit("ai")
    log = (tmp_path / "ui.log").open("w")
    ui = subprocess.Popen([*CLI, "ui", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline, answer = time.monotonic() + 90, None
        while answer is None and time.monotonic() < deadline:
            assert ui.poll() is None, (tmp_path / "ui.log").read_text()[-3000:]
            time.sleep(1)
            answer = graphql(port, LOCATIONS)
        assert answer is not None, "the UI did not answer within 90 s"
        entries = answer["data"]["workspaceOrError"]["locationEntries"]
        assert [e["name"] for e in entries] == ["video_catalog"]
        assert entries[0]["locationOrLoadError"]["__typename"] == "RepositoryLocation", entries
        with dagster_instance() as instance:  # made by `ui` before any run, at the catalog's limit (not the default 2)
            assert instance.event_log_storage.get_concurrency_info("ai").slot_count == catalog_env.ai_pool_limit == 1

        # item 4: the partition list (and its filter) shows the clip by its file name
        assert graphql(port, PARTITIONS)["data"]["assetNodeOrError"]["partitionKeys"] == [key]
        assert key.startswith("short.mp4-")
        assert filtered_partitions(port, "clip_source", "SHORT") == filtered_partitions(port, "clip_source", "short")
        assert len(filtered_partitions(port, "clip_source", "short")) == 1
        assert filtered_partitions(port, "clip_source", "interview") == []

        # item 3: a launch from the asset graph runs its steps in the run's process, as ingest_job does
        assert_ran_in_one_process(materialize_from_the_ui(port, key, ["clip_source", "technical_metadata", "thumbnails"]))

        second = subprocess.run([*CLI, "ui", "--port", str(port)], capture_output=True, text=True, timeout=60)
        assert second.returncode == 2 and len(second.stderr.strip().splitlines()) == 1, second.stderr
        assert f"port {port} on 127.0.0.1 is already in use" in second.stderr

        running = processes_of(home, port)
        assert len(running) >= 4, running  # ui, dagster dev, its webserver, daemon and code server
        ui.send_signal(signal.SIGTERM)
        assert ui.wait(timeout=30) == 0, (tmp_path / "ui.log").read_text()[-3000:]
        deadline = time.monotonic() + 20
        while processes_of(home, port) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert processes_of(home, port) == {}, f"left running after SIGTERM: {processes_of(home, port)}"
    finally:
        for pid in processes_of(home, port):  # never leave a webserver behind for the next test
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        log.close()
