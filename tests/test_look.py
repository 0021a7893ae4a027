"""Look-alike shots: each described scene's look vector in pgvector (scene_looks), `similar --by look` and
`search --image`, on silent clips of scikit-image photographs made with ffmpeg (no words: only the look finds them).
"""

import json
import os

import numpy as np
import pytest
from PIL import ImageEnhance

from tests.test_ingest import cli, rows
from tests.visual_media import make_picture_clip, make_still_clip, photo

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def test_a_scene_look_is_the_normalised_mean_of_its_frames():
    from catalog_resources.analysis.local.visual.look import scene_look

    look = np.array(scene_look(np.array([[3.0, 0.0, 0.0], [1.0, 0.0, 2.0]])))
    assert np.allclose(look, np.array([2.0, 0.0, 1.0]) / np.sqrt(5), atol=1e-6)
    assert scene_look(np.zeros((0, 3))) is None and scene_look(np.zeros((2, 3))) is None


def test_an_unreadable_image_is_one_line_and_exit_2(tmp_path):
    """Checked before the catalog is opened: no database needed to say the file is wrong."""
    bad = tmp_path / "frame.jpg"
    bad.write_bytes(b"not a picture at all")
    for path in (bad, tmp_path / "missing.png"):
        result = cli("search", "--image", str(path))
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path.name) in lines[0] and "Traceback" not in result.stderr, result.stderr


@pytest.fixture(scope="module")
def looks(module_catalog_env, tmp_path_factory) -> dict[str, str]:
    """name -> clip id after one ingest: chelsea, the same photo cropped and brightened, coffee and rocket."""
    folder = tmp_path_factory.mktemp("look-alikes")
    cat = photo("chelsea")
    width, height = cat.size
    recut = ImageEnhance.Brightness(cat.crop((int(width * 0.12), int(height * 0.08), int(width * 0.9),
                                              height))).enhance(1.3)
    clips = {"chelsea": make_still_clip(folder / "a.mp4", "chelsea"),
             "chelsea recut": make_picture_clip(folder / "b.mp4", recut),
             "coffee": make_still_clip(folder / "c.mp4", "coffee"),
             "rocket": make_still_clip(folder / "d.mp4", "rocket")}
    photo("chelsea").save(folder.parent / "chelsea.png")
    result = cli("ingest", "--json", str(folder))
    assert result.returncode == 0, result.stderr
    by_path = {item["path"]: item["clip_id"] for item in json.loads(result.stdout)["new"]}
    return {name: by_path[str(path)] for name, path in clips.items()}


@pytest.mark.slow
def test_every_scene_has_a_unit_look_vector_in_pgvector(looks):
    found = rows("SELECT clip_id, scene_index, start_seconds, end_seconds, model, vector_dims(embedding),"
                 " round(vector_norm(embedding)::numeric, 4) FROM scene_looks ORDER BY clip_id")
    assert sorted(r[0] for r in found) == sorted(looks.values())
    assert {(r[1], r[2], r[4], r[5], float(r[6])) for r in found} == {(0, 0.0, "efficientnet-lite0/onnx-v1", 1280, 1.0)}
    details = rows("SELECT details->'visual'->0 ? 'look', details->>'look_model' FROM frame_analysis"
                   " WHERE clip_id = %s", looks["chelsea"])
    assert details == [(False, "efficientnet-lite0/onnx-v1")]  # the vector is in scene_looks, not the JSON


@pytest.mark.slow
def test_the_recut_photo_and_the_original_are_each_others_top_look_alike(looks):
    for one, other in (("chelsea", "chelsea recut"), ("chelsea recut", "chelsea")):
        result = cli("similar", looks[one], "--by", "look", "--json")
        assert result.returncode == 0, result.stderr
        hits = json.loads(result.stdout)
        top = hits[0]
        assert top["clip_id"] == looks[other] and top["matched_by"] == ["look"], hits
        assert top["strength"] >= 80 and top["similarity"] > 0.8, top
        assert (top["start_seconds"], top["query_start_seconds"]) == (0.0, 0.0)
        assert top["end_seconds"] == pytest.approx(2.0, abs=0.05) and top["query_end_seconds"] == pytest.approx(2.0, abs=0.05)
        assert all(h["strength"] < top["strength"] for h in hits[1:]), hits
    table = cli("similar", looks["chelsea"], "--by", "look")
    assert table.returncode == 0 and "looks like" in table.stdout and "%" in table.stdout, table.stdout


@pytest.mark.slow
def test_search_by_image_finds_its_clip_first_with_the_time_range(looks, tmp_path_factory):
    png = next(p for p in tmp_path_factory.getbasetemp().rglob("chelsea.png"))
    result = cli("search", "--image", str(png), "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert hits[0]["clip_id"] in (looks["chelsea"], looks["chelsea recut"]) and hits[0]["strength"] >= 80, hits
    assert {h["clip_id"] for h in hits[:2]} == {looks["chelsea"], looks["chelsea recut"]}
    assert (hits[0]["start_seconds"], hits[0]["end_seconds"]) == (0.0, pytest.approx(2.0, abs=0.05))
    assert looks["rocket"] not in [h["clip_id"] for h in hits]  # below the cut-off: not a look-alike
    filtered = json.loads(cli("search", "--image", str(png), "--limit", "1", "--json").stdout)
    assert len(filtered) == 1
    none = cli("search", "--image", str(png), "--min-height", "4000", "--json")
    assert none.returncode == 1 and json.loads(none.stdout) == []
