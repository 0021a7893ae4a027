"""The media layer tells the truth about what decodes (issue 13, items 6, 7 and 14).

- Measured over claimed: a file cut at 30% with its index at the front, a Matroska Duration of 277,777,777
  hours and an MP4 whose duration fields are zero get the duration (and frame count) their packets hold, with a
  warning naming both figures; long clips are measured at bounded cost.
- Very short clips (one frame, half a second) come through every default step.
- A video no decoder here reads (an unknown fourcc like RED's, a stream of garbage) is cataloged metadata-only;
  so is a file ffmpeg cannot open at all when MediaInfo reads a video in it (a header whose packets were cut
  off, RED R3D), while random bytes, text and files cut before their header stay what they are.
- Tiny and extreme-aspect clips (1x1, 3x1, 4000x2) get even proxy sizes; a cut FLV whose keyframe index points
  past its end still gets thumbnails.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.store.endpoint import resolve_database
from catalog_resources.models.media import ProxySettings
from catalog_resources.models.clips import ClipFilter
from catalog_resources.media.reconcile import reconcile
from catalog_resources.ingest.scanner import classify, scan
from catalog_resources.media.container import probe_container
from catalog_resources.media.decode_check import decode_check, first_decodable_frame
from catalog_resources.media.pyav import measured_duration
from catalog_resources.resources.media import FFmpegRunner, FrameInspector, Thumbnailer
from catalog_resources.resources.probes import ExifToolProbe, MediaInfoProbe, PyAVProbe
from tests.tech_media import LYING_TRUTH, RECORDED_AT, make_lying_media

REAL = Path(__file__).parent / "fixtures" / "real"  # camera files from other projects' test suites (SOURCES.md)
RED_REASON = "metadata-only: no decoder for RED R3D here (ffmpeg cannot open it)"


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
    store = CatalogResource(database_url=resolve_database(catalog_env).catalog_url)
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


def _classified(path: Path):
    st = path.stat()
    return classify(path, st.st_size, st.st_mtime_ns)


@pytest.mark.parametrize("name", ["header_only.mkv", "header_only.wmv"])
def test_a_header_ffmpeg_cannot_open_is_metadata_only_video(lying, name):
    """libavformat rejects these headers (its packets were cut off); MediaInfo reads their tracks."""
    path = lying[name]
    reason = LYING_TRUTH[name]["metadata_only"]
    scanned = _classified(path)
    assert (scanned.kind, scanned.metadata_only) == ("video", reason)
    assert scanned.fingerprint
    probe = probe_container(path)
    assert (probe.is_video, probe.width, probe.height, probe.metadata_only) == (True, 320, 240, reason)
    assert probe.duration_seconds == pytest.approx(4.0, abs=0.1)
    assert first_decodable_frame(path) == (None, reason)  # clip_source's check: no raise
    assert measured_duration(path) == (None, None)


def test_red_r3d_is_metadata_only_video():
    """ExifTool's RED R3D header: MediaInfo names the format only (no track), which is enough to call it video."""
    path = REAL / "exiftool" / "Red.r3d"
    scanned = _classified(path)
    assert (scanned.kind, scanned.metadata_only) == ("video", RED_REASON)
    assert probe_container(path).container == "R3D"
    assert first_decodable_frame(path) == (None, RED_REASON)


def test_what_mediainfo_finds_no_video_in_stays_what_it_is(lying, tmp_path):
    """The MediaInfo fallback does not make video of bytes with no readable video header."""
    import random

    mkv = lying["header_only.mkv"].read_bytes()
    files = {
        "random.mkv": random.Random(14).randbytes(100_000),
        "text.wmv": b"shot list\n1. wide\n2. close-up\n",
        "ebml_only.mkv": mkv[:40],  # cut inside the EBML header: no Segment, no Tracks
        "tail_only.mkv": mkv[400:],  # the header gone: from the middle of the tracks on
        "no_header.wmv": lying["header_only.wmv"].read_bytes()[30:],
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    found = {name: _classified(tmp_path / name) for name in files}
    assert {n: (f.kind, f.metadata_only) for n, f in found.items()} == {
        n: ("not_video", None) for n in files}, {n: f.reason for n, f in found.items()}
    moov_missing = tmp_path / "moov_missing.mp4"  # the index never written: damaged footage, as before
    moov_missing.write_bytes(lying["zero_duration.mp4"].read_bytes()[:60_000])
    scanned = _classified(moov_missing)
    assert scanned.kind == "unreadable" and scanned.reason.startswith("corrupt or truncated MP4"), scanned


def test_technical_metadata_of_headers_ffmpeg_cannot_open(probed):
    meta = probed["header_only.mkv"]
    assert (meta.container_format, meta.video_codec, meta.width, meta.height) == ("matroska", "h264", 320, 240)
    assert meta.frame_rate == pytest.approx(25.0)
    # 4 s claimed in a header of a few hundred bytes: nothing holds that video, so no duration is believed
    assert meta.duration_seconds is None and "too few for that much video" in _issues(meta)["duration_claim"]
    assert meta.recorded_at.isoformat() == RECORDED_AT
    assert [t.codec for t in meta.audio_tracks] == ["aac"]
    assert "ffmpeg cannot open it" in _issues(meta)["unreadable"]
    wmv = probed["header_only.wmv"]
    assert (wmv.container_format, wmv.video_codec, wmv.width, wmv.height) == ("asf", "wmv2", 320, 240)


def test_technical_metadata_of_red_r3d():
    path = REAL / "exiftool" / "Red.r3d"
    exiftool = ExifToolProbe()
    try:
        meta = reconcile("red", path, path.stat().st_size, PyAVProbe().probe(path), MediaInfoProbe().probe(path),
                         exiftool.probe(path))
    finally:
        exiftool.close()
    assert (meta.container_format, meta.width, meta.height, meta.camera_model) == ("r3d", 5120, 2560, "S-WEAPON")
    assert meta.frame_rate == pytest.approx(23.976, abs=0.001)
    assert meta.timecode == "21:36:16:18"
    assert meta.recorded_at.date().isoformat() == "2016-01-18"
    assert meta.source_workflow == "RED camera"
    assert "RED R3D" in _issues(meta)["unsupported_codec"]


# ---- a cut FLV: seeks that hit end of file --------------------------------------------------------------


def test_thumbnails_of_a_cut_flv_whose_index_points_past_its_end(lying, tmp_path):
    """Seeking to a keyframe the FLV's index places beyond the end raised av.error.EOFError; the frames
    that are there make the thumbnails."""
    result = Thumbnailer(count=8).extract("flv", lying["indexed_cut.flv"], tmp_path / "flv")
    assert result.frames_decoded >= 1 and len(result.thumbnails) >= 1
    assert all(Path(p).stat().st_size > 0 for t in result.thumbnails for p in t.paths.values())
    assert all(t.pts_seconds < 0.2 for t in result.thumbnails)  # what is in the file, not the 3 s claimed


def test_thumbnails_of_exiftools_flash_flv(tmp_path):
    """ExifTool's Flash.flv: one VP6 frame, an FLVTool2 keyframe index pointing past the end of the file."""
    result = Thumbnailer().extract("flash", REAL / "exiftool" / "Flash.flv", tmp_path / "flash")
    assert [(t.pts_seconds, t.width, t.height) for t in result.thumbnails] == [(0.0, 192, 154)]


# ---- tiny and extreme-aspect clips: even sizes, at least 2x2 ----------------------------------------------

TINY = [name for name, truth in LYING_TRUTH.items() if "size" in truth]


@pytest.mark.parametrize("name", TINY)
def test_tiny_and_strip_clips_come_through_the_pixel_steps(lying, tmp_path, name):
    """libx264 refused the 1x2 proxy ffmpeg's `-2` made of a 1x1 clip; a 4000x2 strip's short side became 0."""
    derived = FFmpegRunner(encoder="libx264").derive(
        name, lying[name], tmp_path / "p", ProxySettings(), duration=1.0, has_audio=False,
        hdr_transfer=None, sample_aspect=None,
    )
    assert (derived.proxy_width, derived.proxy_height) == LYING_TRUTH[name]["proxy"]
    assert derived.analysis_frames == 5 and derived.analysis_width == 64
    assert derived.analysis_height % 2 == 0 and 2 <= derived.analysis_height <= 1024
    thumbs = Thumbnailer(count=3).extract(name, lying[name], tmp_path / "t")
    assert thumbs.thumbnails and all(t.width >= 2 and t.height >= 2 for t in thumbs.thumbnails)
    analysis = FrameInspector().analyze(name, derived, thumbs, duration=1.0, start=0.0, focal_35mm=None)
    assert analysis.analysis_frames == 5 and analysis.quality_score is not None


def test_anamorphic_tiny_clip_keeps_even_sizes(lying, tmp_path):
    """The square-pixel scale (SAR) in front of the proxy scale must not make a side 0 or odd either."""
    derived = FFmpegRunner(encoder="libx264").derive(
        "sar", lying["tiny_1x1.mp4"], tmp_path, ProxySettings(), duration=1.0, has_audio=False,
        hdr_transfer=None, sample_aspect="1:2",
    )
    assert (derived.proxy_width, derived.proxy_height) == (2, 2)


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
    keys = {f"{name}-{clip_id}" for clip_id, name in _rows("SELECT clip_id, file_name FROM clips")}
    from dagster import AssetKey

    for step in steps:
        assert app.instance.get_materialized_partitions(AssetKey(step)) == keys, step
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
    store = CatalogResource(database_url=resolve_database(catalog_env).catalog_url)
    assert store.list_clips(filters=ClipFilter(min_duration=3600)) == []
    assert len(store.list_clips(filters=ClipFilter(min_duration=3))) == 2


@pytest.mark.slow
def test_metadata_only_clips_are_cataloged_with_their_reason(catalog_env, lying, tmp_path):
    from catalog_assets.catalog_app import CatalogApp

    folder = tmp_path / "raw"
    folder.mkdir()
    for name in ("no_decoder.mov", "no_frame.mov", "header_only.mkv", "header_only.wmv"):
        shutil.copy2(lying[name], folder / name)
    shutil.copy2(REAL / "exiftool" / "Red.r3d", folder / "Red.r3d")
    summary = CatalogApp(catalog_env).ingest([folder], steps=["clip_source", "technical_metadata", "catalog_record"])
    assert summary.failed == [] and len(summary.new) == 5
    found = {r[0]: r[1:] for r in _rows(
        "SELECT c.file_name, c.status, r.status, t.camera_make, t.camera_model, t.timecode, t.recorded_at "
        "FROM clips c JOIN technical_metadata t USING (clip_id) JOIN catalog_records r USING (clip_id)")}
    red = found["no_decoder.mov"]
    assert red[:2] == ("metadata-only: no decoder for R3D1",) * 2
    assert red[2:5] == ("RED", "KOMODO", "01:02:03:04") and red[5].isoformat() == RECORDED_AT
    assert found["no_frame.mov"][:2] == ("metadata-only: no decodable video frame",) * 2
    for name in ("header_only.mkv", "header_only.wmv"):
        assert found[name][:2] == (LYING_TRUTH[name]["metadata_only"],) * 2
    assert found["header_only.mkv"][5].isoformat() == RECORDED_AT
    assert found["Red.r3d"][:2] == (RED_REASON,) * 2 and found["Red.r3d"][3:5] == ("S-WEAPON", "21:36:16:18")
    clips = {r[0]: r[1:] for r in _rows("SELECT file_name, container, width, height, duration_seconds FROM clips")}
    assert clips["header_only.mkv"][:3] == ("Matroska", 320, 240)  # MediaInfo's facts where PyAV has none
    assert clips["header_only.mkv"][3] is None  # 4 s claimed by a header with no video behind it: not believed
    assert clips["Red.r3d"][0] == "R3D"


def test_one_frame_dv_is_measured_at_its_frame_length():
    """ExifTool's one-frame PAL DV claims 1.2 ms; its one frame lasts 40 ms (within the 0.5 s tolerance, but
    30 times off)."""
    duration, note = measured_duration(REAL / "exiftool" / "DV.dv")
    assert duration == pytest.approx(0.04, abs=0.001) and "duration field too short" in note
