"""`video-catalog ui`: the Dagster webserver and daemon for this catalog, as a child process group.

`dagster dev` starts a webserver, a daemon and a code server of its own; stopping only `video-catalog` left
all of them running. So `dagster dev` gets a session (and process group) of its own, a stop signal is passed
on to it, and whatever of its group outlives a grace period is killed.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path
from typing import Annotated

import typer

from catalog_cli.common import catalog_app, handles_errors
from catalog_cli.errors import CliFault
from catalog_cli.render import err
from catalog_cli.render.text import literal

LOCATION_NAME = "video_catalog"  # the code location's name in the UI (workspace.yaml at the top level says the same)
DEFINITIONS_MODULE = "catalog_assets.definitions"
GRACE_SECONDS = 20.0  # dagster dev stops its webserver, daemon and code server in a few seconds when asked
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@handles_errors
def ui(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.", min=1, max=65535)] = 3000,
) -> None:
    """Start the Dagster webserver and daemon (sensor, queued runs) for this catalog on 127.0.0.1.

    Ctrl-C (or SIGTERM) stops the webserver, the daemon and every process they started.

    Example:
      video-catalog ui --port 3000     # then open http://127.0.0.1:3000
    """
    check_port_free(port)  # before starting anything: a second `ui` on the same port says so at once
    catalog = catalog_app()
    catalog.store  # started and migrated
    # The Dagster home prepared and the `ai` pool created at VIDEO_CATALOG_AI_POOL_LIMIT before any run: left to
    # the daemon, two runs started at once both created it (a unique-key error failed one) at the default limit.
    catalog.instance
    home = Path(os.environ["DAGSTER_HOME"])
    workspace = write_workspace(home)
    dagster = shutil.which("dagster") or str(Path(sys.executable).with_name("dagster"))
    command = [dagster, "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)]
    err.print(f"Dagster UI on http://127.0.0.1:{port} (instance {literal(str(home))}); Ctrl-C stops it.")
    # cwd = the instance folder: dagster dev warns about (and ignores) a dagster.yaml in the current folder
    raise typer.Exit(run_process_group(command, cwd=home))


def check_port_free(port: int) -> None:
    """Bind the port on 127.0.0.1 once, as the webserver will; a port in use is one line naming it and the fix.

    SO_REUSEADDR as the webserver sets it: a port left in TIME_WAIT by a `ui` just stopped is free, a listener is not.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CliFault(f"port {port} on 127.0.0.1 is already in use (another `video-catalog ui`?); stop "
                               f"that program or choose another port, e.g. video-catalog ui --port {port + 1 if port < 65535 else 3000}") from None
            raise CliFault(f"cannot listen on 127.0.0.1 port {port}: {exc.strerror}; choose another port, "
                           "e.g. video-catalog ui --port 3000") from None


def write_workspace(dagster_home: Path) -> Path:
    """The workspace `dagster dev` serves: our definitions module as the code location `video_catalog`
    (`dagster dev -m` would name the location after the module and has no option to rename it)."""
    from catalog_resources.files import write_atomic

    entry = {"python_module": {"module_name": DEFINITIONS_MODULE, "location_name": LOCATION_NAME}}
    path = dagster_home / "workspace.yaml"
    text = "# Written by `video-catalog ui` on every start.\n" + f"load_from: [{json.dumps(entry)}]\n"  # JSON is YAML
    if not path.exists() or path.read_text() != text:
        write_atomic(path, text)
    return path


def run_process_group(command: list[str], cwd: Path) -> int:
    """Run `command` as the leader of a new session and return its exit code (0 once asked to stop).

    SIGINT, SIGTERM and SIGHUP reaching this process are passed on as SIGTERM to the leader, which `dagster dev`
    treats as Ctrl-C: it shuts its webserver and daemon down over their shutdown pipes and closes its code
    server. A second signal, or GRACE_SECONDS without an exit, kills the whole group; whatever of the group
    outlives the leader (a run still going, a code server) is stopped the same way.
    """
    child = subprocess.Popen(command, cwd=cwd, start_new_session=True)
    asked: list[float] = []

    def forward(_signum: int, _frame: object) -> None:
        asked.append(time.monotonic())
        if child.returncode is not None:  # already exited and reaped: its pid may be another process's now
            return
        _signal(child.pid, signal.SIGTERM if len(asked) == 1 else signal.SIGKILL, group=len(asked) > 1)

    previous = {sig: signal.signal(sig, forward) for sig in STOP_SIGNALS}
    try:
        code = _wait(child, asked)
    finally:
        try:
            _stop_group(child)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    return 0 if asked else code


def _wait(child: subprocess.Popen, asked: list[float]) -> int:
    """The leader's exit code; the group is killed if the leader has not exited GRACE_SECONDS after a stop."""
    while True:
        try:
            return child.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            if asked and time.monotonic() - asked[0] > GRACE_SECONDS:
                _signal(child.pid, signal.SIGKILL, group=True)


def _stop_group(child: subprocess.Popen) -> None:
    """SIGTERM what is left of the leader's process group, then SIGKILL it after a few seconds."""
    if child.poll() is None:
        _signal(child.pid, signal.SIGTERM, group=False)
        with suppress(subprocess.TimeoutExpired):
            child.wait(timeout=GRACE_SECONDS)
    if not _signal(child.pid, signal.SIGTERM, group=True):
        return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if not _signal(child.pid, 0, group=True):
            return
    _signal(child.pid, signal.SIGKILL, group=True)
    with suppress(subprocess.TimeoutExpired):
        child.wait(timeout=5)


def _signal(pid: int, signum: int, *, group: bool) -> bool:
    """Send a signal to the process or its process group (same id: it leads its own session); False when gone."""
    try:
        os.killpg(pid, signum) if group else os.kill(pid, signum)
    except ProcessLookupError:
        return False
    return True
