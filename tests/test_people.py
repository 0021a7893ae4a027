"""People across footage (issue 21): real face photographs that ship in scikit-image (the astronaut Eileen
Collins, the cameraman) turned into clips with ffmpeg (zoom, pan, darker and mirrored, both in one frame, a cut
from an empty shot to a face, a clip with no face), ingested once by the CLI, then clustered, named, searched,
split, merged and forgotten through the CLI and the store. The pure parts (ranges, chains, rejections) first.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from catalog_resources.models.media import Face
from catalog_resources.models.people import FaceSet
from catalog_resources.people.clustering import Candidate, choose_person, cluster_incrementally
from catalog_resources.people.tracks import Frame, chain_by_position, on_screen
from catalog_resources.resources.catalog import CatalogResource
from tests.face_media import CLIPS, make_face_clips
from tests.test_ingest import cli

ASTRONAUT = {name for name, (who, _f, _s) in CLIPS.items() if "astronaut" in who}
CAMERAMAN = {name for name, (who, _f, _s) in CLIPS.items() if "cameraman" in who}


# ---- pure parts -----------------------------------------------------------------------------------------


def test_on_screen_ranges_reach_half_way_to_the_neighbouring_frames():
    times = [0.5, 1.5, 2.5, 3.5]
    assert on_screen({0, 1}, times, 0.0, 4.0) == [(0.0, 2.0)]
    assert on_screen({1, 3}, times, 0.0, 4.0) == [(1.0, 2.0), (3.0, 4.0)]
    assert on_screen({1, 2}, times, 0.0, 4.0, cuts=[1.2]) == [(1.2, 3.0)]  # not across a scene cut


def test_overlapping_boxes_chain_and_two_faces_on_one_frame_stay_apart():
    left, right = Face(x=0.1, y=0.1, width=0.2, height=0.3, confidence=90), Face(x=0.6, y=0.1, width=0.2, height=0.3, confidence=90)
    moved = Face(x=0.12, y=0.1, width=0.2, height=0.3, confidence=90)
    chains = chain_by_position([Frame(0, 0.0, [left, right]), Frame(1, 1.0, [moved, right])])
    assert sorted(len(c.sightings) for c in chains) == [2, 2]
    assert all(len(c.frames) == 2 for c in chains)


def test_a_rejected_face_never_joins_that_person_again():
    vector = np.zeros(128, dtype=np.float32)
    vector[0] = 1.0
    near = Candidate(1, 0.2, rejected=[vector.copy()])
    assert choose_person(vector, [near, Candidate(2, 0.3)]) == 2
    assert choose_person(vector, [near]) is None
    assert choose_person(vector, [Candidate(3, 0.7)]) is None  # too far: a new person


def test_incremental_clustering_separates_two_people():
    rng = np.random.default_rng(0)
    centres = [rng.normal(size=128) for _ in range(2)]
    vectors = []
    for n in range(20):
        v = centres[n % 2] / np.linalg.norm(centres[n % 2]) + rng.normal(scale=0.01, size=128)
        vectors.append(v / np.linalg.norm(v))
    people = cluster_incrementally(vectors)
    assert people == [n % 2 for n in range(20)]


def test_the_setting_turns_the_faces_step_off():
    from catalog_assets.steps import select_steps

    os.environ["VIDEO_CATALOG_FACES"] = "0"
    try:
        assert "faces" not in select_steps()
        assert "faces" in select_steps(enable=["faces"])
    finally:
        del os.environ["VIDEO_CATALOG_FACES"]
    assert "faces" in select_steps()
    assert "faces" not in select_steps(disable=["faces"])


# ---- one ingest of the face clips ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog(module_catalog_env, tmp_path_factory) -> tuple[CatalogResource, dict[str, str], Path]:
    """(store, file name -> clip id, media dir) after one CLI ingest (no AI analysis: faces need none)."""
    folder = tmp_path_factory.mktemp("faces")
    paths = make_face_clips(folder)
    result = cli("ingest", "--json", "--disable", "ai_analysis,embeddings", str(folder))
    assert result.returncode == 0, result.stderr
    by_path = {item["path"]: item["clip_id"] for item in json.loads(result.stdout)["new"]}
    store = CatalogResource(database_url=os.environ["VIDEO_CATALOG_DATABASE_URL"])
    return store, {name: by_path[str(path)] for name, path in paths.items()}, module_catalog_env.media_dir


def _tracks(store) -> list[dict]:
    with store.connect() as conn:
        return list(conn.execute("SELECT track_id, clip_id, person_id, start_seconds, end_seconds, ranges, crop_path"
                                 " FROM face_tracks ORDER BY clip_id, track_index"))


def _people_of(store, clip_of, names) -> set[int]:
    ids = {clip_of[n] for n in names}
    return {t["person_id"] for t in _tracks(store) if t["clip_id"] in ids}


@pytest.mark.slow
def test_the_same_person_across_clips_is_one_person_and_others_another(catalog):
    store, clip_of, _media = catalog
    tracks = _tracks(store)
    per_clip = {name: [t for t in tracks if t["clip_id"] == clip_of[name]] for name in CLIPS}
    assert {name: len(found) for name, found in per_clip.items()} == {name: len(who) for name, (who, _f, _s) in CLIPS.items()}
    astronaut, cameraman = _people_of(store, clip_of, ASTRONAUT - CAMERAMAN), _people_of(store, clip_of, CAMERAMAN - ASTRONAUT)
    assert len(astronaut) == 1 and len(cameraman) == 1 and astronaut != cameraman
    assert _people_of(store, clip_of, {"e_two.mp4"}) == astronaut | cameraman
    assert all(Path(t["crop_path"]).is_file() for t in tracks)
    assert all(Path(t["crop_path"]).stat().st_mode & 0o077 == 0 for t in tracks)  # face crops are private


@pytest.mark.slow
def test_a_clip_without_faces_adds_nothing_and_a_cut_has_its_time_range(catalog):
    store, clip_of, _media = catalog
    tracks = _tracks(store)
    assert not [t for t in tracks if t["clip_id"] == clip_of["g_empty.mp4"]]
    (cut,) = [t for t in tracks if t["clip_id"] == clip_of["f_cut.mp4"]]
    assert 1.4 <= cut["start_seconds"] <= 2.6 and cut["end_seconds"] >= 3.5  # the face is there from 2 s to 4 s


@pytest.mark.slow
def test_naming_then_search_by_person_returns_exactly_their_clips_with_times(catalog):
    store, clip_of, _media = catalog
    listed = json.loads(cli("people", "list", "--json").stdout)
    assert len(listed) == 2 and all(p["screen_seconds"] > 0 and Path(p["crop_path"]).is_file() for p in listed)
    (astronaut,) = _people_of(store, clip_of, {"a_zoom.mp4"})
    named = cli("people", "name", str(astronaut), "Eileen Collins")
    assert named.returncode == 0, named.stderr
    expected = {clip_of[n] for n in ASTRONAUT}
    for args in (["search", "--person", "eileen", "--json"], ["search", "person:Collins", "--json"]):
        result = cli(*args)
        assert result.returncode == 0, result.stderr
        hits = json.loads(result.stdout)
        assert {h["clip_id"] for h in hits} == expected
        for hit in hits:
            times = [r for r in hit["reasons"] if r["source"] == "person"]
            assert times and all(r["end_seconds"] > r["start_seconds"] for r in times)
            assert hit["start_seconds"] is not None
    words = cli("search", "person", "--mode", "text", "--person", "eileen", "--json")  # words and a person
    assert words.returncode in (0, 1), words.stderr
    for hit in json.loads(words.stdout or "[]"):
        assert hit["clip_id"] in expected and any(r["source"] == "person" for r in hit["reasons"])
    listed = json.loads(cli("list", "--person", "Eileen Collins", "--json").stdout)
    assert {row["clip_id"] for row in listed} == expected
    two = json.loads(cli("show", clip_of["e_two.mp4"], "--json").stdout)["people"]
    assert {t["name"] for t in two} == {"Eileen Collins", None} and all(t["ranges"] for t in two)
    assert "Eileen Collins" in cli("show", clip_of["e_two.mp4"]).stdout
    shown = json.loads(cli("people", "show", "eileen", "--json").stdout)
    assert shown["name"] == "Eileen Collins" and {a["clip_id"] for a in shown["appearances"]} == expected
    missing = cli("search", "--person", "nobody-here")
    assert missing.returncode == 1
    bad = cli("people", "show", "nobody-here")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_name_survives_reanalysis_and_a_split_face_stays_rejected(catalog):
    store, clip_of, media = catalog
    (astronaut,) = _people_of(store, clip_of, {"a_zoom.mp4"})
    store.name_person(astronaut, "Eileen Collins")
    dark = clip_of["c_dark_mirror.mp4"]
    faces = FaceSet.model_validate_json((media / dark / "faces.json").read_text())
    with store.connect() as conn, conn.transaction():  # what the IO manager does when faces runs again
        store.write_faces(conn, faces)
    assert _people_of(store, clip_of, {"c_dark_mirror.mp4"}) == {astronaut}
    assert store.find_person("eileen").person_id == astronaut
    (track,) = [t for t in _tracks(store) if t["clip_id"] == dark]
    split = cli("people", "split", str(astronaut), str(track["track_id"]))
    assert split.returncode == 0, split.stderr
    with store.connect() as conn, conn.transaction():
        store.write_faces(conn, faces)
    assert astronaut not in _people_of(store, clip_of, {"c_dark_mirror.mp4"})
    assert _people_of(store, clip_of, {"a_zoom.mp4"}) == {astronaut}
    (other,) = _people_of(store, clip_of, {"c_dark_mirror.mp4"})
    merged = cli("people", "merge", str(astronaut), str(other))
    assert merged.returncode == 0, merged.stderr
    assert _people_of(store, clip_of, ASTRONAUT - CAMERAMAN) == {astronaut}
    with store.connect() as conn:  # merged back: the face is no longer rejected from them
        assert conn.execute("SELECT count(*) AS n FROM face_track_rejections").fetchone()["n"] == 0
    with store.connect() as conn, conn.transaction():
        store.write_faces(conn, faces)
    assert _people_of(store, clip_of, {"c_dark_mirror.mp4"}) == {astronaut}


@pytest.mark.slow
def test_forget_removes_the_persons_face_data(catalog):
    store, clip_of, media = catalog
    (cameraman,) = _people_of(store, clip_of, {"d_other.mp4"})
    crops = [t["crop_path"] for t in _tracks(store) if t["person_id"] == cameraman]
    result = cli("people", "forget", str(cameraman), "--yes")
    assert result.returncode == 0, result.stderr
    assert not [t for t in _tracks(store) if t["person_id"] == cameraman]
    with store.connect() as conn:
        assert conn.execute("SELECT count(*) AS n FROM people WHERE person_id = %s", (cameraman,)).fetchone()["n"] == 0
    assert not any(Path(c).exists() for c in crops)
    sidecar = FaceSet.model_validate_json((media / clip_of["d_other.mp4"] / "faces.json").read_text())
    assert sidecar.tracks == []
    two = FaceSet.model_validate_json((media / clip_of["e_two.mp4"] / "faces.json").read_text())
    assert len(two.tracks) == 1
