"""`video-catalog ui` as a user runs it: a real subprocess serving the code location `video_catalog`, stopped by
SIGTERM with nothing of it left running, and a port already in use refused in one line."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "catalog_cli.main"]
LOCATIONS = "{ workspaceOrError { __typename ... on Workspace { locationEntries { name locationOrLoadError { __typename } } } } }"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(port: int, query: str) -> dict | None:
    """The webserver's answer, or None while it does not answer yet."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
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


@pytest.mark.slow
def test_ui_serves_the_video_catalog_location_and_sigterm_stops_every_process(catalog_env, tmp_path):
    home, port = catalog_env.home, free_port()
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
