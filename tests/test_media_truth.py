"""The media layer tells the truth about what decodes (issue 13, items 6, 7 and 14).

- Measured over claimed: a file cut at 30% with its index at the front, a Matroska Duration of 277,777,777
  hours and an MP4 whose duration fields are zero get the duration (and frame count) their packets hold, with a
  warning naming both figures; long clips are measured at bounded cost.
- Very short clips (one frame, half a second) come through every default step.
- A video no decoder here reads (an unknown fourcc like RED's, a stream of garbage) is cataloged metadata-only.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from catalog_resources.catalog_resource import CatalogStore
from catalog_resources.database import resolve_database
from catalog_resources.exiftool_probe import ExifToolProbe
from catalog_resources.ffmpeg_runner import FFmpegRunner
from catalog_resources.media_models import ProxySettings
from catalog_resources.mediainfo_probe import MediaInfoProbe
from catalog_resources.models import ClipFilter
from catalog_resources.pyav_probe import PyAVProbe
from catalog_resources.reconcile import reconcile
from catalog_resources.scanner import classify, scan
from catalog_resources.video_probe import decode_check, measured_duration, probe_container
from tests.tech_media import LYING_TRUTH, RECORDED_AT, make_lying_media


@pytest.fixture(scope="session")
def lying(tmp_path_factory) -> dict[str, Path]:
    return make_lying_media(tmp_path_factory.mktemp("lying"))


@pytest.fixture(scope="module")
def probed(lying) -> dict[str, object]:
    """technical_metadata's work (the three probes, reconciled) for every lying file."""
    pyav, mediainfo, exiftool = PyAVProbe(), MediaInfoProbe(), ExifToolProbe()
    try:
        return {
            name: reconcile(name, path, path.stat().st_size, pyav.probe(path), mediainfo.probe(path), exiftool.probe(path))
            for name, path in lying.items()
        }
    finally:
        exiftool.close()


def _issues(meta) -> dict[str, str]:
    return {i.code: i.message for i in meta.validation_issues}


# ---- item 6: measured over claimed ---------------------------------------------------------------------


def test_front_index_cut_is_not_a_healthy_clip_of_the_claimed_length(probed):
    meta = probed["front_index_cut.mp4"]
    truth = LYING_TRUTH["front_index_cut.mp4"]
    assert 0.5 < meta.duration_seconds < truth["max_seconds"]
    assert 10 < meta.frame_count <= truth["max_frames"]
    message = _issues(meta)["truncated"]
    assert "claims 4.0 s" in message and f"{meta.duration_seconds:.1f} s of video present" in message
    assert "truncated?" in message
    assert "measured" in meta.sources["duration_seconds"]


def test_huge_claimed_matroska_duration_is_replaced_by_the_real_one(probed):
    meta = probed["huge_duration.mkv"]
    assert meta.duration_seconds == pytest.approx(4.0, abs=0.05)
    assert meta.frame_count == 100
    message = _issues(meta)["truncated"]
    assert "277,777,777 hours" in message and "4.0 s of video present" in message
    assert "duration_mismatch" not in _issues(meta)  # one warning for one lie


def test_zeroed_mp4_durations_show_the_frames_it_holds(probed):
    meta = probed["zero_duration.mp4"]
    assert meta.duration_seconds == pytest.approx(4.0, abs=0.05)
    assert meta.frame_count == 100
    assert "headers give none" in meta.sources["duration_seconds"]


def test_clip_source_measures_too(lying):
    """clip_source's own duration (the clips table, clip_facts' fallback) is measured, not the header's."""
    duration, note = measured_duration(lying["huge_duration.mkv"])
    assert duration == pytest.approx(4.0, abs=0.05) and "277,777,777 hours" in note
    duration, note = measured_duration(lying["front_index_cut.mp4"])
    assert duration < 1.5 and "claims 4.0 s" in note
    duration, note = measured_duration(lying["zero_duration.mp4"])
    assert duration == pytest.approx(4.0, abs=0.05) and note is None
    for name in ("one_frame.mp4", "half_second.mp4"):
        assert measured_duration(lying[name]) == (pytest.approx(LYING_TRUTH[name]["seconds"], abs=0.05), None)


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def long_clips(tmp_path_factory) -> dict[str, Path]:
    """90 s clips (2,250 video packets, past the head scan's 300): measured from the index or the tail."""
    import struct

    from tests.tech_media import _patch_durations_to_zero

    folder = tmp_path_factory.mktemp("long")
    source = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=90", "-f", "lavfi", "-i",
              "sine=duration=90", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-c:a", "aac"]
    _ffmpeg(*source, "-movflags", "+faststart", str(folder / "long.mp4"))
    _ffmpeg("-i", str(folder / "long.mp4"), "-c", "copy", str(folder / "long.mkv"))
    data = (folder / "long.mp4").read_bytes()
    (folder / "long_cut.mp4").write_bytes(data[: int(len(data) * 0.3)])
    zeroed = bytearray(data)
    _patch_durations_to_zero(zeroed)
    (folder / "long_zero.mp4").write_bytes(bytes(zeroed))
    mkv = bytearray((folder / "long.mkv").read_bytes())
    at = mkv.find(b"\x44\x89\x88")
    mkv[at + 3 : at + 11] = struct.pack(">d", 1e15)
    (folder / "long_huge.mkv").write_bytes(bytes(mkv))
    return {p.name: p for p in folder.iterdir()}


def test_long_clips_are_measured_at_bounded_cost(long_clips):
    started = time.perf_counter()
    results = {name: measured_duration(path) for name, path in long_clips.items()}
    elapsed = time.perf_counter() - started
    assert results["long.mp4"] == (pytest.approx(90.0, abs=0.2), None)
    assert results["long.mkv"] == (pytest.approx(90.0, abs=0.2), None)
    cut, note = results["long_cut.mp4"]
    assert 15 < cut < 40 and "claims 90.0 s" in note
    assert results["long_zero.mp4"][0] == pytest.approx(90.0, abs=0.2)
    huge, note = results["long_huge.mkv"]
    assert huge == pytest.approx(90.0, abs=0.2) and "hours" in note
    assert elapsed < 2.0, f"measuring five 90 s clips took {elapsed:.2f} s"


# ---- item 14: metadata-only -----------------------------------------------------------------------------


def test_decode_check_names_why_no_frame_decodes(lying):
    assert decode_check(lying["no_decoder.mov"]) == "metadata-only: no decoder for R3D1"
    assert decode_check(lying["no_frame.mov"]) == "metadata-only: no decodable video frame"
    for name in ("one_frame.mp4", "half_second.mp4", "front_index_cut.mp4", "zero_duration.mp4", "huge_duration.mkv"):
        assert decode_check(lying[name]) is None, name


def test_probe_container_reads_a_stream_without_decoder(lying):
    probe = probe_container(lying["no_decoder.mov"])
    assert probe.is_video and probe.video_codec is None and probe.duration_seconds == pytest.approx(4.0, abs=0.05)


def test_technical_metadata_of_a_metadata_only_file(probed):
    meta = probed["no_decoder.mov"]
    assert meta.camera == "RED KOMODO"
    assert meta.timecode == "01:02:03:04"
    assert meta.recorded_at.isoformat() == RECORDED_AT
    assert (meta.width, meta.height) == (320, 240)  # MediaInfo reads the sample description
    assert meta.duration_seconds == pytest.approx(4.0, abs=0.05)
    assert "unsupported_codec" in _issues(meta)


def test_scan_records_the_metadata_only_reason(catalog_env, lying, tmp_path):
    store = CatalogStore(database_url=resolve_database(catalog_env).catalog_url)
    folder = tmp_path / "cards"
    folder.mkdir()
    for name in ("no_decoder.mov", "no_frame.mov", "one_frame.mp4"):
        shutil.copy2(lying[name], folder / name)
    st = (folder / "no_decoder.mov").stat()
    assert classify(folder / "no_decoder.mov", st.st_size, st.st_mtime_ns).metadata_only == LYING_TRUTH[
        "no_decoder.mov"]["metadata_only"]
    first = {Path(f.path).name: f for f in scan([folder], store).files}
    again = {Path(f.path).name: f for f in scan([folder], store).files}  # read back from scanned_files
    for files in (first, again):
        assert {n: (f.kind, f.metadata_only) for n, f in files.items()} == {
            "no_decoder.mov": ("video", "metadata-only: no decoder for R3D1"),
            "no_frame.mov": ("video", "metadata-only: no decodable video frame"),
            "one_frame.mp4": ("video", None),
        }
    assert all(f.cached for f in again.values())


# ---- item 7: a single frame through the ffmpeg runner ---------------------------------------------------


def test_one_frame_clip_gets_a_proxy(lying, tmp_path):
    derived = FFmpegRunner(encoder="libx264").derive(
        "one", lying["one_frame.mp4"], tmp_path / "one", ProxySettings(), duration=0.04, has_audio=False,
        hdr_transfer=None, sample_aspect=None,
    )
    assert derived.proxy_width == 320 and derived.analysis_frames == 1
    assert Path(derived.proxy_path).stat().st_size > 0


# ---- end to end through the real pipeline -----------------------------------------------------------------


def _rows(sql: str, *params):
    import os

    with psycopg.connect(os.environ["VIDEO_CATALOG_DATABASE_URL"]) as conn:
        return conn.execute(sql, params).fetchall()


def _default_steps() -> list[str]:
    from catalog_assets.steps import pipeline_steps

    return [s.name for s in pipeline_steps() if s.default_enabled]


@pytest.mark.slow
def test_short_clips_come_through_every_default_step(catalog_env, lying, tmp_path):
    from catalog_assets.catalog_app import CatalogApp

    folder = tmp_path / "short"
    folder.mkdir()
    for name in ("one_frame.mp4", "half_second.mp4"):
        shutil.copy2(lying[name], folder / name)
    steps = _default_steps()
    app = CatalogApp(catalog_env)
    summary = app.ingest([folder], steps=steps)
    assert summary.failed == [], summary.failed
    assert sorted(Path(i.path).name for i in summary.new) == ["half_second.mp4", "one_frame.mp4"]
    clip_ids = {r[0] for r in _rows("SELECT clip_id FROM clips")}
    from dagster import AssetKey

    for step in steps:
        assert app.instance.get_materialized_partitions(AssetKey(step)) == clip_ids, step
    found = {r[0]: r[1:] for r in _rows(
        "SELECT c.file_name, c.duration_seconds, t.duration_seconds, t.frame_count, r.status "
        "FROM clips c JOIN technical_metadata t USING (clip_id) JOIN catalog_records r USING (clip_id)")}
    assert found["one_frame.mp4"][:3] == (pytest.approx(0.04, abs=0.01), pytest.approx(0.04, abs=0.01), 1)
    assert found["half_second.mp4"][1] == pytest.approx(0.5, abs=0.05)
    assert {r[3] for r in found.values()} == {"cataloged"}
    assert _rows("SELECT count(DISTINCT clip_id) FROM thumbnails")[0][0] == 2
    assert _rows("SELECT count(DISTINCT clip_id) FROM frame_analysis")[0][0] == 2


@pytest.mark.slow
def test_lying_durations_are_cataloged_measured(catalog_env, lying, tmp_path):
    from catalog_assets.catalog_app import CatalogApp

    folder = tmp_path / "lies"
    folder.mkdir()
    for name in ("front_index_cut.mp4", "huge_duration.mkv", "zero_duration.mp4"):
        shutil.copy2(lying[name], folder / name)
    summary = CatalogApp(catalog_env).ingest([folder], steps=["clip_source", "technical_metadata", "catalog_record"])
    assert summary.failed == [] and len(summary.new) == 3
    found = {r[0]: r[1:] for r in _rows(
        "SELECT c.file_name, c.duration_seconds, t.duration_seconds, t.frame_count, t.validation_issues "
        "FROM clips c JOIN technical_metadata t USING (clip_id)")}
    for name in ("huge_duration.mkv", "zero_duration.mp4"):
        assert found[name][:3] == (pytest.approx(4.0, abs=0.05), pytest.approx(4.0, abs=0.05), 100), name
    cut = found["front_index_cut.mp4"]
    assert cut[0] < 1.5 and cut[1] < 1.5 and cut[2] < 35
    assert any(i["code"] == "truncated" and "claims 4.0 s" in i["message"] for i in cut[3])
    store = CatalogStore(database_url=resolve_database(catalog_env).catalog_url)
    assert store.list_clips(filters=ClipFilter(min_duration=3600)) == []
    assert len(store.list_clips(filters=ClipFilter(min_duration=3))) == 2


@pytest.mark.slow
def test_metadata_only_clips_are_cataloged_with_their_reason(catalog_env, lying, tmp_path):
    from catalog_assets.catalog_app import CatalogApp

    folder = tmp_path / "raw"
    folder.mkdir()
    for name in ("no_decoder.mov", "no_frame.mov"):
        shutil.copy2(lying[name], folder / name)
    summary = CatalogApp(catalog_env).ingest([folder], steps=["clip_source", "technical_metadata", "catalog_record"])
    assert summary.failed == [] and len(summary.new) == 2
    found = {r[0]: r[1:] for r in _rows(
        "SELECT c.file_name, c.status, r.status, t.camera_make, t.camera_model, t.timecode, t.recorded_at "
        "FROM clips c JOIN technical_metadata t USING (clip_id) JOIN catalog_records r USING (clip_id)")}
    red = found["no_decoder.mov"]
    assert red[:2] == ("metadata-only: no decoder for R3D1",) * 2
    assert red[2:5] == ("RED", "KOMODO", "01:02:03:04") and red[5].isoformat() == RECORDED_AT
    assert found["no_frame.mov"][:2] == ("metadata-only: no decodable video frame",) * 2
