"""Who speaks when (issue 22): dialogues of two espeak-ng voices with known turn times, made at test time.

The diarizer is run on the WAVs directly (two voice pairs, one voice, music, silence), then two clips go through a
real CLI ingest: the speakers step stores turns and voices, the same voice in both clips is one person, naming
that person makes `search --speaker` answer with exactly their turns, transcripts carry the speakers, and
`people forget` removes the voice data. The voice-to-face link is checked through the store's own writers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from catalog_resources.analysis.local.audio import read_pcm16k
from catalog_resources.models.people import FaceSet, FaceTrack
from catalog_resources.models.speakers import SpeakerSet, VoiceTrack
from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.settings import load_settings
from catalog_resources.speakers.diarize import diarize
from catalog_resources.speakers.encoder import VoiceEncoder
from catalog_resources.speakers.link import linked_face
from tests.speaker_media import INTERVIEW, VOICE_B, VOICE_C, Turn, make_dialogue_video, make_dialogue_wav
from tests.speech_media import make_silence_wav, make_tone_wav
from tests.test_ingest import cli

MONOLOGUE = [(VOICE_B, "The harbour master opens the gates at six, and the first boats leave soon after that."),
             (VOICE_B, "In winter the work is harder, but the prices at the market are better.")]
TOLERANCE = 0.5  # seconds, the bound on turn boundaries


ENCODER = VoiceEncoder(load_settings().models_dir)  # the machine's models folder, as ingest uses


def _speakers(path: Path) -> SpeakerSet:
    return diarize(read_pcm16k(path, sample_format="s16"), "test", ENCODER)


def _assert_turns_match(found: SpeakerSet, truth: list[Turn]) -> None:
    """One found turn per true line, boundaries within TOLERANCE, and one speaker number per voice."""
    assert len(found.turns) == len(truth), [(t.label, t.start_seconds, t.end_seconds) for t in found.turns]
    voice_of: dict[str, int] = {}
    for turn, line in zip(found.turns, truth, strict=True):
        assert abs(turn.start_seconds - line.start) <= TOLERANCE, (turn, line)
        assert abs(turn.end_seconds - line.end) <= TOLERANCE, (turn, line)
        assert voice_of.setdefault(line.voice, turn.speaker_index) == turn.speaker_index
    assert len(set(voice_of.values())) == len(voice_of)


@pytest.fixture(scope="module")
def sounds(tmp_path_factory) -> dict[str, tuple[Path, list[Turn]]]:
    folder = tmp_path_factory.mktemp("speakers")
    made = {"interview": (folder / "interview.wav", make_dialogue_wav(folder / "interview.wav")),
            "pitched": (folder / "pitched.wav", make_dialogue_wav(folder / "pitched.wav", [
                (VOICE_C if voice == VOICE_B else voice, text) for voice, text in INTERVIEW])),
            "monologue": (folder / "monologue.wav", make_dialogue_wav(folder / "monologue.wav", MONOLOGUE))}
    made["music"] = (make_tone_wav(folder / "music.wav", 8.0), [])
    made["silence"] = (make_silence_wav(folder / "silence.wav", 4.0), [])
    return made


@pytest.mark.parametrize("name", ["interview", "pitched"])
def test_two_alternating_voices_are_two_speakers_with_turns_within_half_a_second(sounds, name):
    path, truth = sounds[name]
    found = _speakers(path)
    assert len(found.tracks) == 2
    _assert_turns_match(found, truth)
    assert [t.label for t in found.turns] == ["S1", "S2"] * 3  # numbered by first words
    assert all(len(t.embedding) == 256 and abs(np.linalg.norm(t.embedding) - 1) < 1e-3 for t in found.tracks)
    assert found.cpu_seconds / found.speech_seconds <= 0.2  # the 0.05 is benched (bench/speakers.py)


def test_one_voice_is_one_speaker_and_music_or_silence_none(sounds):
    path, truth = sounds["monologue"]
    one = _speakers(path)
    assert len(one.tracks) == 1 and len(one.turns) == 1
    assert abs(one.turns[0].start_seconds - truth[0].start) <= TOLERANCE
    assert abs(one.turns[0].end_seconds - truth[-1].end) <= TOLERANCE
    for name in ("music", "silence"):
        nobody = _speakers(sounds[name][0])
        assert nobody.tracks == [] and nobody.turns == [] and nobody.speech_seconds < 1.0, name
    assert diarize(None, "no audio", ENCODER).tracks == []


def test_the_mel_frames_equal_librosas_own(sounds):
    import librosa

    mel_frames = ENCODER.mel_frames
    samples = read_pcm16k(sounds["monologue"][0])[:16000]
    ours = mel_frames(samples)
    theirs = librosa.feature.melspectrogram(y=samples, sr=16000, n_fft=400, hop_length=160, n_mels=40).T
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() <= 1e-5 * theirs.max()
    assert np.allclose(mel_frames(samples, block=37), ours, rtol=1e-5, atol=1e-6 * theirs.max())  # block edges
    assert np.allclose(mel_frames(samples, gain=2.0), 4 * ours, rtol=1e-5, atol=1e-6 * theirs.max())  # power scales


def test_a_voice_links_to_the_one_face_on_screen_in_most_of_its_turns():
    turns = [(0.0, 2.0), (4.0, 6.0), (8.0, 10.0)]
    assert linked_face(turns, {7: [(0.0, 10.0)]}) == (7, 1.0, 3)
    assert linked_face(turns, {7: [(0.0, 10.0)], 8: [(0.0, 10.0)]})[0] is None  # two faces: either could talk
    assert linked_face(turns, {7: [(0.0, 2.5)]}) == (None, 0.333, 1)  # one turn is not enough
    assert linked_face(turns, {7: [(0.0, 6.5)], 8: [(7.5, 10.0)]}) == (7, 0.667, 2)


# ---- the store: a voice joins the face on screen, or the nearest voice -----------------------------------------


def _unit(seed: int, size: int) -> list[float]:
    vector = np.random.default_rng(seed).normal(size=size)
    return list(vector / np.linalg.norm(vector))


def test_a_new_voice_joins_the_face_on_screen_and_the_same_voice_elsewhere_joins_that_person(catalog_env):
    store = CatalogResource(database_url=os.environ["VIDEO_CATALOG_DATABASE_URL"])
    first, second = "a" * 16, "b" * 16
    with store.connect() as conn:
        for clip_id in (first, second):
            conn.execute("INSERT INTO clips (clip_id, file_name, path, size_bytes, md5, fast_hash, fingerprint)"
                         " VALUES (%s, %s, %s, 1, %s, %s, %s)", (clip_id, f"{clip_id}.mov", f"/x/{clip_id}.mov",
                                                                 clip_id, clip_id, clip_id))
    face = FaceSet(clip_id=first, model="test", tracks=[FaceTrack(
        track_index=0, start_seconds=0.0, end_seconds=10.0, ranges=[(0.0, 10.0)], embedding=_unit(1, 128))])
    voice = VoiceTrack(speaker_index=0, turns=[(0.5, 2.0), (4.0, 6.0)], speech_seconds=3.5, embedding=_unit(2, 256))
    other = VoiceTrack(speaker_index=1, turns=[(2.5, 3.5)], speech_seconds=1.0, embedding=_unit(3, 256))
    with store.connect() as conn, conn.transaction():
        store.write_faces(conn, face)
        store.write_speakers(conn, SpeakerSet(clip_id=first, model="test", tracks=[voice, other]))
        store.write_speakers(conn, SpeakerSet(clip_id=second, model="test", tracks=[voice.model_copy(update={"speaker_index": 0})]))
    with store.connect() as conn:
        (face_person,) = [r["person_id"] for r in conn.execute("SELECT person_id FROM face_tracks")]
        voices = conn.execute("SELECT clip_id, speaker_index, person_id, face_person_id, face_agreement FROM voice_tracks"
                              " ORDER BY clip_id = %s DESC, speaker_index", (first,)).fetchall()
    assert voices[0]["person_id"] == face_person and voices[0]["face_agreement"] == pytest.approx(1.0)
    assert voices[1]["person_id"] not in (None, face_person)  # another voice, never on screen alone: a new person
    assert voices[2]["person_id"] == face_person  # the same voice in another clip, with no face there
    summary = {p.person_id: p for p in store.people_summaries()}
    assert summary[face_person].tracks == 1 and summary[face_person].voice_tracks == 2 and summary[face_person].clips == 2


# ---- one ingest of two clips ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog(module_catalog_env, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("voices")
    truth = {"interview.mp4": make_dialogue_video(folder / "interview.mp4"),
             "monologue.mp4": make_dialogue_video(folder / "monologue.mp4", MONOLOGUE)}
    result = cli("ingest", "--json", "--disable", "embeddings", str(folder))
    assert result.returncode == 0, result.stderr
    clip_of = {Path(item["path"]).name: item["clip_id"] for item in json.loads(result.stdout)["new"]}
    store = CatalogResource(database_url=os.environ["VIDEO_CATALOG_DATABASE_URL"])
    return {"store": store, "clip_of": clip_of, "truth": truth, "media": module_catalog_env.media_dir}


def _voices(store) -> list[dict]:
    with store.connect() as conn:
        return list(conn.execute("SELECT clip_id, speaker_index, person_id, turns FROM voice_tracks ORDER BY clip_id, speaker_index"))


@pytest.mark.slow
def test_ingest_stores_turns_and_the_same_voice_in_two_clips_is_one_person(catalog):
    store, clip_of, truth = catalog["store"], catalog["clip_of"], catalog["truth"]
    voices = _voices(store)
    interview = [v for v in voices if v["clip_id"] == clip_of["interview.mp4"]]
    (monologue,) = [v for v in voices if v["clip_id"] == clip_of["monologue.mp4"]]
    assert len(interview) == 2
    b_voice = next(v for v in interview if abs(v["turns"][0][0] - truth["interview.mp4"][1].start) <= TOLERANCE)
    assert monologue["person_id"] == b_voice["person_id"]  # voice B in both clips
    assert len({v["person_id"] for v in interview}) == 2
    turns = store.segment_rows(clip_of["interview.mp4"], types=["speaker_change"])
    assert [t["text"] for t in turns] == ["S1", "S2"] * 3
    for turn, line in zip(turns, truth["interview.mp4"], strict=True):
        assert abs(turn["start_seconds"] - line.start) <= TOLERANCE and abs(turn["end_seconds"] - line.end) <= TOLERANCE
    listed = json.loads(cli("segments", clip_of["interview.mp4"], "--type", "speaker_change", "--json").stdout)
    assert len(listed) == 6


@pytest.mark.slow
def test_naming_a_voice_makes_search_by_speaker_return_exactly_its_turns(catalog):
    store, clip_of, truth = catalog["store"], catalog["clip_of"], catalog["truth"]
    b_person = next(v["person_id"] for v in _voices(store) if v["clip_id"] == clip_of["monologue.mp4"])
    assert cli("people", "name", str(b_person), "Marta Lind").returncode == 0
    for args in (["search", "--speaker", "marta", "--json"], ["search", "speaker:Lind", "--json"]):
        result = cli(*args)
        assert result.returncode == 0, result.stderr
        hits = {h["clip_id"]: h for h in json.loads(result.stdout)}
        assert set(hits) == {clip_of["interview.mp4"], clip_of["monologue.mp4"]}
        said = [(r["start_seconds"], r["end_seconds"]) for r in hits[clip_of["interview.mp4"]]["reasons"] if r["source"] == "speaker"]
        b_lines = [line for line in truth["interview.mp4"] if line.voice == f"{VOICE_B[0]}:{VOICE_B[1]}"]
        assert len(said) == len(b_lines)
        for (start, end), line in zip(said, b_lines, strict=True):
            assert abs(start - line.start) <= TOLERANCE and abs(end - line.end) <= TOLERANCE
    # words Whisper hears in her last line on every machine (it writes "stall" on some, "stalls" on others)
    words = json.loads(cli("search", "daughter market", "--mode", "text", "--speaker", "marta", "--json").stdout)
    assert [h["clip_id"] for h in words][:1] == [clip_of["interview.mp4"]]
    srt = cli("transcript", clip_of["interview.mp4"], "--srt").stdout
    assert srt.count("Marta Lind: ") == 3 and srt.count("S1: ") == 3
    vtt = cli("transcript", clip_of["interview.mp4"], "--vtt").stdout
    assert vtt.count("<v Marta Lind>") == 3
    shown = json.loads(cli("people", "show", "marta", "--json").stdout)
    assert shown["voice_tracks"] == 2 and len(shown["voices"]) == 2 and shown["speech_seconds"] > 10


@pytest.mark.slow
def test_forgetting_a_person_removes_their_voice_vectors_everywhere(catalog):
    store, clip_of, media = catalog["store"], catalog["clip_of"], catalog["media"]
    a_person = next(v["person_id"] for v in _voices(store) if v["clip_id"] == clip_of["interview.mp4"] and v["speaker_index"] == 0)
    result = cli("people", "forget", str(a_person), "--yes")
    assert result.returncode == 0, result.stderr
    assert all(v["person_id"] != a_person for v in _voices(store))
    sidecar = json.loads((media / clip_of["interview.mp4"] / "speakers.json").read_text())
    assert [t["speaker_index"] for t in sidecar["tracks"]] == [1]
