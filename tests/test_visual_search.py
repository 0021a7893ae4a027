"""Silent footage found by what it shows: clips of scikit-image photographs (no audio, no text on screen) ingested
by the CLI with the offline analyzer; frame_analysis's visual segments are searched, tagged and shown."""

import json
import os

import pytest

from tests.test_ingest import cli, rows
from tests.visual_media import make_stills

pytestmark = pytest.mark.slow
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def stills(module_catalog_env, tmp_path_factory) -> dict[str, str]:
    """photo name -> clip id, after one ingest of the three silent clips."""
    clips = make_stills(tmp_path_factory.mktemp("silent footage"))
    result = cli("ingest", "--json", str(next(iter(clips.values())).parent))
    assert result.returncode == 0, result.stderr
    by_path = {item["path"]: item["clip_id"] for item in json.loads(result.stdout)["new"]}
    return {photo: by_path[str(path)] for photo, path in clips.items()}


def visual_segments(clip_id: str) -> list[tuple[float, float, str]]:
    return rows("SELECT start_seconds, end_seconds, text FROM segments WHERE clip_id = %s AND segment_type = 'visual'"
                " ORDER BY start_seconds", clip_id)


def test_each_scene_gets_a_visual_segment_with_what_it_shows(stills):
    (start, end, text), = visual_segments(stills["chelsea"])
    assert (start, end) == (0.0, pytest.approx(2.0, abs=0.05)) and "cat" in text.split(", ")[1:3], text
    assert "static" in text and "daylight" in text  # a locked-off still in a lit room
    (_, _, coffee), = visual_segments(stills["coffee"])
    assert "espresso" in coffee and "drink" in coffee, coffee


def test_search_finds_the_silent_cat_clip_with_its_scene_time_range(stills):
    result = cli("search", "cat", "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    top = hits[0]
    (start, end, _), = visual_segments(stills["chelsea"])
    assert top["clip_id"] == stills["chelsea"], hits
    assert (top["start_seconds"], top["end_seconds"]) == (start, end)
    assert "text" in top["matched_by"] and "[cat]" in top["snippet"].lower()
    assert stills["coffee"] not in [h["clip_id"] for h in hits if "text" in h["matched_by"]]


def test_meaning_alone_finds_it_too_with_the_scene_time_range(stills):
    """'kitten' is in no clip's words: the scene's own vector ('Egyptian cat, cat, animal; ...') is nearest."""
    hits = json.loads(cli("search", "kitten", "--mode", "semantic", "--json").stdout)
    (start, end, _), = visual_segments(stills["chelsea"])
    assert hits[0]["clip_id"] == stills["chelsea"] and (hits[0]["start_seconds"], hits[0]["end_seconds"]) == (start, end)
    assert rows("SELECT count(*) FROM embeddings e JOIN segments s USING (segment_id) WHERE s.segment_type = 'visual'"
                " AND e.clip_id = %s", stills["chelsea"]) == [(1,)]


def test_general_terms_become_visual_tags(stills):
    def tags(photo: str) -> set[str]:
        return {name for name, in rows("SELECT t.name FROM clip_tags ct JOIN tags t USING (tag_id)"
                                       " WHERE ct.clip_id = %s AND ct.source = 'visual'", stills[photo])}

    assert {"cat", "animal"} <= tags("chelsea")
    assert "drink" in tags("coffee") and "cat" not in tags("coffee")
    assert "animal" not in tags("rocket")


def test_show_json_includes_the_visual_segments(stills):
    result = cli("show", stills["chelsea"], "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    (visual,) = shown["frame_analysis"]["visual"]
    assert visual["labels"][0]["name"] in ("Egyptian cat", "tabby", "tiger cat")
    assert {t["term"] for t in visual["terms"]} >= {"cat", "animal"}
    assert visual["people"]["bucket"] == "no people" and visual["motion"][0]["kinds"] == ["static"]
    (segment,) = [s for s in shown["segments"] if s["segment_type"] == "visual"]
    assert segment["text"] == visual["text"]
    assert {"name": "cat", "source": "visual", "review": None} in shown["tags"]  # unreviewed
    text = cli("show", stills["chelsea"])
    assert text.returncode == 0 and "Seen (offline visual analysis)" in text.stdout and "animal" in text.stdout, text.stdout
