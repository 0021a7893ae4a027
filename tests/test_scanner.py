"""Discovery: what the scanner sees, what it skips, and that a repeat scan reads nothing."""

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.ingest.plan import plan_ingest
from catalog_resources.ingest.scanner import scan
from catalog_resources.store.endpoint import resolve_database
from tests.hostile_media import lock_out, make_fifo, make_socket, without_root_override
from tests.media import copy


@pytest.fixture
def store(catalog_env) -> CatalogResource:
    return CatalogResource(database_url=resolve_database(catalog_env).catalog_url)


def by_path(report):
    return {f.path: f for f in report.files}


def test_nested_tree_with_odd_files(store, tmp_path, media_library):
    root = tmp_path / "tree"
    copy(media_library["h264_720p.mp4"], root / "day 1" / "cam A" / "clip 'one' – ünï.mp4")
    copy(media_library["h264_720p.mp4"], root / "day 2" / "same content.mp4")  # duplicate at a second path
    copy(media_library["mpeg2.MTS"], root / "day 1" / "noextension")
    copy(media_library["vp9_noaudio.mkv"], root / "-leading-dash.mkv")
    (root / "fake.mp4").write_text("this is not a video\n")
    (root / "empty.mov").write_bytes(b"")
    (root / "notes.txt").write_text("shot list")
    (root / ".hidden.mp4").write_bytes(media_library["short.mp4"].read_bytes())
    (root / "Thumbs.db").write_bytes(b"\0" * 100)
    (root / "day 1" / "loop").symlink_to(root, target_is_directory=True)  # a symlink loop

    report = scan([root], store)
    files = by_path(report)
    videos = {p for p, f in files.items() if f.kind == "video"}
    assert videos == {
        str(root / "day 1" / "cam A" / "clip 'one' – ünï.mp4"),
        str(root / "day 2" / "same content.mp4"),
        str(root / "day 1" / "noextension"),
        str(root / "-leading-dash.mkv"),
    }
    assert files[str(root / "fake.mp4")].kind == "not_video"
    assert "video extension" in files[str(root / "fake.mp4")].reason
    assert files[str(root / "empty.mov")].reason == "empty file (0 bytes)"
    assert files[str(root / "notes.txt")].kind == "not_video"
    assert not any(".hidden" in p or "Thumbs.db" in p for p in files)
    loop = str(root / "day 1" / "loop")
    assert {s.path: (s.outcome, s.reason) for s in report.skipped} == {  # noticed, named, not followed
        loop: ("not_video", f"symlink loop: {loop} leads back to {root}, already scanned")}
    dup_a = files[str(root / "day 1" / "cam A" / "clip 'one' – ünï.mp4")].fingerprint
    dup_b = files[str(root / "day 2" / "same content.mp4")].fingerprint
    assert dup_a == dup_b and len(dup_a) == 16
    assert report.probed == len(files)

    plan = plan_ingest(report, store)
    assert len(plan.new_clips) == 3
    assert loop in {i.path for i in plan.summary.not_video}
    assert [d.path for d in plan.summary.duplicates] == [str(root / "day 2" / "same content.mp4")]


def test_repeat_scan_of_unchanged_tree_reads_no_file(store, tmp_path, media_library):
    root = tmp_path / "tree"
    for name, path in media_library.items():
        copy(path, root / "a" / name)
    first = scan([root], store)
    assert first.probed == len(media_library)
    # Overwrite one file with zeros, keeping its size and mtime: only a scan that reads would notice.
    victim = root / "a" / "h264_720p.mp4"
    st = victim.stat()
    victim.write_bytes(b"\0" * st.st_size)
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    second = scan([root], store)
    assert second.probed == 0
    assert all(f.cached for f in second.files)
    assert {f.path: f.fingerprint for f in second.files} == {f.path: f.fingerprint for f in first.files}


def test_changed_renamed_and_removed_files(store, tmp_path, media_library):
    root = tmp_path / "tree"
    a = copy(media_library["h264_720p.mp4"], root / "a.mp4")
    b = copy(media_library["vp9_noaudio.mkv"], root / "b.mkv")
    first = by_path(scan([root], store))
    # renamed: same content, new path -> probed again, same fingerprint
    renamed = root / "renamed b.mkv"
    b.rename(renamed)
    # changed: new content at the same path -> new fingerprint
    shutil.copy2(media_library["short.mp4"], a)
    os.utime(a, ns=(time.time_ns(), time.time_ns()))
    second = scan([root], store)
    files = by_path(second)
    assert second.probed == 2
    assert files[str(renamed)].fingerprint == first[str(b)].fingerprint
    assert files[str(a)].fingerprint != first[str(a)].fingerprint
    assert str(b) not in files
    assert store.scanned_under([root]).keys() == {str(a), str(renamed)}  # the vanished path left the cache


def test_file_still_growing_waits_for_the_settle_period(store, tmp_path, media_library):
    root = tmp_path / "watch"
    settled = copy(media_library["short.mp4"], root / "settled.mp4")
    old = time.time() - 60
    os.utime(settled, (old, old))
    growing = root / "growing.mp4"
    data = media_library["h264_720p.mp4"].read_bytes()
    growing.write_bytes(data[: len(data) // 2])  # half-copied, modified just now
    report = scan([root], store, settle_seconds=10)
    assert [f.path for f in report.files] == [str(settled)]
    assert report.settling == [str(growing)]
    growing.write_bytes(data)
    os.utime(growing, (old, old))
    later = scan([root], store, settle_seconds=10)
    assert {f.path for f in later.files} == {str(settled), str(growing)}
    assert by_path(later)[str(growing)].kind == "video"


def test_bounded_probes_leave_the_rest_for_the_next_scan(store, tmp_path, media_library):
    root = tmp_path / "tree"
    for name, path in media_library.items():
        copy(path, root / name)
    first = scan([root], store, max_probes=2)
    assert first.probed == 2 and len(first.files) == 2
    second = scan([root], store, max_probes=100)
    assert second.probed == len(media_library) - 2
    assert len(second.files) == len(media_library)


def test_missing_root_is_reported_not_raised(store, tmp_path):
    report = scan([tmp_path / "does not exist"], store)
    assert report.missing_roots == [str(tmp_path / "does not exist")]
    assert report.files == []


SPECIAL = "not a regular file: skipped without reading"


def skips(report) -> dict[str, tuple[str, str]]:
    return {s.path: (s.outcome, s.reason) for s in report.skipped}


@pytest.mark.timeout(60)  # opening the FIFO would block here for ever: the timeout turns that into a failure
def test_special_files_broken_links_and_loops_are_named_not_dropped(store, tmp_path, media_library):
    root = tmp_path / "tree"
    clip = copy(media_library["short.mp4"], root / "day 1" / "a.mp4")
    fifo = make_fifo(root / "fifo.mp4")
    sock = make_socket(root / "s.sock")
    device = root / "null.mov"
    device.symlink_to("/dev/null")  # a character device, reached through a link
    dangling = root / "gone.mp4"
    dangling.symlink_to(tmp_path / "unmounted" / "gone.mp4")
    (root / "ping.mp4").symlink_to("pong.mp4")
    (root / "pong.mp4").symlink_to("ping.mp4")
    (root / "day 1" / "back").symlink_to(root, target_is_directory=True)
    (root / "latest").symlink_to(root / "day 1", target_is_directory=True)

    report = scan([root], store)

    assert [f.path for f in report.files] == [str(clip)]
    ping, pong, back = root / "ping.mp4", root / "pong.mp4", root / "day 1" / "back"
    assert skips(report) == {
        str(fifo): ("not_video", f"has a video extension but is not video: FIFO (named pipe), {SPECIAL}"),
        str(sock): ("not_video", f"socket, {SPECIAL}"),
        str(device): ("not_video", f"has a video extension but is not video: character device, {SPECIAL}"),
        str(dangling): ("failed", f"dangling symlink to {tmp_path / 'unmounted' / 'gone.mp4'}"),
        str(ping): ("failed", f"broken symlink: {ping} -> pong.mp4 is a cycle of links that never resolves"),
        str(pong): ("failed", f"broken symlink: {pong} -> ping.mp4 is a cycle of links that never resolves"),
        str(back): ("not_video", f"symlink loop: {back} leads back to {root}, already scanned"),
        str(root / "latest"): (
            "not_video", f"same folder as {root / 'day 1'} (reached through a symlink), scanned there once"),
    }
    summary = plan_ingest(report, store).summary
    assert [i.path for i in summary.new] == [str(clip)]
    assert {i.path: i.reason for i in summary.not_video} == {
        p: reason for p, (outcome, reason) in skips(report).items() if outcome == "not_video"}
    assert {i.path: i.reason for i in summary.failed} == {
        p: reason for p, (outcome, reason) in skips(report).items() if outcome == "failed"}


@pytest.mark.timeout(60)
def test_paths_named_directly_that_cannot_be_scanned_are_failures(store, tmp_path):
    fifo = make_fifo(tmp_path / "fifo.mp4")
    dangling = tmp_path / "gone.mov"
    dangling.symlink_to(tmp_path / "nowhere.mov")
    report = scan([fifo, dangling, tmp_path / "missing.mp4"], store)
    assert report.files == []
    assert skips(report) == {
        str(fifo): ("failed", f"has a video extension but is not video: FIFO (named pipe), {SPECIAL}"),
        str(dangling): ("failed", f"dangling symlink to {tmp_path / 'nowhere.mov'}"),
    }
    assert report.missing_roots == [str(tmp_path / "missing.mp4")]
    failed = {i.path: i.reason for i in plan_ingest(report, store).summary.failed}
    assert set(failed) == {str(fifo), str(dangling), str(tmp_path / "missing.mp4")}


SCAN_AS_PLAIN_USER = """
import sys
from pathlib import Path
from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.store.endpoint import resolve_database
from catalog_resources.ingest.scanner import scan
from catalog_resources.settings import CatalogSettings
store = CatalogResource(database_url=resolve_database(CatalogSettings()).catalog_url)
print(scan([Path(sys.argv[1])], store).model_dump_json())
"""


def test_unreadable_folder_and_file_are_failures(catalog_env, tmp_path, media_library):
    """As root, permissions are enforced by scanning in a user namespace (tests/hostile_media.py)."""
    root = tmp_path / "tree"
    readable = copy(media_library["short.mp4"], root / "ok.mp4")
    secret = lock_out(copy(media_library["short.mp4"], root / "secret.mp4"))
    copy(media_library["short.mp4"], root / "locked" / "inside.mp4")
    locked = lock_out(root / "locked")
    result = without_root_override([sys.executable, "-c", SCAN_AS_PLAIN_USER, str(root)], env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {f["path"]: (f["kind"], f["reason"]) for f in report["files"]} == {
        str(readable): ("video", None), str(secret): ("unreadable", "permission denied")}
    assert [(s["path"], s["outcome"], s["reason"]) for s in report["skipped"]] == [
        (str(locked), "failed", "cannot read folder: Permission denied")]
