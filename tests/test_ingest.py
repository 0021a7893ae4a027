"""`video-catalog ingest` end to end: the real CLI, rows read back from Postgres, materializations read
back from the Dagster instance."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from dagster import AssetKey, DagsterInstance

from tests.media import CLIPS, copy, truncated_after_header
from tests.test_layers import loaded_by

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "catalog_cli.main"]


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, env=env)


def ingest_json(*args: str) -> tuple[int, dict]:
    result = cli("ingest", "--json", *args)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def rows(sql: str, *params):
    with psycopg.connect(os.environ["VIDEO_CATALOG_DATABASE_URL"]) as conn:
        return conn.execute(sql, params).fetchall()


def dagster_instance() -> DagsterInstance:
    from catalog_resources.store.dagster_home import prepare_dagster_home
    from catalog_resources.store.endpoint import resolve_database
    from catalog_resources.settings import CatalogSettings

    settings = CatalogSettings()
    prepare_dagster_home(settings, resolve_database(settings))
    return DagsterInstance.get()


def test_ingest_catalogs_every_clip_and_rerun_changes_nothing(catalog_env, footage):
    (footage / "fake.mp4").write_text("not a video")
    (footage / "zero.mov").write_bytes(b"")
    code, summary = ingest_json(str(footage))
    assert code == 0
    assert sorted(Path(i["path"]).name for i in summary["new"]) == sorted(CLIPS)
    assert sorted(Path(i["path"]).name for i in summary["not_video"]) == ["fake.mp4", "zero.mov"]
    assert summary["failed"] == [] and summary["duplicates"] == [] and summary["existing"] == []

    # values read back from Postgres match what ffmpeg was asked to make
    found = {
        r[0]: r[1:]
        for r in rows("SELECT file_name, width, height, frame_rate, duration_seconds, has_audio, md5, size_bytes FROM clips")
    }
    assert set(found) == set(CLIPS)
    for name, spec in CLIPS.items():
        width, height, fps, duration, has_audio, md5, size = found[name]
        assert (width, height) == (spec.width, spec.height), name
        assert fps == pytest.approx(spec.fps, rel=0.01), name
        assert duration == pytest.approx(spec.seconds, abs=0.15), name
        assert has_audio == spec.audio, name
        assert len(md5) == 32 and size == (footage / name).stat().st_size
    assert found["prores_mov.mov"] and rows("SELECT video_codec FROM clips WHERE file_name='prores_mov.mov'")[0][0] == "prores"
    records = rows("SELECT clip_id, paths, md5 FROM catalog_records")
    assert len(records) == len(CLIPS)
    clip_ids = {r[0] for r in records}

    # Dagster saw one partition per clip, named after its file, and one materialization per clip for each asset
    instance = dagster_instance()
    keys = {f"{name}-{clip_id}" for clip_id, name in rows("SELECT clip_id, file_name FROM clips")}
    assert set(instance.get_dynamic_partitions("clips")) == keys and len(keys) == len(clip_ids)
    for asset in ("clip_source", "technical_metadata", "proxy", "thumbnails", "frame_analysis", "catalog_record"):
        assert instance.get_materialized_partitions(AssetKey(asset)) == keys
    runs_before = len(instance.get_runs())
    home = Path(os.environ["VIDEO_CATALOG_HOME"])
    for clip_id in clip_ids:
        sidecar = json.loads((home / "media" / clip_id / "clip_source.json").read_text())
        assert sidecar["clip_id"] == clip_id and len(sidecar["md5"]) == 32
        proxy = json.loads((home / "media" / clip_id / "proxy.json").read_text())
        assert Path(proxy["proxy_path"]).is_file() and proxy["proxy_fps"] == 5.0
    assert {r[0] for r in rows("SELECT DISTINCT clip_id FROM segments WHERE segment_type = 'scene_change'")} == clip_ids
    assert len(rows("SELECT 1 FROM frame_analysis WHERE quality_score BETWEEN 0 AND 100")) == len(CLIPS)
    posters = rows("SELECT clip_id, paths FROM thumbnails WHERE is_poster")
    assert {r[0] for r in posters} == clip_ids and all(Path(p).is_file() for r in posters for p in r[1].values())

    opened = cli("open", next(iter(clip_ids))[:8], env={k: v for k, v in os.environ.items() if k != "DISPLAY"})
    assert opened.returncode == 0 and Path(opened.stdout.strip()).name.startswith("contact_sheet")
    assert Path(opened.stdout.strip()).is_file()
    shown = cli("show", next(iter(clip_ids)))
    assert "Thumbnails" in shown.stdout and "Proxy" in shown.stdout

    listed = json.loads(cli("list", "--json").stdout)
    assert {c["clip_id"] for c in listed} == clip_ids
    assert {"clip_id", "path", "file_name", "duration_seconds", "size_bytes", "md5"} <= set(listed[0])

    code, again = ingest_json(str(footage))
    assert code == 0
    assert again["new"] == [] and len(again["existing"]) == len(CLIPS)
    assert len(instance.get_runs()) == runs_before  # nothing re-ran
    # a cataloged folder is answered from the catalog alone (catalog_assets/settled_ingest.py), without Dagster ...
    assert "dagster" not in loaded_by("ingest", "--json", str(footage))
    # ... while the pipeline it recorded still holds: another setting sends it down the Dagster path once
    os.environ["VIDEO_CATALOG_THUMBNAIL_COUNT"] = "7"
    try:
        assert "dagster" in loaded_by("ingest", "--json", str(footage))
        assert "dagster" not in loaded_by("ingest", "--json", str(footage))
    finally:
        del os.environ["VIDEO_CATALOG_THUMBNAIL_COUNT"]
    assert len(instance.get_runs()) == runs_before


def test_clip_failing_in_a_batch_fails_alone(catalog_env, footage, faststart_clip):
    """A file that vanishes between the scan and its run fails its own clip; the batch's other clips go on."""
    from catalog_assets.catalog_app import CatalogApp
    from catalog_assets.steps import select_steps
    from catalog_resources.settings import CatalogSettings

    vanishing = copy(faststart_clip, footage / "vanishing clip.mp4")
    last = sorted(footage.iterdir())[-1]

    def unplug(scanned) -> None:
        if scanned.path == str(last):
            vanishing.unlink()

    steps = [s for s in select_steps() if s not in ("ai_analysis", "embeddings")]
    summary = CatalogApp(CatalogSettings()).ingest([footage], steps=steps, on_scan=unplug)
    assert [f.path for f in summary.failed] == [str(vanishing)]
    assert "no copy is online" in summary.failed[0].reason and summary.failed[0].reason.startswith("clip_source: ")
    assert len(summary.new) == len(CLIPS)
    assert len(rows("SELECT 1 FROM clips")) == len(CLIPS)
    instance = dagster_instance()
    failed_id = summary.failed[0].clip_id
    materialized = instance.get_materialized_partitions(AssetKey("clip_source"))
    assert failed_id not in {key.rsplit("-", 1)[-1] for key in materialized} and len(materialized) == len(CLIPS)
    assert rows("SELECT asset FROM clip_failures WHERE clip_id = %s", failed_id) == [("clip_source",)]


def test_header_only_mp4_is_cataloged_metadata_only(catalog_env, tmp_path, faststart_clip):
    """Its moov reads, no frame is there: the clip is cataloged by its metadata, and says why."""
    (tmp_path / "card").mkdir()
    broken = truncated_after_header(faststart_clip, tmp_path / "card" / "broken clip.mp4")
    code, summary = ingest_json(str(broken.parent), "--disable", "ai_analysis,embeddings")
    assert code == 0 and [i["path"] for i in summary["new"]] == [str(broken)]
    assert rows("SELECT status FROM clips") == [("metadata-only: no decodable video frame",)]


def test_moved_and_duplicated_files_are_recognised(catalog_env, footage, tmp_path):
    code, first = ingest_json(str(footage))
    clip = footage / "h264_720p.mp4"
    clip_id = next(i["clip_id"] for i in first["new"] if i["path"] == str(clip))
    moved = footage / "archive" / "renamed.mp4"
    moved.parent.mkdir()
    clip.rename(moved)
    elsewhere = copy(footage / "mpeg2.MTS", tmp_path / "other card" / "mpeg2 copy.MTS")

    code, second = ingest_json(str(footage), str(elsewhere.parent))
    assert code == 0
    assert [(i["path"], i["clip_id"]) for i in second["moved"]] == [(str(moved), clip_id)]
    assert [i["path"] for i in second["duplicates"]] == [str(elsewhere)]
    assert second["new"] == []
    sources = dict(rows("SELECT path, online FROM clip_sources WHERE clip_id = %s", clip_id))
    assert sources == {str(clip): False, str(moved): True}
    assert rows("SELECT path FROM clips WHERE clip_id = %s", clip_id)[0][0] == str(moved)
    dup_paths = rows("SELECT paths FROM catalog_records WHERE file_name = 'mpeg2.MTS'")[0][0]
    assert sorted(dup_paths) == sorted([str(footage / "mpeg2.MTS"), str(elsewhere)])


def test_fingerprint_collision_is_reported_not_merged(catalog_env, tmp_path, faststart_clip):
    folder = tmp_path / "collide"
    a = copy(faststart_clip, folder / "a.mp4")
    data = bytearray(a.read_bytes())
    assert len(data) > 4 * 64 * 1024
    data[100_000] ^= 0xFF  # outside the head / middle / tail samples
    (folder / "b.mp4").write_bytes(bytes(data))
    code, summary = ingest_json(str(folder))
    assert code == 1
    assert len(summary["new"]) == 1
    assert [f["path"] for f in summary["failed"]] == [str(folder / "b.mp4")]
    assert "different MD5" in summary["failed"][0]["reason"]
    assert [r[0] for r in rows("SELECT path FROM clip_sources")] == [str(a)]


def test_dry_run_limit_and_bad_arguments(catalog_env, footage, tmp_path):
    code, dry = ingest_json(str(footage), "--dry-run")
    assert code == 0 and len(dry["new"]) == len(CLIPS)
    assert rows("SELECT count(*) FROM clips")[0][0] == 0
    assert rows("SELECT count(*) FROM scanned_files")[0][0] == 0
    assert dagster_instance().get_dynamic_partitions("clips") == []

    code, limited = ingest_json(str(footage), "--limit", "2")
    assert code == 0 and len(limited["new"]) == 2
    assert rows("SELECT count(*) FROM clips")[0][0] == 2

    missing = cli("ingest", str(tmp_path / "no such folder"))
    assert missing.returncode == 2 and "no such folder" in missing.stderr and "Traceback" not in missing.stderr
    unknown = cli("ingest", str(footage), "--disable", "nonsense")
    assert unknown.returncode == 2 and "unknown step 'nonsense'" in unknown.stderr
    required = cli("ingest", str(footage), "--disable", "clip_source")
    assert required.returncode == 2 and "required" in required.stderr
    config = tmp_path / "pipeline.json"
    config.write_text("{not json")
    bad_config = cli("ingest", str(footage), "--config", str(config))
    assert bad_config.returncode == 2 and str(config) in bad_config.stderr


def test_disabled_step_is_not_materialized_and_per_clip_mode(catalog_env, footage, monkeypatch):
    monkeypatch.setenv("VIDEO_CATALOG_RUN_MODE", "per-clip")
    code, summary = ingest_json(
        str(footage), "--disable", "catalog_record,technical_metadata,proxy,thumbnails,frame_analysis,faces,speakers,ai_analysis,embeddings"
    )
    assert code == 0 and len(summary["new"]) == len(CLIPS)
    instance = dagster_instance()
    assert len(instance.get_materialized_partitions(AssetKey("clip_source"))) == len(CLIPS)
    assert instance.get_materialized_partitions(AssetKey("catalog_record")) == set()
    assert instance.get_materialized_partitions(AssetKey("technical_metadata")) == set()
    assert instance.get_materialized_partitions(AssetKey("proxy")) == set()
    assert len(instance.get_runs()) == len(CLIPS)  # one run per clip
    assert rows("SELECT count(*) FROM catalog_records")[0][0] == 0


def test_proxy_rate_and_bitrate_come_from_the_settings_file(catalog_env, tmp_path, media_library):
    """`config set proxy_fps 2` (config.toml) makes every later proxy 2 fps; --compression-fps still wins for a run."""
    folder = tmp_path / "one"
    folder.mkdir()
    name = next(iter(media_library))
    copy(media_library[name], folder / name)
    assert cli("config", "set", "proxy_fps", "2").returncode == 0
    assert cli("config", "set", "proxy_max_bitrate", "600k").returncode == 0
    code, summary = ingest_json(str(folder), "--disable", "ai_analysis,embeddings")
    assert code == 0 and len(summary["new"]) == 1
    clip_id = summary["new"][0]["clip_id"]
    home = Path(os.environ["VIDEO_CATALOG_HOME"])
    proxy = json.loads((home / "media" / clip_id / "proxy.json").read_text())
    assert proxy["proxy_fps"] == 2.0
    import av

    with av.open(proxy["proxy_path"]) as container:  # the file itself, not only what the sidecar says
        assert float(container.streams.video[0].average_rate) == pytest.approx(2.0, abs=0.05)


def test_odd_file_names_via_cli_arguments(catalog_env, tmp_path, media_library):
    folder = tmp_path / "odd"
    names = ["-starts with dash.mp4", "quote's \"double\".mp4", "ünïcødé 映像.mkv"]
    sources = ["h264_720p.mp4", "short.mp4", "vp9_noaudio.mkv"]
    for name, src in zip(names, sources):
        copy(media_library[src], folder / name)
    result = cli("ingest", "--json", "--", *(str(folder / n) for n in names))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert sorted(Path(i["path"]).name for i in summary["new"]) == sorted(names)
    assert sorted(r[0] for r in rows("SELECT file_name FROM clips")) == sorted(names)


def test_ui_serves_the_asset_graph_with_one_partition_per_clip(catalog_env, footage):
    import signal
    import socket
    import time
    import urllib.request

    code, summary = ingest_json(str(footage))
    keys = {f"{Path(i['path']).name}-{i['clip_id']}" for i in summary["new"]}
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([*CLI, "ui", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        answer = None
        query = json.dumps({"query": "{ assetNodes { assetKey { path } partitionKeys } }"}).encode()
        while time.monotonic() < deadline and answer is None:
            time.sleep(1)
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql", data=query, headers={"Content-Type": "application/json"}
                )
                answer = json.loads(urllib.request.urlopen(request, timeout=5).read())
            except OSError:
                continue
        assert answer is not None, "the UI did not answer within 120 s"
        nodes = {tuple(n["assetKey"]["path"]): set(n["partitionKeys"]) for n in answer["data"]["assetNodes"]}
        names = ("clip_source", "technical_metadata", "proxy", "thumbnails", "frame_analysis", "faces", "speakers", "ai_analysis", "embeddings", "catalog_record")
        assert nodes == {(name,): keys for name in names}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
