"""`export edl|fcpxml|otio` on real ingested clips with timecode tracks at 23.976, 25 and 29.97 drop-frame: each
export is read back with OpenTimelineIO and its ranges compared to the frame (source timecode + hit range +
handles, clamped to the clip), plus the one-line errors."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from xml.etree import ElementTree

import opentimelineio as otio
import psycopg
import pytest

from catalog_resources.export.timeline import Subclip, subclip_frames
from tests.media import REGISTER_ONLY

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "catalog_cli.main"]
SECONDS = 3
# name -> (ffmpeg rate, exact rate, timecode written, its frame count at that rate, word said, hit start, hit end)
CLIPS = {
    "tc_23976.mov": ("24000/1001", Fraction(24000, 1001), "01:00:00:00", 86400, "alpha", 1.0, 1.5),
    "tc_25.mov": ("25", Fraction(25), "10:00:00:00", 900000, "bravo", 0.4, 0.9),
    "tc_2997df.mov": ("30000/1001", Fraction(30000, 1001), "01:00:00;00", 107892, "charlie", 2.0, 2.9),
}
HANDLES = 0.5
ADAPTER = {"edl": "cmx_3600", "fcpxml": "fcpx_xml", "otio": "otio_json"}


def cli(*args: str) -> subprocess.CompletedProcess:
    """The command in this process (Typer's runner): the console script's code without a Python start and its
    imports per call (the ingest below runs as a real process)."""
    from typer.testing import CliRunner

    from catalog_cli.main import app

    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def make_timecode_clip(path: Path, rate: str, timecode: str) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=160x120:rate={rate}",
                    "-t", str(SECONDS), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    "-timecode", timecode, "-f", "mov", str(path)], check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def catalog(module_catalog_env, tmp_path_factory):
    """The three clips ingested (clip_source, technical_metadata, catalog_record), then seeded with what an
    analysis would have found: one spoken line per clip (a transcript segment and the word in its document),
    and three collections."""
    folder = tmp_path_factory.mktemp("timecode footage")
    for name, (rate, _exact, timecode, *_rest) in CLIPS.items():
        make_timecode_clip(folder / name, rate, timecode)
    config = folder.parent / "light.json"
    config.write_text(json.dumps({"steps": {s: False for s in REGISTER_ONLY if s not in ("technical_metadata", "catalog_record")}}))
    result = subprocess.run([*CLI, "ingest", "--json", "--config", str(config), str(folder)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    ids = {Path(item["path"]).name: item["clip_id"] for item in json.loads(result.stdout)["new"]}
    assert sorted(ids) == sorted(CLIPS)
    with psycopg.connect(os.environ["VIDEO_CATALOG_DATABASE_URL"], autocommit=True) as conn:
        for name, (*_head, word, start, end) in CLIPS.items():
            conn.execute("INSERT INTO segments (clip_id, segment_index, start_seconds, end_seconds, segment_type, text)"
                         " VALUES (%s, 100, %s, %s, 'transcript', %s)", (ids[name], start, end, f"we said {word} here"))
            conn.execute("UPDATE catalog_records SET document = document || ' we said ' || %s WHERE clip_id = %s",
                         (word, ids[name]))
        for collection, names in (("all rates", list(CLIPS)), ("ntsc", ["tc_2997df.mov"]), ("empty", [])):
            cid = conn.execute("INSERT INTO collections (name) VALUES (%s) RETURNING collection_id",
                               (collection,)).fetchone()[0]
            for n, name in enumerate(names):
                conn.execute("INSERT INTO collection_clips (collection_id, clip_id, added_at) "
                             "VALUES (%s, %s, now() + %s * interval '1 second')", (cid, ids[name], n))
    tech = {name: json.loads(cli("show", ids[name], "--json").stdout)["technical_metadata"] for name in CLIPS}
    return {"folder": folder, "ids": ids, "tech": tech}


def expected(name: str, tech: dict, start: float | None = None, end: float | None = None) -> tuple[int, int, int]:
    """(first frame as a count from midnight at the clip's rate, frame count, the clip's total frames), worked
    out here from the fixture's own numbers, not by the exporter's code."""
    _ffrate, exact, _tc, origin, *_ = CLIPS[name]
    total = tech[name]["frame_count"]
    assert total == SECONDS * exact.numerator // exact.denominator or abs(total - float(SECONDS * exact)) < 1.01
    if start is None:
        return origin, total, total
    handle = round(HANDLES * float(exact))
    first = max(0, math.floor(start * exact) - handle)
    last = min(total, math.ceil(end * exact) + handle)
    return origin + first, last - first, total


def read_back(text: str, fmt: str, rate: float) -> list[otio.schema.Clip]:
    kwargs = {"rate": rate} if fmt == "edl" else {}
    return list(otio.adapters.read_from_string(text, ADAPTER[fmt], **kwargs).find_clips())


def fcpxml_frames(text: str) -> list[tuple[int, int, int]]:
    """Each spine clip's (start, duration, its asset's start) in frames of its format, from the XML's exact
    rational times: OTIO's fcpx reader truncates 29.97 to 29 fps (OpenTimelineIO issue #903)."""
    root = ElementTree.fromstring(text.split("\n", 3)[-1] if text.startswith("<?xml") else text)
    formats = {f.get("id"): Fraction(f.get("frameDuration").rstrip("s")) for f in root.iter("format")}
    assets = {a.get("id"): a for a in root.iter("asset")}

    def seconds(value: str | None) -> Fraction:
        return Fraction((value or "0s").rstrip("s"))

    frames = []
    for clip in root.iter("clip"):
        asset = assets[clip.find("video").get("ref")]
        frame = formats[asset.get("format")]
        values = [seconds(clip.get("start")) / frame, seconds(clip.get("duration")) / frame,
                  seconds(asset.get("start")) / frame]
        assert all(v.denominator == 1 for v in values), values  # on frame boundaries exactly
        frames.append(tuple(int(v) for v in values))
    return frames


def check_subclip(clip: otio.schema.Clip, text: str, fmt: str, name: str, catalog: dict, index: int = 0) -> None:
    """One read-back subclip against the frames worked out from the fixture."""
    _ffrate, exact, _tc, origin, _word, start, end = CLIPS[name]
    first, frames, total = expected(name, catalog["tech"], start, end)
    assert clip.media_reference.target_url == (catalog["folder"] / name).as_uri()
    if fmt == "fcpxml":
        assert fcpxml_frames(text)[index] == (first, frames, origin), name
        got = clip.source_range  # at OTIO's integer rate: within a frame of the exact time
        assert abs(got.start_time.to_seconds() - first / exact) < 1 / float(exact), name
        if exact.denominator == 1:
            assert (got.start_time.value, got.duration.value) == (first, frames)
        return
    assert (clip.source_range.start_time.value, clip.source_range.duration.value) == (first, frames), name
    assert abs(clip.source_range.start_time.rate - float(exact)) < 1e-6
    if fmt == "otio":
        available = clip.media_reference.available_range
        assert (available.start_time.value, available.duration.value) == (origin, total)
        assert clip.metadata["video_catalog"]["clip_id"] == catalog["ids"][name]
        assert clip.metadata["video_catalog"]["drop_frame"] == (name == "tc_2997df.mov")


def test_edl_round_trips_to_the_frame_at_each_rate(catalog, tmp_path):
    """An EDL holds one rate: one export per clip, read back at that rate."""
    for name, (_ffrate, exact, _tc, _origin, word, *_) in CLIPS.items():
        target = tmp_path / f"{word}.edl"
        result = cli("export", "edl", "--search", word, "--mode", "text", "--handles", f"{HANDLES}s", "-o", str(target))
        assert result.returncode == 0, result.stderr
        assert "wrote 1 subclip" in result.stderr
        (clip,) = read_back(target.read_text(), "edl", float(exact))
        check_subclip(clip, target.read_text(), "edl", name, catalog)
    edl = (tmp_path / "charlie.edl").read_text()
    # from 01:00:00;00: 2.0 s is frame 59, less a 15-frame handle is 44 (01:00:01;14); 2.9 s + handle passes the
    # clip's end, so the out point is its 90th frame (01:00:03;00)
    assert "FCM: DROP FRAME" in edl and "01:00:01;14 01:00:03;00" in edl
    assert "FCM: NON-DROP FRAME" in (tmp_path / "bravo.edl").read_text()


@pytest.mark.parametrize("fmt", ["fcpxml", "otio"])
def test_mixed_rates_round_trip_to_the_frame(catalog, fmt, tmp_path):
    """One search hitting the three clips: each subclip at its own rate and source timecode."""
    target = tmp_path / f"hits.{fmt}"
    result = cli("export", fmt, "--search", "alpha or bravo or charlie", "--mode", "text", "--handles",
                 f"{HANDLES}s", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert "wrote 3 subclips" in result.stderr
    text = target.read_text()
    clips = read_back(text, fmt, 25)
    assert sorted(c.name for c in clips) == sorted(CLIPS)
    for index, clip in enumerate(clips):
        check_subclip(clip, text, fmt, clip.name, catalog, index)


def test_handles_clamp_to_the_clip(catalog):
    """2 s handles around 2.0-2.9 s of a 3 s clip reach past both ends: the subclip is the whole clip, no more."""
    name = "tc_2997df.mov"
    result = cli("export", "otio", "--search", "charlie", "--mode", "text", "--handles", "2s")
    assert result.returncode == 0, result.stderr
    (clip,) = read_back(result.stdout, "otio", 30000 / 1001)
    _f, exact, _tc, origin, *_ = CLIPS[name]
    total = catalog["tech"][name]["frame_count"]
    assert math.floor(2.0 * exact) - 60 < 0  # frame 59 less 60 frames of handle
    assert (clip.source_range.start_time.value, clip.source_range.end_time_exclusive().value) == (origin, origin + total)
    frames = subclip_frames(Subclip(clip_id="x", name="x", path="/x", frame_rate=25, frame_count=75,
                                    start_seconds=0.2, end_seconds=0.4), 2.0)
    assert (frames.first, frames.count) == (0, 60)


def test_collection_exports_whole_clips_at_their_own_rates(catalog, tmp_path):
    result = cli("export", "otio", "--collection", "all rates", "-o", str(tmp_path / "all.otio"))
    assert result.returncode == 0, result.stderr
    clips = read_back((tmp_path / "all.otio").read_text(), "otio", 25)
    assert [c.name for c in clips] == list(CLIPS)  # in the order they were added
    for clip, name in zip(clips, CLIPS):
        origin, frames, _total = expected(name, catalog["tech"])
        assert (clip.source_range.start_time.value, clip.source_range.duration.value) == (origin, frames)
        assert abs(clip.source_range.start_time.rate - float(CLIPS[name][1])) < 1e-6
    fcpxml = cli("export", "fcpxml", "--collection", "all rates")
    assert fcpxml.returncode == 0, fcpxml.stderr
    assert [f for f in fcpxml_frames(fcpxml.stdout)] == [
        (expected(n, catalog["tech"])[0], expected(n, catalog["tech"])[1], CLIPS[n][3]) for n in CLIPS]
    ntsc = cli("export", "edl", "--collection", "ntsc")
    assert ntsc.returncode == 0 and "01:00:00;00 01:00:03;00" in ntsc.stdout, ntsc.stdout  # 90 frames DF


def test_bad_input_is_one_line(catalog, tmp_path):
    def one_line(result: subprocess.CompletedProcess, code: int, words: str) -> None:
        assert result.returncode == code, (result.returncode, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and words in result.stderr, result.stderr

    one_line(cli("export", "edl", "--collection", "all rates"), 2, "one frame rate")
    one_line(cli("export", "otio", "--collection", "no such"), 2, "no collection named 'no such'")
    one_line(cli("export", "otio", "--collection", "empty"), 1, "is empty")
    one_line(cli("export", "xml", "--collection", "ntsc"), 2, "unknown export format")
    one_line(cli("export", "otio"), 2, "exactly one of")
    one_line(cli("export", "otio", "--collection", "ntsc", "--handles", "two"), 2, "--handles")
    one_line(cli("export", "otio", "--search", "zebra", "--mode", "text"), 1, "no good matches")
    one_line(cli("export", "otio", "--collection", "ntsc", "-o", str(tmp_path / "missing" / "x.otio")), 2, "does not exist")
    one_line(cli("export", "otio", "--collection", "ntsc", "-o", str(tmp_path)), 2, "it is a folder")
    one_line(cli("export", "otio", "--collection", "ntsc", "-o", "/proc/version"), 2, "cannot write /proc/version")
    real = subprocess.run([str(Path(sys.executable).parent / "video-catalog"), "export", "edl", "--collection", "ntsc",
                           "-o", str(tmp_path / "no" / "x.edl")], capture_output=True, text=True, timeout=120)
    one_line(real, 2, "does not exist")  # the console script itself, in its own process
