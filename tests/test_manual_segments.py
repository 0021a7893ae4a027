"""Manual segments (`segments add|edit|remove`) on a really ingested clip: add, list, search by words and by meaning,
export (EDL, FCPXML and OTIO read back: the label at the right frames), re-analysis leaves them, remove; and the
one-line errors. One 8 s clip at 25 fps with a 10:00:00:00 timecode, ingested with technical_metadata,
catalog_record and embeddings only (the local e5 model, offline)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from xml.etree import ElementTree

import opentimelineio as otio
import psycopg
import pytest

from catalog_resources.store.analysis import replace_segments
from catalog_resources.store.catalog import CatalogDB
from tests.manage_media import run as cli
from tests.media import REGISTER_ONLY
from tests.test_cli_errors import one_line_error

pytestmark = pytest.mark.slow
os.environ.setdefault("HF_HUB_OFFLINE", "1")
RATE, ORIGIN = 25, 10 * 3600 * 25  # the clip's frames per second, and its 10:00:00:00 as a frame count
KEPT = ("technical_metadata", "catalog_record", "embeddings")


def rows(sql: str, *params):
    with psycopg.connect(os.environ["VIDEO_CATALOG_DATABASE_URL"]) as conn:
        return conn.execute(sql, params).fetchall()


def ok_json(*args: str):
    result = cli(*args, "--json")
    assert result.returncode == 0, (args, result.stderr)
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def clip(module_catalog_env, tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("market footage")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=160x120:rate={RATE}", "-t", "8",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-timecode", "10:00:00:00",
                    "-f", "mov", str(folder / "harbour.mov")], check=True, capture_output=True)
    config = folder.parent / "light.json"
    config.write_text(json.dumps({"steps": {s: False for s in REGISTER_ONLY if s not in KEPT}}))
    result = subprocess.run([sys.executable, "-m", "catalog_cli.main", "ingest", "--json", "--config", str(config),
                             str(folder)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    (clip_id,) = [item["clip_id"] for item in json.loads(result.stdout)["new"]]
    assert rows("SELECT count(*) FROM embeddings WHERE clip_id = %s AND scope = 'full_clip'", clip_id)[0][0] == 1
    return clip_id


def store() -> CatalogDB:
    return CatalogDB(os.environ["VIDEO_CATALOG_DATABASE_URL"])


def test_add_list_search_export_remove(clip, tmp_path):
    added = ok_json("segments", "add", clip[:8], "--start", "00:00:02", "--end", "0:05", "--label", "B-roll market",
                    "--note", "fish stalls at dawn")
    seg = added["segment_id"]
    assert (added["segment_type"], added["text"], added["note"]) == ("manual", "B-roll market", "fish stalls at dawn")
    assert (added["start_seconds"], added["end_seconds"], added["embedded"]) == (2.0, 5.0, True)
    assert rows("SELECT segment_type, text, description FROM segments WHERE segment_id = %s", seg) == [
        ("manual", "B-roll market", "fish stalls at dawn")]
    # its vector, from the label and note, next to the clip's own
    assert rows("SELECT source_text FROM embeddings WHERE segment_id = %s", seg) == [("B-roll market. fish stalls at dawn",)]

    # listed: `segments CLIP` as before the group, and `segments list CLIP`
    for listing in (("segments", clip, "--type", "manual"), ("segments", "list", clip, "--type", "manual")):
        assert [(s["segment_id"], s["text"], s["note"], s["start_seconds"], s["end_seconds"])
                for s in ok_json(*listing)] == [(seg, "B-roll market", "fish stalls at dawn", 2.0, 5.0)]
    assert seg in [s["segment_id"] for s in ok_json("segments", "--type", "manual")]
    assert "B-roll market" in cli("show", clip).stdout

    # searched: by words (the clip, at the segment's range), each segment, and by meaning
    hits = ok_json("search", "market", "--mode", "text")
    assert [(h["clip_id"], h["start_seconds"], h["end_seconds"]) for h in hits] == [(clip, 2.0, 5.0)]
    worded = ok_json("search", "market", "--segment-level", "--mode", "text")
    assert [(h["segment_id"], h["segment_type"]) for h in worded] == [(seg, "manual")]
    meant = ok_json("search", "fish stalls at a market", "--segment-level", "--mode", "semantic")
    assert meant[0]["segment_id"] == seg and meant[0]["similarity"] >= 0.82

    # exported: a search hit on it is its range, and the clip carries it as a marker with the label
    for fmt in ("edl", "fcpxml", "otio"):
        out = tmp_path / f"market.{fmt}"
        result = cli("export", fmt, "--search", "market", "--mode", "text", "-o", str(out))
        assert result.returncode == 0, result.stderr
        check_export(out.read_text(), fmt)

    # edited: new words are found, the old ones no longer
    changed = ok_json("segments", "edit", str(seg), "--label", "harbour crane", "--end", "0:06")
    assert (changed["text"], changed["end_seconds"], changed["note"], changed["embedded"]) == (
        "harbour crane", 6.0, "fish stalls at dawn", True)
    assert [h["end_seconds"] for h in ok_json("search", "crane", "--mode", "text")] == [6.0]
    assert cli("search", "market", "--mode", "text", "--json").returncode == 1

    # removed: gone from the list, the search and the vectors
    removed = ok_json("segments", "remove", str(seg))
    assert removed["segment_id"] == seg
    assert ok_json("segments", clip, "--type", "manual") == []
    assert cli("search", "crane", "--mode", "text", "--json").returncode == 1
    assert rows("SELECT count(*) FROM embeddings WHERE segment_id = %s", seg) == [(0,)]


def check_export(text: str, fmt: str) -> None:
    """The hit is frames 50-125 of the clip (2.0-5.0 s at 25 fps, after 10:00:00:00), its marker says the label."""
    first, count = ORIGIN + 2 * RATE, 3 * RATE
    if fmt == "fcpxml":  # the XML's own times: OTIO's reader rounds rates
        marker = next(ElementTree.fromstring(text.split("\n", 3)[-1] if text.startswith("<?xml") else text)
                      .iter("marker"))
        assert marker.get("value") == "B-roll market"
        seconds = [Fraction(marker.get(k).rstrip("s")) for k in ("start", "duration")]
        assert seconds == [Fraction(first, RATE), Fraction(count, RATE)]
        return
    kwargs = {"rate": RATE} if fmt == "edl" else {}
    (subclip,) = otio.adapters.read_from_string(text, {"edl": "cmx_3600", "otio": "otio_json"}[fmt], **kwargs).find_clips()
    assert (subclip.source_range.start_time.value, subclip.source_range.duration.value) == (first, count)
    (marker,) = subclip.markers
    assert marker.marked_range.start_time.value == first
    if fmt == "edl":  # a LOC line: upper case, its first frame only
        assert marker.name == "B-ROLL MARKET" and "* LOC: 10:00:02:00 BLUE    B-ROLL MARKET" in text
    else:
        assert marker.name == "B-roll market" and marker.marked_range.duration.value == count
        assert marker.metadata["video_catalog"]["note"] == "fish stalls at dawn"


def test_a_whole_clip_export_marks_each_manual_segment(clip, tmp_path):
    ids = [ok_json("segments", "add", clip, "--start", start, "--end", end, "--label", label)["segment_id"]
           for start, end, label in (("1", "1.5", "gull"), ("6.2", "7.9", "ferry horn"))]
    assert cli("collection", "create", "quay").returncode == 0
    assert cli("collection", "add", "quay", "--clip-id", clip).returncode == 0
    out = tmp_path / "quay.otio"
    assert cli("export", "otio", "--collection", "quay", "-o", str(out)).returncode == 0
    (subclip,) = otio.adapters.read_from_file(str(out)).find_clips()
    assert [(m.name, m.marked_range.start_time.value - ORIGIN, m.marked_range.duration.value)
            for m in subclip.markers] == [("gull", 25, 13), ("ferry horn", 155, 43)]  # 1.0-1.5 s, 6.2-7.9 s in frames
    for segment_id in ids:
        assert cli("segments", "remove", str(segment_id)).returncode == 0


def test_reanalysis_leaves_manual_segments(clip):
    """The analysis writers replace their own kinds (replace_segments, as frame_analysis and ai_analysis call it)
    before and after a manual add: no index collides, the manual segment keeps its id and words, and the embeddings
    step's own recipe embeds it."""
    db = store()
    with db.connect() as conn:
        replace_segments(conn, clip, "scene_change", [{"start_seconds": 0.0, "end_seconds": 4.0},
                                                      {"start_seconds": 4.0, "end_seconds": 8.0}])
    seg = ok_json("segments", "add", clip, "--start", "3", "--end", "4", "--label", "net mending")["segment_id"]
    for _ in range(2):  # the analysis runs again, twice
        with db.connect() as conn:
            replace_segments(conn, clip, "scene_change", [{"start_seconds": 0.0, "end_seconds": 8.0}])
            replace_segments(conn, clip, "transcript", [{"start_seconds": 3.2, "end_seconds": 3.9, "text": "nets"}])
    kinds = rows("SELECT segment_id, segment_type, segment_index, text FROM segments WHERE clip_id = %s"
                 " ORDER BY segment_index", clip)
    assert [k[1] for k in kinds] == ["manual", "scene_change", "transcript"]
    assert kinds[0][0] == seg and kinds[0][3] == "net mending"
    assert len({k[2] for k in kinds}) == 3
    second = ok_json("segments", "add", clip, "--start", "5", "--end", "6", "--label", "rope coil")["segment_id"]
    assert rows("SELECT segment_index FROM segments WHERE segment_id = %s", second)[0][0] > kinds[-1][2]

    from catalog_resources.embeddings.service import EmbeddingService

    embedded = EmbeddingService().embed_clip(clip, db.embedding_inputs(clip))
    texts = {item.segment_id: item.text for item in embedded.items if item.scope == "segment"}
    assert texts[seg] == "net mending" and texts[second] == "rope coil"
    for segment_id in (seg, second):
        assert cli("segments", "remove", str(segment_id)).returncode == 0
    with db.connect() as conn:
        replace_segments(conn, clip, "transcript", [])


def test_errors_are_one_line(clip):
    assert "no cataloged clip" in one_line_error(cli("segments", "add", "nosuchclip", "--start", "1", "--end", "2",
                                                     "--label", "x"))
    bad = [
        (("--start", "0:05", "--end", "0:02"), "must be after --start"),
        (("--start", "3", "--end", "3"), "must be after --start"),
        (("--start", "00:00:05", "--end", "00:01:10"), "outside clip"),
        (("--start", "9", "--end", "10"), "8.0 s long"),
        (("--start", "soon", "--end", "2"), "expected a time"),
        (("--start", "1", "--end", "1:70"), "up to 59"),
    ]
    for args, words in bad:
        assert words in one_line_error(cli("segments", "add", clip, *args, "--label", "x")), args
    assert "--label is empty" in one_line_error(cli("segments", "add", clip, "--start", "1", "--end", "2",
                                                    "--label", "  "))
    assert rows("SELECT count(*) FROM segments WHERE clip_id = %s AND segment_type = 'manual'", clip) == [(0,)]
    assert "no segment 999999" in one_line_error(cli("segments", "remove", "999999"))
    assert "no segment 999999" in one_line_error(cli("segments", "edit", "999999", "--label", "x"))
    with store().connect() as conn:
        replace_segments(conn, clip, "transcript", [{"start_seconds": 1.0, "end_seconds": 2.0, "text": "hello"}])
    (line,) = rows("SELECT segment_id FROM segments WHERE clip_id = %s AND segment_type = 'transcript'", clip)
    refused = one_line_error(cli("segments", "remove", str(line[0])))
    assert f"segment {line[0]} is a transcript segment" in refused and "only manual segments" in refused
    assert "only manual segments" in one_line_error(cli("segments", "edit", str(line[0]), "--label", "x"))
    assert rows("SELECT count(*) FROM segments WHERE segment_id = %s", line[0]) == [(1,)]
    seg = ok_json("segments", "add", clip, "--start", "1", "--end", "2", "--label", "buoy", "--note", "red")["segment_id"]
    assert "must be after --start" in one_line_error(cli("segments", "edit", str(seg), "--start", "3"))
    assert "outside clip" in one_line_error(cli("segments", "edit", str(seg), "--end", "0:09"))
    assert ok_json("segments", "edit", str(seg), "--note", "")["note"] is None  # "" removes the note
    assert cli("segments", "remove", str(seg)).returncode == 0


def test_the_listing_forms_still_work(clip):
    assert cli("segments", "--json").returncode == 0
    assert cli("segments", "--duration-min", "0.5", "--json").returncode == 0
    assert cli("segments", clip, "--start", "0:01", "--end", "0:02", "--json").returncode == 0
    assert "add" in cli("segments", "--help").stdout and "--inside" in cli("segments", "list", "--help").stdout
    assert "choose one of scene_change, transcript, visual, speaker_change, manual" in one_line_error(
        cli("segments", clip, "--type", "speaker"))


def test_the_clip_page_shows_manual_segments(clip, module_catalog_env):
    from starlette.testclient import TestClient

    from catalog_cli.web.app import create_app
    from catalog_resources.embeddings.service import EmbeddingService

    seg = ok_json("segments", "add", clip, "--start", "0:02", "--end", "0:03.5", "--label", "lobster <pots>",
                  "--note", "wide")["segment_id"]
    app = create_app(os.environ["VIDEO_CATALOG_DATABASE_URL"], module_catalog_env.media_dir, EmbeddingService())
    with TestClient(app) as client:
        page = client.get(f"/clip/{clip}")
    assert page.status_code == 200
    assert "Marked segments" in page.text and "lobster &lt;pots&gt;" in page.text and ">wide<" in page.text
    assert 'data-seek="2.00"' in page.text
    assert cli("segments", "remove", str(seg)).returncode == 0
