"""Faults and rejected input through the real CLI: one line on stderr naming the cause and the fix, exit 2,
never a traceback. Covers search's inline filters, `-o` to where nothing can be written, malformed --config,
a database that is down, a full disk and an unwritable home."""

import errno
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from catalog_cli.errors import describe
from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.embeddings.service import EmbeddingService
from tests.media import copy
from tests.search_seed import seed

CLI = [sys.executable, "-m", "catalog_cli.main"]
DOC = {"clip_id": "clip-one", "transcript": "Hello there. General greeting.", "summary": "A greeting.",
       "keywords": ["hello"], "on_screen_text": "HELLO",
       "technical": {"codec": "h264", "height": 720, "fps": 25.0, "shot_type": "wide"}}


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, env=env)


def one_line_error(result: subprocess.CompletedProcess, code: int = 2) -> str:
    """The error line, after checking it is the whole of stderr, with the exit code and no traceback."""
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def no_database(tmp_path) -> dict[str, str]:
    """An environment whose database is down: the URL points at a port nothing listens on."""
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/catalog"
    return {**os.environ, "VIDEO_CATALOG_HOME": str(tmp_path / "home"), "VIDEO_CATALOG_DATABASE_URL": url,
            "VIDEO_CATALOG_DAGSTER_DATABASE_URL": url, "DAGSTER_HOME": str(tmp_path / "home" / "dagster")}


@pytest.fixture
def seeded(catalog_env):
    seed(CatalogResource(database_url=os.environ["VIDEO_CATALOG_DATABASE_URL"]), EmbeddingService(), [DOC], embed=False)
    return catalog_env


# ---- search input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "expected"), [
    ("x fps:abc", "error: search filter 'fps:abc': fps takes a number; write it like fps:25 or fps:>30"),
    ("x hdr:maybe", "error: search filter 'hdr:maybe': hdr takes yes or no (also true, on, 1, hdr, false, off, 0, sdr); "
                    "write it like hdr:yes or hdr:no"),
    ("x res:huge", "error: search filter 'res:huge': res takes one of sd, 720p, 1080p, 1440p, 4k, 8k; write it like res:4k"),
    ("x shot:portrait", "error: search filter 'shot:portrait': shot takes one of extreme-close-up, close-up, medium, "
                        "wide, no-people; write it like shot:close-up"),
    ("x after:yesterday", "error: search filter 'after:yesterday': after takes a date (or date and time, "
                          "2024-05-17T10:30); write it like after:2024-05-17"),
    ("x fps:<30", "error: search filter 'fps:<30': fps takes no < bound; write it like fps:25 or fps:>30"),
    ("x duration:60", "error: search filter 'duration:60': duration needs a > or < bound; write it like duration:>60 "
                      "or duration:<10 (seconds)"),
])
def test_rejected_inline_filter_is_one_clean_line(no_database, query, expected):
    """Checked before the database is touched (it is down here): the message names the filter and its form."""
    assert one_line_error(cli("search", query, env=no_database)) == expected


def test_accepted_inline_values_reach_the_filter(seeded):
    for query in ("hello hdr:no", "hello res:720p", "hello shot:wide", "hello hdr:false fps:25"):
        result = cli("search", query, "--mode", "text", "--json")
        assert result.returncode == 0, (query, result.stderr)
        assert [h["clip_id"] for h in json.loads(result.stdout)] == ["clip-one"], query
    assert cli("search", "hello hdr:yes", "--mode", "text").returncode == 1  # the clip is SDR: no match, no error


def test_long_query_is_echoed_in_one_short_line(seeded, no_database):
    query = "nothing " * 1250  # 10,000 characters
    result = cli("search", query, "--mode", "text")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and len(lines[0]) < 120 and lines[0].startswith("No good matches for 'nothing nothing")
    assert "…'" in lines[0]
    token = cli("search", "x fps:" + "9" * 10_000 + "a", env=no_database)
    assert len(one_line_error(token)) < 160


# ---- -o / --output ------------------------------------------------------------------------------------


def test_output_to_a_missing_folder_a_folder_or_a_forbidden_file(seeded, tmp_path):
    missing = tmp_path / "no such folder" / "hits.csv"
    for command in (["list", "--export", "csv"], ["search", "hello", "--mode", "text", "--export", "json"],
                    ["transcript", "clip-one", "--srt"]):
        line = one_line_error(cli(*command, "-o", str(missing)))
        assert line == (f"error: cannot write {missing}: the folder {missing.parent} does not exist; create it "
                        f"(mkdir -p {missing.parent}) or choose another --output"), command
    line = one_line_error(cli("list", "--export", "json", "-o", str(tmp_path)))
    assert line.startswith(f"error: cannot write {tmp_path}: it is a folder; give a file name")
    if os.geteuid() == 0:
        forbidden = Path("/sys/video-catalog-test.csv")  # sysfs refuses new files even to root
    else:
        (tmp_path / "locked").mkdir(mode=0o500)
        forbidden = tmp_path / "locked" / "hits.csv"
    line = one_line_error(cli("transcript", "clip-one", "-o", str(forbidden)))
    assert line == f"error: cannot write {forbidden}: permission denied; choose a file in a folder you can write to"
    written = tmp_path / "ok.srt"
    assert cli("transcript", "clip-one", "--srt", "-o", str(written)).returncode == 0
    assert "Hello there." in written.read_text()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_disk_full_while_writing_names_the_path_and_the_fix(seeded):
    for command in (["list", "--export", "csv"], ["transcript", "clip-one"]):
        line = one_line_error(cli(*command, "-o", "/dev/full"))
        assert line.startswith("error: disk full (/dev/full): No space left on device; free space there, then re-run "
                               "the same command"), command


# ---- --config -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "problem"), [
    ('{"steps": "x"}', 'steps: "x" is not an object of step names'),
    ('{"steps": {"proxy": "maybe"}}', 'steps.proxy: "maybe" is not true or false'),
    ('["proxy"]', 'the file holds ["proxy"], not an object'),
    ('{"step": {"proxy": false}}', "unknown key 'step' (the keys are steps, enable, disable)"),
    ('{"disable": "proxy"}', 'disable: "proxy" is not a list of step names'),
])
def test_malformed_config_is_one_line(no_database, tmp_path, content, problem):
    config = tmp_path / "pipeline.json"
    config.write_text(content)
    line = one_line_error(cli("ingest", str(tmp_path), "--config", str(config), env=no_database))
    assert line == (f'error: {config}: {problem}; expected {{"steps": {{"ai_analysis": false}}}} or '
                    f'{{"enable": [...], "disable": [...]}}')


# ---- environment faults --------------------------------------------------------------------------------


def test_database_down_is_one_line_for_every_command(no_database, tmp_path, media_library):
    folder = tmp_path / "footage"
    copy(media_library["h264_720p.mp4"], folder / "a.mp4")
    for command in (["list"], ["show", "abcd1234"], ["search", "hello", "--mode", "text"], ["transcript", "abcd1234"],
                    ["similar", "abcd1234"], ["refresh", "--stale"], ["ingest", str(folder)], ["db", "status"]):
        line = one_line_error(cli(*command, env=no_database))
        assert "video-catalog db start" in line and "connect" in line, (command, line)


@pytest.mark.slow
def test_dagster_storage_down_is_one_line(catalog_env, tmp_path, media_library):
    folder = tmp_path / "footage"
    copy(media_library["h264_720p.mp4"], folder / "a.mp4")
    env = {**os.environ, "VIDEO_CATALOG_DAGSTER_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{closed_port()}/d"}
    line = one_line_error(cli("ingest", str(folder), env=env))
    assert line.startswith("error: the database connection was lost or refused (connection to server at")
    assert "`video-catalog db start`" in line and "re-run the same command: it resumes where it stopped" in line


def test_unwritable_home_is_one_line(catalog_env, tmp_path, media_library):
    folder = tmp_path / "footage"
    copy(media_library["h264_720p.mp4"], folder / "a.mp4")
    if os.geteuid() == 0:
        home = Path("/sys/video-catalog-test-home")  # sysfs refuses new folders even to root
    else:
        (tmp_path / "locked").mkdir(mode=0o500)
        home = tmp_path / "locked" / "home"
    env = {**os.environ, "VIDEO_CATALOG_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    line = one_line_error(cli("ingest", str(folder), env=env))
    assert line == (f"error: permission denied ({home}): the catalog home {home} must be yours and writable "
                    "(chown/chmod u+rwX it) or set VIDEO_CATALOG_HOME to a folder you own")


def test_connection_lost_mid_command_is_recognised(catalog_env):
    """A real connection killed by the server (as when it is stopped mid-run), seen through a wrapping error."""
    url = os.environ["VIDEO_CATALOG_DATABASE_URL"]
    victim = psycopg.connect(url)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (victim.info.backend_pid,))
    with pytest.raises(psycopg.OperationalError) as lost:
        victim.execute("SELECT 1")
    try:
        raise RuntimeError("step failed") from lost.value
    except RuntimeError as wrapped:
        fault = describe(wrapped)
    assert fault is not None and fault.code == 2
    assert fault.message.startswith("the database connection was lost or refused (")
    assert "`video-catalog db start`" in fault.message and "resumes where it stopped" in fault.message


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_disk_full_from_the_system_is_recognised_in_a_chain():
    try:
        with open("/dev/full", "w") as full:
            full.write("x" * 10)
            full.flush()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
        try:
            raise RuntimeError("a step failed") from exc
        except RuntimeError as wrapped:
            fault = describe(wrapped)
    assert fault is not None and fault.message.startswith("disk full: No space left on device; free space there")


def test_the_catalog_error_family_maps_to_exit_codes_in_one_place():
    """Any CatalogError anywhere in a chain is the line to print, with its own exit code; other exceptions are
    defects (None) unless they are a known database or OS fault."""
    from catalog_cli.errors import CliFault
    from catalog_resources.errors import EXIT_FAILED, EXIT_USAGE, MediaError, SetupError, UsageError

    try:
        try:
            raise SetupError("ffprobe is missing: install ffmpeg (apt install ffmpeg)")
        except SetupError as inner:
            raise RuntimeError("step technical_metadata failed") from inner
    except RuntimeError as wrapped:
        fault = describe(wrapped)
    assert fault is not None and (fault.message, fault.code) == (
        "ffprobe is missing: install ffmpeg (apt install ffmpeg)", EXIT_USAGE)
    assert describe(UsageError("unknown step 'x'")).code == EXIT_USAGE
    assert describe(MediaError("clip.mov: not a video")).message == "clip.mov: not a video"
    assert describe(CliFault("no clips matched", code=EXIT_FAILED)).code == EXIT_FAILED
    assert describe(KeyError("a defect")) is None
    assert isinstance(UsageError("x"), ValueError)  # older `except ValueError` callers still catch it


def test_what_a_library_writes_to_stderr_goes_to_the_error_log(tmp_path, monkeypatch, capsys):
    """Dagster writes some failures straight to sys.stderr (a database stopped mid-run); while a command runs
    they go to the error log, and only the CLI's own lines reach the terminal."""
    import sys

    from catalog_cli.errors import library_stderr_to_log
    from catalog_cli.render import err

    monkeypatch.setenv("VIDEO_CATALOG_HOME", str(tmp_path))
    with library_stderr_to_log():
        sys.stderr.write("Exception while writing logger call to event log: server closed the connection\n")
        sys.stderr.write("[SQL: INSERT INTO event_logs ...]")
        err.print("error: the database connection was lost")
    captured = capsys.readouterr().err
    assert captured.strip() == "error: the database connection was lost"
    log = (tmp_path / "logs" / "errors.log").read_text()
    assert "stderr: Exception while writing logger call to event log" in log and "stderr: [SQL: INSERT" in log
    sys.stderr.write("after\n")  # restored
    assert capsys.readouterr().err == "after\n"
