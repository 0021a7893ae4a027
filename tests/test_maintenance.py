"""Keeping the catalog true to the disk, on real ingested clips: `verify` (changed, vanished, rotted),
`list --offline` and `relink` (a drive mounted elsewhere), `forget` (rows, media folder, Dagster partition;
never the original), and `db export` / `db stats`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from catalog_resources.store.catalog_export import CLIP_KEYS
from tests.media import REGISTER_ONLY
from tests.test_ingest import dagster_instance

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "catalog_cli.main"]
NAMES = ("h264_720p.mp4", "vp9_noaudio.mkv", "mpeg2.MTS")


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The command in this process (Typer's runner): the same code as the console script, without paying a
    Python start and the imports for each of the ~40 calls here (the ingest above runs as a real process)."""
    from typer.testing import CliRunner

    from catalog_cli.main import app

    result = CliRunner().invoke(app, list(args), input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def one_line(result: subprocess.CompletedProcess, code: int, words: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1 and words in result.stderr, result.stderr


def states(result: subprocess.CompletedProcess) -> dict[str, str]:
    return {Path(c["path"]).name: c["state"] for c in json.loads(result.stdout)}


@pytest.fixture(scope="module")
def library(module_catalog_env, media_library, tmp_path_factory):
    """Three clips on "drive A", ingested once (clip_source, technical_metadata, catalog_record)."""
    drive = tmp_path_factory.mktemp("mnt") / "drive A"
    footage = drive / "footage"
    footage.mkdir(parents=True)
    for name in NAMES:
        shutil.copy2(media_library[name], footage / name)
    config = drive.parent / "light.json"
    config.write_text(json.dumps({"steps": {s: False for s in REGISTER_ONLY if s not in ("technical_metadata", "catalog_record")}}))
    result = subprocess.run([*CLI, "ingest", "--json", "--config", str(config), str(footage)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    ids = {Path(item["path"]).name: item["clip_id"] for item in json.loads(result.stdout)["new"]}
    assert sorted(ids) == sorted(NAMES)
    return {"drive": drive, "footage": footage, "ids": ids, "settings": module_catalog_env, "config": config}


def test_verify_reports_changed_vanished_and_rotted_files(library):
    footage = library["footage"]
    ok = cli("verify", "--all", "--json")
    assert ok.returncode == 0, ok.stderr
    assert states(ok) == {name: "ok" for name in NAMES}
    saved = {name: ((footage / name).read_bytes(), os.stat(footage / name)) for name in NAMES}
    try:
        rotted = footage / "h264_720p.mp4"  # one byte flipped in place, size and mtime put back: bit rot
        data = bytearray(saved["h264_720p.mp4"][0])
        data[len(data) // 2] ^= 0xFF
        rotted.write_bytes(bytes(data))
        os.utime(rotted, ns=(saved["h264_720p.mp4"][1].st_atime_ns, saved["h264_720p.mp4"][1].st_mtime_ns))
        with open(footage / "vp9_noaudio.mkv", "ab") as handle:  # edited: longer, newer
            handle.write(b"\0" * 100)
        (footage / "mpeg2.MTS").rename(footage / "mpeg2.MTS.bak")  # gone, its folder still there
        wrong = cli("verify", str(footage), "--json")
        assert wrong.returncode == 1, wrong.stderr
        assert states(wrong) == {"h264_720p.mp4": "rotted", "vp9_noaudio.mkv": "changed", "mpeg2.MTS": "missing"}
        quick = cli("verify", "--all", "--quick")  # the flipped byte is inside the sampled middle block
        assert quick.returncode == 1 and "rotted" in quick.stdout and "missing" in quick.stdout, quick.stdout
        one_file = cli("verify", str(rotted))
        assert one_file.returncode == 1 and "1 path checked: 1 rotted" in one_file.stdout, one_file.stdout
    finally:
        (footage / "mpeg2.MTS.bak").rename(footage / "mpeg2.MTS")
        for name, (data, st) in saved.items():
            (footage / name).write_bytes(data)
            os.utime(footage / name, ns=(st.st_atime_ns, st.st_mtime_ns))
    by_id = cli("verify", library["ids"]["mpeg2.MTS"][:8])
    assert by_id.returncode == 0 and "1 path checked: 1 ok" in by_id.stdout, by_id.stdout
    one_line(cli("verify"), 2, "--all")
    real = subprocess.run([str(Path(sys.executable).parent / "video-catalog"), "verify", "--all"], capture_output=True,
                          text=True, timeout=120)  # the console script itself, in its own process
    assert real.returncode == 0 and "3 paths checked: 3 ok" in real.stdout, real.stdout + real.stderr
    one_line(cli("verify", "/nowhere/at/all"), 2, "no cataloged clip")


def test_offline_drive_is_listed_then_relinked_without_reprocessing(library, tmp_path):
    drive, ids = library["drive"], library["ids"]
    moved = drive.with_name("drive B")
    drive.rename(moved)  # the drive is mounted elsewhere now
    try:
        offline = cli("list", "--offline", "--json")
        assert offline.returncode == 0, offline.stderr
        assert sorted(c["file_name"] for c in json.loads(offline.stdout)) == sorted(NAMES)
        assert states(cli("verify", "--all", "--json")) == {name: "offline" for name in NAMES}
        assert cli("verify", "--all").returncode == 0  # an unmounted drive is not damage

        before = {name: json.loads(cli("show", ids[name], "--json").stdout) for name in ("mpeg2.MTS",)}
        dry = cli("relink", str(drive), str(moved), "--dry-run", "--json")
        assert dry.returncode == 0, dry.stderr
        assert {p["state"] for p in json.loads(dry.stdout)["paths"]} == {"would relink"}
        assert json.loads(cli("show", ids["mpeg2.MTS"], "--json").stdout)["path"] == str(library["footage"] / "mpeg2.MTS")

        done = cli("relink", str(drive) + "/", str(moved))
        assert done.returncode == 0, done.stderr
        assert "relinked 3 of 3 paths" in done.stdout
        shown = json.loads(cli("show", ids["mpeg2.MTS"], "--json").stdout)
        assert shown["path"] == str(moved / "footage" / "mpeg2.MTS")
        assert [s["path"] for s in shown["sources"]] == [shown["path"]]
        assert shown["technical_metadata"] == before["mpeg2.MTS"]["technical_metadata"]  # nothing re-processed
        sidecar = library["settings"].media_dir / ids["mpeg2.MTS"] / "clip_source.json"
        assert json.loads(sidecar.read_text())["path"] == shown["path"]
        assert json.loads(cli("list", "--offline", "--json").stdout) == []
        assert states(cli("verify", "--all", "--json")) == {name: "ok" for name in NAMES}
        again = subprocess.run([*CLI, "ingest", "--json", "--config", str(library["config"]), str(moved / "footage")],
                               capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        summary = json.loads(again.stdout)  # the relinked paths are known: nothing new, moved or redone
        assert sorted(Path(e["path"]).name for e in summary["existing"]) == sorted(NAMES)
        assert not any(summary[k] for k in ("new", "moved", "resumed", "duplicates", "failed")), summary

        elsewhere = tmp_path / "empty disk"
        elsewhere.mkdir()
        missing = cli("relink", str(moved), str(elsewhere), "--json")
        assert missing.returncode == 1
        assert {p["state"] for p in json.loads(missing.stdout)["paths"]} == {"not found"}
        assert json.loads(cli("show", ids["mpeg2.MTS"], "--json").stdout)["path"] == shown["path"]
        one_line(cli("relink", "/no/such/prefix", str(moved)), 2, "no cataloged path")
        one_line(cli("relink", str(moved), str(moved)), 2, "same folder")
    finally:  # the drive back where the other tests expect it
        moved.rename(drive)
        cli("relink", str(moved), str(drive))
    assert json.loads(cli("show", ids["mpeg2.MTS"], "--json").stdout)["path"] == str(library["footage"] / "mpeg2.MTS")


def test_forget_removes_rows_media_and_partition_but_not_the_original(library):
    ids, media_dir = library["ids"], library["settings"].media_dir
    clip_id = ids["vp9_noaudio.mkv"]
    twin = clip_id[:4] + "f" * (len(clip_id) - 4) if not clip_id.endswith("ffff") else clip_id[:4] + "0" * 12
    with psycopg.connect(os.environ["VIDEO_CATALOG_DATABASE_URL"], autocommit=True) as conn:
        conn.execute("INSERT INTO clips (clip_id, file_name, path, size_bytes, md5, fast_hash, fingerprint) "
                     "VALUES (%s, 'twin.mov', '/nowhere/twin.mov', 1, 'x', 'x', %s)", (twin, twin))
    one_line(cli("forget", clip_id[:4], "--yes"), 2, "ambiguous")
    one_line(cli("forget", "no-such-clip", "--yes"), 2, "no cataloged clip")
    one_line(cli("forget", clip_id, stdin=""), 2, "--yes")  # no terminal to ask on
    assert (media_dir / clip_id).is_dir()
    keys = [k for k in dagster_instance().get_dynamic_partitions("clips") if k.endswith(clip_id)]
    assert keys == [f"vp9_noaudio.mkv-{clip_id}"]

    gone = cli("forget", str(library["footage"] / "vp9_noaudio.mkv"), twin, "--yes", "--json")
    assert gone.returncode == 0, gone.stderr
    report = json.loads(gone.stdout)
    assert report["clips"] == [clip_id, twin] and report["partitions"] == keys
    assert not (media_dir / clip_id).exists()
    assert (library["footage"] / "vp9_noaudio.mkv").stat().st_size > 0  # the original stays
    assert [k for k in dagster_instance().get_dynamic_partitions("clips") if k.endswith(clip_id)] == []
    assert cli("show", clip_id).returncode == 2
    with psycopg.connect(os.environ["VIDEO_CATALOG_DATABASE_URL"]) as conn:
        for table, column in (("clips", "clip_id"), ("clip_sources", "clip_id"), ("technical_metadata", "clip_id"),
                              ("asset_versions", "clip_id"), ("scanned_files", "fingerprint")):
            assert conn.execute(f"SELECT count(*) FROM {table} WHERE {column} = %s", (clip_id,)).fetchone()[0] == 0
    assert sorted(c["file_name"] for c in json.loads(cli("list", "--json").stdout)) == ["h264_720p.mp4", "mpeg2.MTS"]


def test_db_export_streams_every_clip_with_stable_keys_and_stats_count_rows(library, tmp_path):
    listed = sorted(c["clip_id"] for c in json.loads(cli("list", "--json").stdout))
    target = tmp_path / "catalog.json"
    exported = cli("db", "export", "--format", "json", "-o", str(target))
    assert exported.returncode == 0, exported.stderr
    document = json.loads(target.read_text())
    assert document["format"] == "video-catalog" and document["version"] == 1
    assert [c["clip_id"] for c in document["clips"]] == listed
    for clip in document["clips"]:
        assert list(clip) == sorted(["clip_id", *CLIP_KEYS])
        assert clip["clip"]["clip_id"] == clip["clip_id"] and clip["sources"] and clip["technical_metadata"]
    lines = cli("db", "export", "--format", "jsonl").stdout.splitlines()
    assert json.loads(lines[0])["kind"] == "catalog"
    assert [json.loads(line)["clip_id"] for line in lines[1:]] == listed

    stats = cli("db", "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    figures = json.loads(stats.stdout)
    tables = {t["table"]: t for t in figures["tables"]}
    assert figures["clips"] == tables["clips"]["rows"] == len(listed)
    assert tables["clip_sources"]["rows"] == len(listed) and tables["clips"]["bytes"] > 0
    assert figures["media_store_bytes"] > 0 and figures["database_bytes"] > 0
    assert "clips" in cli("db", "stats").stdout
    one_line(cli("db", "export", "-o", str(tmp_path / "no" / "such" / "x.json")), 2, "does not exist")
    one_line(cli("db", "export", "--format", "xml"), 2, "--format")
    one_line(cli("db", "export", "-o", "/proc/version"), 2, "cannot write /proc/version")
    one_line(cli("db", "export", "-o", str(tmp_path)), 2, "it is a folder")
    assert json.loads(target.read_text())["clips"]  # a failed export leaves an earlier one alone
