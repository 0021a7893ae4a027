"""ai_analysis through the real graph with the offline analyzer: clips with known speech, silence, music,
a caption and a face are ingested by the CLI; rows are read back from Postgres."""

import json
import os
import re

import pytest

from tests.ai_media import CAPTION, make_ai_set
from tests.test_ingest import cli, rows

pytestmark = pytest.mark.slow
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def wer(reference: str, hypothesis: str) -> float:
    ref, hyp = (re.findall(r"[a-z0-9']+", t.lower()) for t in (reference, hypothesis))
    dist = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, dist[0] = dist[0], i
        for j, h in enumerate(hyp, 1):
            prev, dist[j] = dist[j], min(dist[j] + 1, dist[j - 1] + 1, prev + (r != h))
    return dist[-1] / max(len(ref), 1)


@pytest.fixture(scope="module")
def analysed(module_catalog_env, tmp_path_factory):
    clips = make_ai_set(tmp_path_factory.mktemp("ai footage"))
    result = cli("ingest", "--json", str(next(iter(clips.values()))["path"].parent))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    by_path = {item["path"]: item["clip_id"] for item in summary["new"]}
    for item in clips.values():
        item["clip_id"] = by_path[str(item["path"])]
    return clips


def analysis(clip_id: str) -> dict:
    (raw,) = rows("SELECT raw FROM analysis WHERE clip_id = %s", clip_id)[0]
    return raw


def test_transcript_has_the_spoken_words_at_the_right_times(analysed):
    speech = analysed["speech"]
    (text, segments, language), = rows("SELECT full_text, segments, language FROM transcripts WHERE clip_id = %s",
                                       speech["clip_id"])
    assert wer(speech["text"], text) < 0.3, text  # espeak-ng's robotic voice; measured ~0.07
    assert language == "en"
    start, end = speech["interval"]
    assert segments and all(start - 0.6 <= s["start_seconds"] < s["end_seconds"] <= end + 0.6 for s in segments)
    stored = rows("SELECT start_seconds, end_seconds, text FROM segments WHERE clip_id = %s AND segment_type = 'transcript'"
                  " ORDER BY start_seconds", speech["clip_id"])
    assert [r[2] for r in stored] == [s["text"] for s in segments]


def test_silence_and_music_have_no_transcript(analysed):
    for name in ("silence", "music"):
        (text, segments), = rows("SELECT full_text, segments FROM transcripts WHERE clip_id = %s", analysed[name]["clip_id"])
        assert text == "" and segments == [], (name, text)


def test_sound_events_tell_speech_silence_and_music_apart(analysed):
    def events(name):
        return analysis(analysed[name]["clip_id"])["audio_analysis"]["sound_events"]

    start, end = analysed["speech"]["interval"]
    speech = [e for e in events("speech") if e["category"] == "speech"]
    assert speech and min(e["start_seconds"] for e in speech) == pytest.approx(start, abs=0.6)
    assert max(e["end_seconds"] for e in speech) == pytest.approx(end, abs=0.6)
    assert {e["category"] for e in events("silence")} == {"silence"}
    music = [e for e in events("music") if e["category"] == "music"]
    assert sum(e["end_seconds"] - e["start_seconds"] for e in music) > 2.5


def test_on_screen_text_and_entities(analysed):
    screen = analysis(analysed["caption"]["clip_id"])
    read = " ".join(item["text"] for item in screen["visual_analysis"]["text_and_graphics"]["items"]).upper()
    assert all(word in read.replace(" ", "") or word in read for word in CAPTION.split()), read
    assert screen["audio_analysis"]["transcript"] is None  # no audio track: nothing invented
    (people, orgs, places), = rows(
        "SELECT entities->'people', entities->'organizations', entities->'locations' FROM analysis WHERE clip_id = %s",
        analysed["speech"]["clip_id"])
    assert any("Merkel" in p for p in people) and "Siemens" in orgs and "Munich" in places


def test_faces_give_shot_types(analysed):
    face = analysis(analysed["face"]["clip_id"])["visual_analysis"]
    assert face["shot_types"] and face["shot_types"][0]["shot_type"] == "close-up"
    assert all(n == 1 for n in face["face_counts"])
    music = analysis(analysed["music"]["clip_id"])["visual_analysis"]
    assert {s["shot_type"] for s in music["shot_types"]} == {"no people"}


def test_summary_keywords_tags_and_full_text_search(analysed):
    clip_id = analysed["speech"]["clip_id"]
    (summary, keywords, backend), = rows("SELECT summary, keywords, backend FROM analysis WHERE clip_id = %s", clip_id)
    assert backend == "local" and "Merkel" in summary and keywords
    raw = analysis(clip_id)
    assert raw["summary"]["extractive"] is True and raw["content_analysis"]["content_warnings"] == []
    assert raw["summary"]["sentiment"] is None  # not measured offline, so not invented
    tags = {r[0] for r in rows("SELECT t.name FROM clip_tags ct JOIN tags t USING (tag_id) WHERE ct.clip_id = %s"
                               " AND ct.source = 'ai'", clip_id)}
    assert tags == {k.lower() for k in keywords}
    found = rows("SELECT clip_id FROM catalog_records WHERE search_vector @@ plainto_tsquery('simple', 'siemens munich')")
    assert [r[0] for r in found] == [clip_id]
    caption = rows("SELECT clip_id FROM catalog_records WHERE search_vector @@ plainto_tsquery('simple', 'quarterly')")
    assert [r[0] for r in caption] == [analysed["caption"]["clip_id"]]
    assert (module_home() / "media" / clip_id / "ai_analysis.json").exists()


def test_semantic_search_answers_with_the_spoken_line(analysed):
    """The clip's scene segment embeds the whole transcript and is often nearest; the spoken line, nearly as near,
    must be what the hit shows: its own time range and words."""
    clip_id = analysed["speech"]["clip_id"]
    lines = rows("SELECT start_seconds, end_seconds, text FROM segments WHERE clip_id = %s AND segment_type = 'transcript'",
                 clip_id)
    result = cli("search", "the chancellor toured a factory in Bavaria to talk about solar power", "--mode", "semantic",
                 "--json")
    assert result.returncode == 0, result.stderr
    top = json.loads(result.stdout)[0]
    assert top["clip_id"] == clip_id
    assert (top["start_seconds"], top["end_seconds"], top["snippet"]) in [tuple(line) for line in lines]


def module_home():
    from pathlib import Path

    return Path(os.environ["VIDEO_CATALOG_HOME"])


def test_show_and_transcript_export(analysed, tmp_path):
    clip_id = analysed["speech"]["clip_id"]
    shown = cli("show", clip_id)
    assert shown.returncode == 0 and "Transcript" in shown.stdout and "Siemens" in shown.stdout
    assert "Sound events" in shown.stdout
    srt = cli("transcript", clip_id, "--srt")
    assert srt.returncode == 0
    blocks = [b for b in srt.stdout.strip().split("\n\n") if b]
    assert blocks[0].splitlines()[0] == "1"
    assert re.fullmatch(r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", blocks[0].splitlines()[1])
    vtt = cli("transcript", clip_id, "--vtt", "-o", str(tmp_path / "t.vtt"))
    assert vtt.returncode == 0 and (tmp_path / "t.vtt").read_text().startswith("WEBVTT")
    silent = cli("transcript", analysed["caption"]["clip_id"])
    assert silent.returncode == 1 and "no audio track" in silent.stderr


def test_prompt_change_marks_exactly_ai_analysis_and_downstream_stale(analysed, tmp_path, monkeypatch):
    from catalog_resources.analysis.prompt import packaged_prompt_path

    def plan() -> list[tuple[str, str]]:
        result = cli("refresh", "--stale", "--dry-run", "--json")
        assert result.returncode == 0, result.stderr
        return sorted((p["clip_id"], p["asset"]) for p in json.loads(result.stdout)["pairs"])

    assert plan() == []
    monkeypatch.setenv("VIDEO_CATALOG_BATCH_SIZE", "2")  # does not change any answer: nothing stale
    assert plan() == []
    prompt = tmp_path / "prompt.md"
    prompt.write_text(packaged_prompt_path().read_text() + "\nAlso describe the weather.\n")
    monkeypatch.setenv("VIDEO_CATALOG_ANALYSIS_PROMPT_FILE", str(prompt))
    everyone = sorted(item["clip_id"] for item in analysed.values())
    assert plan() == sorted((c, a) for c in everyone for a in ("ai_analysis", "catalog_record", "embeddings"))
    before = {c: r for c, r in rows("SELECT clip_id, code_version FROM analysis")}
    done = cli("refresh", "--stale", "--json")
    assert done.returncode == 0, done.stderr
    assert sorted(json.loads(done.stdout)["refreshed"]) == everyone
    assert plan() == []
    after = {c: r for c, r in rows("SELECT clip_id, code_version FROM analysis")}
    assert set(after) == set(before) and all(after[c] != before[c] for c in everyone)
    # Dagster recorded the new code version on the materializations, so its UI shows them fresh too
    from dagster import AssetKey

    from tests.test_ingest import dagster_instance

    instance = dagster_instance()
    event = instance.get_latest_materialization_event(AssetKey("ai_analysis"))
    assert event.asset_materialization.tags["dagster/code_version"] == after[everyone[0]]
