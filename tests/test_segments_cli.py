"""Segments as answers (spec 7.1.7) through the real CLI on a really ingested catalog: a clip's segments in a time
range, segments of a length across the catalog, segment-level search, what is said around a moment, segments like
a segment; bad times and clip references are one line with exit 2. Expected values are read from the segments
rows the ingest wrote, so the tests check the queries, not Whisper's exact timing."""

import json
import os

import psycopg
import pytest

from tests.manage_media import ingest_library
from tests.manage_media import run as cli
from tests.test_cli_errors import one_line_error
from tests.test_ingest import rows

pytestmark = pytest.mark.slow
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def library(module_catalog_env, tmp_path_factory):
    ids = ingest_library(tmp_path_factory.mktemp("segment footage"))
    interview = ids["rooftop interview.mp4"]
    lines = rows("SELECT segment_id, start_seconds, end_seconds, text FROM segments WHERE clip_id = %s"
                 " AND segment_type = 'transcript' ORDER BY start_seconds", interview)
    assert len(lines) >= 2, lines  # the speech comes out as a few timed lines
    return {"ids": ids, "interview": interview, "lines": lines}


def ok_json(*args: str):
    result = cli(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def pricing_line(library):
    return next(line for line in library["lines"] if "pricing" in line[3].lower())


def test_a_clips_segments_in_a_time_range(library):
    interview, lines = library["interview"], library["lines"]
    every = ok_json("segments", interview[:8])
    assert {s["segment_type"] for s in every} >= {"transcript", "scene_change", "visual"}
    assert [s["start_seconds"] for s in every] == sorted(s["start_seconds"] for s in every)
    seg_id, start, end, text = pricing_line(library)
    # overlap (default): every line that reaches into [start + 0.5, end - 0.5]
    window = (start + 0.5, end - 0.5)
    got = ok_json("segments", interview, "--start", f"{window[0]:.2f}", "--end", f"{window[1]:.2f}", "--type", "transcript")
    assert [s["segment_id"] for s in got] == [l[0] for l in lines if l[2] > window[0] and l[1] < window[1]] == [seg_id]
    assert got[0]["text"] == text and got[0]["duration_seconds"] == pytest.approx(end - start)
    # a wider window in HH:MM:SS takes the neighbours that overlap it; --inside only what lies wholly within
    wide = ok_json("segments", interview, "--start", "00:00:02", "--end", "0:08", "--type", "transcript")
    assert [s["segment_id"] for s in wide] == [l[0] for l in lines if l[2] > 2 and l[1] < 8]
    inside = ok_json("segments", interview, "--start", "00:00:02", "--end", "0:08", "--type", "transcript", "--inside")
    assert [s["segment_id"] for s in inside] == [l[0] for l in lines if l[1] >= 2 and l[2] <= 8]
    assert len(inside) < len(wide)


def test_segments_of_a_length_across_the_catalog(library):
    low, high = 3.0, 5.0
    got = ok_json("segments", "--duration-min", str(low), "--duration-max", str(high))
    expected = rows("SELECT segment_id FROM segments WHERE end_seconds - start_seconds BETWEEN %s AND %s", low, high)
    assert {s["segment_id"] for s in got} == {r[0] for r in expected} and got
    assert all(low <= s["duration_seconds"] <= high for s in got)
    scenes = ok_json("segments", "--duration-min", "1.5", "--type", "scene_change,visual")
    assert {s["clip_id"] for s in scenes} == set(library["ids"].values())
    assert {s["segment_type"] for s in scenes} == {"scene_change", "visual"}
    # the queries' shapes are served by indexes (sql/001 and sql/008), not by reading the whole table
    with psycopg.connect(os.environ["VIDEO_CATALOG_DATABASE_URL"]) as conn:
        conn.execute("SET enable_seqscan = off")
        plans = [" ".join(r[0] for r in conn.execute(f"EXPLAIN SELECT * FROM segments s WHERE {where}", params))
                 for where, params in (
                     ("s.clip_id = %s AND s.end_seconds > 2 AND s.start_seconds < 8", (library["interview"],)),
                     ("s.end_seconds - s.start_seconds >= 30 AND s.end_seconds - s.start_seconds <= 120", ()),
                     ("s.segment_type = ANY(%s) AND s.end_seconds - s.start_seconds >= 30", (["scene_change"],)))]
    assert "segments_clip_time_idx" in plans[0]
    assert "segments_duration_idx" in plans[1] and "segments_type_duration_idx" in plans[2], plans


def test_bad_times_and_references_are_one_line(library):
    interview = library["interview"]
    assert "--end is before --start" in one_line_error(cli("segments", interview, "--start", "0:05:00", "--end", "0:02:00"))
    assert "up to 59" in one_line_error(cli("segments", interview, "--start", "5:70"))
    assert "expected a time" in one_line_error(cli("segments", interview, "--end", "soon"))
    assert "choose one of scene_change" in one_line_error(cli("segments", interview, "--type", "speaker"))
    assert "--duration-max is before" in one_line_error(cli("segments", "--duration-min", "9", "--duration-max", "3"))
    assert "ambiguous" in one_line_error(cli("segments", "b-roll.mov"))
    assert "ambiguous" in one_line_error(cli("search", "--at", "0:01", "b-roll.mov"))
    assert "only 12.0 s long" in one_line_error(cli("search", "--at", "00:05:30", interview))
    assert "no CSV" in one_line_error(cli("search", "--at", "0:05", interview, "--export", "csv"))
    assert "needs the clip" in one_line_error(cli("search", "--at", "0:05"))
    assert "no segment 999999" in one_line_error(cli("similar", "--segment-id", "999999"))
    assert "say what to compare" in one_line_error(cli("similar"))


def test_segment_level_search_answers_with_segments(library):
    seg_id, start, end, _text = pricing_line(library)
    hits = ok_json("search", "pricing for the solar panels", "--segment-level")
    assert hits[0]["segment_id"] == seg_id and hits[0]["clip_id"] == library["interview"]
    assert (hits[0]["start_seconds"], hits[0]["end_seconds"]) == (start, end)
    assert "pricing" in hits[0]["matched_words"] and hits[0]["strength"] >= 50
    assert len({h["segment_id"] for h in hits}) == len(hits)  # each hit its own segment
    # two lines of the same clip can both be hits: the unit is the segment
    words = ok_json("search", "rooftop OR drone", "--segment-level", "--mode", "text")
    assert {h["segment_id"] for h in words} >= {l[0] for l in library["lines"] if "rooftop" in l[3].lower()
                                                or "drone" in l[3].lower()}
    visual_only = cli("search", "pricing for the solar panels", "--segment-level", "--type", "visual", "--json")
    assert all(h["segment_type"] == "visual" for h in json.loads(visual_only.stdout))
    filtered = cli("search", "pricing solar panels codec:vp9", "--segment-level", "--json")
    assert filtered.returncode == 1 and json.loads(filtered.stdout) == []


def test_what_is_said_and_shown_around_a_moment(library):
    interview, lines = library["interview"], library["lines"]
    seg_id, start, end, text = pricing_line(library)
    at = (start + end) / 2
    moment = ok_json("search", "--at", f"{at:.2f}", "--context-seconds", "1", interview[:8])
    assert moment["clip_id"] == interview and moment["start_seconds"] == pytest.approx(at - 1, abs=0.01)
    said = [i for i in moment["items"] if i["segment_type"] == "transcript"]
    assert [i["segment_id"] for i in said] == [l[0] for l in lines if l[2] >= at - 1 and l[1] <= at + 1] == [seg_id]
    assert said[0]["text"] == text
    shown = {i["kind"] for i in moment["items"]}
    assert {"scene", "visual"} <= shown  # the scene it is in, and what the offline analyzer saw in it


def test_similar_segments_of_other_clips(library):
    seg_id = pricing_line(library)[0]
    hits = ok_json("similar", "--segment-id", str(seg_id), "--limit", "3")
    assert hits and all(h["clip_id"] != library["interview"] for h in hits)
    assert [h["similarity"] for h in hits] == sorted((h["similarity"] for h in hits), reverse=True)
    plain_cut = rows("SELECT s.segment_id FROM segments s WHERE s.segment_type = 'scene_change' AND NOT EXISTS"
                     " (SELECT 1 FROM embeddings e WHERE e.segment_id = s.segment_id) LIMIT 1")
    assert "has no" in one_line_error(cli("similar", "--segment-id", str(plain_cut[0][0])))
