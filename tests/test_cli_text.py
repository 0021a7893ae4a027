"""User and footage text is printed literally by the real CLI: `[/]` and `[bold]` in ids, paths, file names,
transcripts and queries neither crash Rich nor style the output, `:smile:` stays text, and terminal escape
sequences in a file name reach the terminal only as visible `\\x1b`, never as the byte."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.embeddings.service import EmbeddingService
from tests.media import copy
from tests.search_seed import seed

CLI = [sys.executable, "-m", "catalog_cli.main"]
# An id (and so a file name and path, see tests/search_seed.py) with markup, emoji codes and control characters.
HOSTILE_ID = "e[/]v[bold]:smile:\x1b[31m\x07"
HOSTILE_ID_SHOWN = "e[/]v[bold]:smile:\\x1b[31m\\x07"
HOSTILE_DOC = {
    "clip_id": HOSTILE_ID,
    "transcript": "We sell [bold]pizza[/] by the :pizza: slice.\x1b[2J Then \x1b]0;pwned\x07 the title.",
    "summary": "A shop [red]sign[/] and :abc: text.",
    "keywords": ["[/]", ":smile:"],
    "on_screen_text": "OPEN [/] 24h",
    "technical": {"codec": "h264", "height": 720, "fps": 25.0, "shot_type": "wide"},
}


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, env=env)


def assert_clean(result: subprocess.CompletedProcess) -> None:
    """Nothing the terminal would act on, no emoji made from text, no traceback."""
    for stream in (result.stdout, result.stderr):
        assert "\x1b" not in stream and "\x07" not in stream and "\r" not in stream, stream
        assert "😄" not in stream and "🔤" not in stream and "🍕" not in stream, stream
        assert "Traceback" not in stream, stream


def unfolded(text: str) -> str:
    """Table output with the box drawing and line breaks taken out, so a folded cell reads as one string."""
    kept = [c for c in text if c not in "│┃┏┓┗┛┡┩└┘┌┐├┤┬┴┼━─═║╭╮╰╯ \n"]
    return "".join(kept)


def column(table: str, index: int) -> str:
    """One column of a printed Rich table, its folded lines joined (spaces left out: a fold at a space drops it)."""
    cells = [line.split("│")[index].strip() for line in table.splitlines() if line.startswith("│")]
    return "".join(cells).replace(" ", "")


@pytest.fixture
def hostile_catalog(catalog_env):
    store = CatalogResource(database_url=os.environ["VIDEO_CATALOG_DATABASE_URL"])
    seed(store, EmbeddingService(), [HOSTILE_DOC], embed=False)
    return store


def test_show_prints_ids_paths_and_footage_text_literally(hostile_catalog):
    shown = cli("show", HOSTILE_ID)
    assert shown.returncode == 0, shown.stderr
    assert_clean(shown)
    flat = unfolded(shown.stdout)
    assert unfolded(f"{HOSTILE_ID_SHOWN}.mov ({HOSTILE_ID_SHOWN})") in flat  # the title panel: name and id
    assert unfolded("We sell [bold]pizza[/] by the :pizza: slice.\\x1b[2J Then \\x1b]0;pwned\\x07 the title.") in flat
    assert unfolded("A shop [red]sign[/] and :abc: text.") in flat
    assert unfolded("OPEN [/] 24h") in flat


def test_transcript_text_format_shows_control_characters(hostile_catalog):
    result = cli("transcript", HOSTILE_ID)
    assert result.returncode == 0, result.stderr
    assert_clean(result)
    assert result.stdout.splitlines() == ["[00:00:00 - 00:00:04] We sell [bold]pizza[/] by the :pizza: slice.\\x1b[2J "
                                          "Then \\x1b]0;pwned\\x07 the title."]
    unknown = cli("transcript", "zz[/]zz[bold]")
    assert unknown.returncode == 2 and "zz[/]zz[bold]: no cataloged clip" in unknown.stderr
    assert_clean(unknown)


def test_list_and_search_tables_print_cells_literally(hostile_catalog):
    listed = cli("list")
    assert listed.returncode == 0, listed.stderr
    assert_clean(listed)
    flat = unfolded(listed.stdout)
    assert unfolded(HOSTILE_ID_SHOWN) in flat and unfolded(f"/archive/{HOSTILE_ID_SHOWN}.mov") in flat

    found = cli("search", "pizza slice", "--mode", "text")
    assert found.returncode == 0, found.stderr
    assert_clean(found)
    flat = unfolded(found.stdout)
    assert unfolded("1 clip for 'pizza slice' (text)") in flat
    assert unfolded(HOSTILE_ID_SHOWN) in flat
    said = "We sell [bold]pizza[/] by the :pizza: slice.\\x1b[2J Then \\x1b]0;pwned\\x07 the title."
    assert said.replace(" ", "") in column(found.stdout, 6)  # the `why` column: footage brackets kept as they are

    query = "[/] :smile: \x1b[31mnothing\x1b[0m [bold]"
    missing = cli("search", query, "--mode", "text")
    assert missing.returncode == 1
    assert_clean(missing)
    assert missing.stderr.strip() == "No good matches for '[/] :smile: \\x1b[31mnothing\\x1b[0m [bold]'."


def test_refs_with_markup_in_similar_refresh_show(hostile_catalog):
    for command in (["similar", "[/]x[bold]"], ["refresh", "--missing", "embeddings", "--clip", "[/]x[bold]"],
                    ["show", "[/]x[bold]"]):
        result = cli(*command)
        assert result.returncode == 2, (command, result.stderr)
        assert_clean(result)
        assert result.stderr.strip() == "error: [/]x[bold]: no cataloged clip has this id, id prefix, path, file name or partition key " \
                                        "(see `video-catalog list`)", command
    plan = cli("refresh", "--missing", "embeddings", "--clip", HOSTILE_ID, "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert_clean(plan)
    assert unfolded(HOSTILE_ID_SHOWN) in unfolded(plan.stdout)
    similar = cli("similar", HOSTILE_ID)  # no embeddings yet: the message names the id literally
    assert similar.returncode == 2 and f"clip {HOSTILE_ID_SHOWN} has no" in similar.stderr
    assert_clean(similar)


@pytest.fixture
def short_root():
    """Footage under a short path, so table cells fit and the assertions read whole names."""
    root = Path(tempfile.mkdtemp(prefix="vc"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_ingest_list_show_with_hostile_folder_and_file_names(catalog_env, short_root, media_library):
    folder = short_root / "a[/]b :abc: [bold]"  # a path with `[/]` in it: folders `a[` and `]b :abc: [bold]`
    video = copy(media_library["h264_720p.mp4"], folder / "r\x1b[31md\x07\r.mp4")
    (folder / "t[bold]\x1b[1m.mp4").write_text("not a video [/]")
    result = cli("ingest", str(folder), "--disable", "proxy,thumbnails,frame_analysis,faces,speakers,ai_analysis,embeddings")
    assert result.returncode in (0, 1), result.stderr
    assert_clean(result)
    shown_folder = "a[/]b :abc: [bold]"
    assert f"{short_root}/{shown_folder}/t[bold]\\x1b[1m.mp4: has a video extension" in result.stderr

    listed = cli("list")
    assert listed.returncode == 0, listed.stderr
    assert_clean(listed)
    assert column(listed.stdout, 2) == "r\\x1b[31md\\x07\\r.mp4"  # the file column
    path_shown = f"{short_root}/{shown_folder}/r\\x1b[31md\\x07\\r.mp4"
    assert column(listed.stdout, -2) == path_shown.replace(" ", "")  # the path column

    shown = cli("show", str(video))
    assert shown.returncode == 0, shown.stderr
    assert_clean(shown)
    assert unfolded(path_shown) in unfolded(shown.stdout)
    assert json.loads(cli("show", str(video), "--json").stdout)["file_name"] == video.name  # data stays exact


def test_csv_to_a_terminal_shows_control_characters(hostile_catalog):
    """On a terminal (a real pty here) CSV cells are made visible; piped, the CSV keeps the exact bytes."""
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen([*CLI, "list", "--export", "csv"], stdout=follower, stderr=subprocess.PIPE)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the pty closes when the process ends
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=120) == 0, process.stderr.read()
    os.close(leader)
    on_terminal = b"".join(chunks).decode()
    assert HOSTILE_ID_SHOWN in on_terminal and "\x1b" not in on_terminal and "\x07" not in on_terminal
    piped = cli("list", "--export", "csv")
    assert HOSTILE_ID in piped.stdout  # data for a script stays exact
