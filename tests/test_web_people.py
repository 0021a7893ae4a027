"""People in the web catalog (issue 21) over the shared session catalog (tests/web_media.py): the people page, a
person's page with their clips and times, faces on the clip page, naming by POST (CSRF), and face crops served
by person id only. The face tracks are written by the store's own writer (write_faces, as the faces step's IO
manager does) with a crop and faces.json per clip; the face vectors are two made-up people."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient

from catalog_cli.web.app import create_app
from catalog_resources.embeddings.service import EmbeddingService
from catalog_resources.models.people import FaceSet, FaceTrack
from catalog_resources.store.catalog import CatalogDB

pytestmark = pytest.mark.slow
os.environ.setdefault("HF_HUB_OFFLINE", "1")
SAME_SITE = {"Origin": "http://testserver"}


def _vector(axis: int) -> list[float]:
    v = np.zeros(128, dtype=np.float32)
    v[axis] = 1.0
    return v.tolist()


def _faces(media_dir, clip_id: str, tracks: list[tuple[int, list[tuple[float, float]], tuple[int, int, int]]]) -> FaceSet:
    folder = media_dir / clip_id / "faces"
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for index, (axis, ranges, colour) in enumerate(tracks):
        crop = folder / f"track_{index}.jpg"
        Image.new("RGB", (64, 64), colour).save(crop, format="JPEG")
        made.append(FaceTrack(track_index=index, start_seconds=ranges[0][0], end_seconds=ranges[-1][1], ranges=ranges,
                              embedding=_vector(axis), crop_path=str(crop)))
    faces = FaceSet(clip_id=clip_id, model="test", tracks=made)
    (media_dir / clip_id / "faces.json").write_text(faces.model_dump_json())
    return faces


@pytest.fixture(scope="module")
def people(web_catalog) -> dict[str, int]:
    """Person A in the speech clip (twice on screen) and the ProRes clip; person B in the speech clip."""
    clips, media = web_catalog["clips"], web_catalog["media_dir"]
    store = CatalogDB(web_catalog["database_url"])
    with store.connect() as conn:
        store.write_faces(conn, _faces(media, clips["speech"], [(0, [(0.5, 2.0), (3.0, 4.0)], (200, 40, 40)),
                                                                (1, [(1.0, 2.5)], (40, 40, 200))]))
        store.write_faces(conn, _faces(media, clips["prores"], [(0, [(0.0, 1.0)], (200, 40, 40))]))
    rows = store.clip_people(clips["speech"])
    return {"a": rows[0]["person_id"], "b": rows[1]["person_id"]}


@pytest.fixture(scope="module")
def client(web_catalog, people) -> TestClient:
    app = create_app(web_catalog["database_url"], web_catalog["media_dir"], EmbeddingService())
    with TestClient(app) as test_client:
        yield test_client


def test_people_page_lists_each_person_with_face_clips_and_screen_time(client, people):
    page = client.get("/people")
    assert page.status_code == 200
    a, b = people["a"], people["b"]
    assert f'href="/people/{a}"' in page.text and f'href="/people/{b}"' in page.text
    assert f"Person {a}" in page.text and "2 clips · 0:04 on screen" in page.text  # 1.5 + 1 + 1 s
    assert f'src="/media/person/{a}/face"' in page.text
    face = client.get(f"/media/person/{a}/face")
    assert face.status_code == 200 and face.headers["content-type"] == "image/jpeg"
    assert face.headers["cache-control"].startswith("private")


def test_person_page_lists_their_clips_with_times_that_play_from_then(client, people, web_catalog):
    clips = web_catalog["clips"]
    page = client.get(f"/people/{people['a']}")
    assert page.status_code == 200 and "speech interview.mp4" in page.text and "prores_mov.mov" in page.text
    assert f'href="/clip/{clips["speech"]}?t=0.50"' in page.text and f'href="/clip/{clips["speech"]}?t=3.00"' in page.text
    assert f'href="/clip/{clips["prores"]}?t=0.00"' in page.text
    assert "no proxy.MTS" not in page.text
    for missing in ("/people/999999", "/people/abc", "/people/" + "9" * 40):
        answer = client.get(missing)
        assert answer.status_code == 404 and "<h1>Not found</h1>" in answer.text, missing


def test_clip_page_shows_who_appears_and_when(client, people, web_catalog):
    page = client.get(f"/clip/{web_catalog['clips']['speech']}")
    section = page.text.split('id="people"')[1].split('id="tags"')[0]
    assert f'href="/people/{people["a"]}"' in section and f'href="/people/{people["b"]}"' in section
    assert 'data-seek="0.50"' in section and 'data-seek="3.00"' in section and 'data-seek="1.00"' in section
    assert 'id="people"' not in client.get(f"/clip/{web_catalog['clips']['no_proxy']}").text


def test_naming_a_person_by_post(client, people):
    b = people["b"]
    page = client.get(f"/people/{b}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    refused = client.post(f"/people/{b}/name", data={"name": "Mallory"}, headers=SAME_SITE, follow_redirects=False)
    assert refused.status_code == 403
    named = client.post(f"/people/{b}/name", data={"csrf": csrf, "name": "  Grace <Hopper>  "}, headers=SAME_SITE,
                        follow_redirects=False)
    assert named.status_code == 303 and named.headers["location"] == f"/people/{b}#name"
    assert client.app.state.catalog.store.find_person(str(b)).name == "Grace <Hopper>"
    listing = client.get("/people").text
    assert "Grace &lt;Hopper&gt;" in listing and "Grace <Hopper>" not in listing
    assert client.post("/people/999999/name", data={"csrf": csrf, "name": "x"}, headers=SAME_SITE).status_code == 404
    cleared = client.post(f"/people/{b}/name", data={"csrf": csrf, "name": ""}, headers=SAME_SITE, follow_redirects=False)
    assert cleared.status_code == 303 and client.app.state.catalog.store.find_person(str(b)).name is None


def test_face_crops_are_served_by_person_id_only(client, people, web_catalog):
    clip = web_catalog["clips"]["speech"]
    for path in (f"/media/{clip}/image/track_0.jpg", f"/media/{clip}/small/track_0.jpg", f"/media/{clip}/faces/track_0.jpg",
                 "/media/person/..%2F..%2Fetc%2Fpasswd/face", "/media/person/-1/face", "/media/person/999999/face"):
        assert client.get(path).status_code == 404, path
    crop = web_catalog["media_dir"] / web_catalog["clips"]["prores"] / "faces" / "track_0.jpg"
    sidecar = crop.parent.parent / "faces.json"
    saved = sidecar.read_text()
    sidecar.write_text(FaceSet(clip_id=web_catalog["clips"]["prores"], model="test").model_dump_json())
    try:  # a crop its clip's faces.json no longer lists (people forget took it out) is not served
        store = client.app.state.catalog.store
        assert client.app.state.media.face(web_catalog["clips"]["prores"], str(crop)) is None
        assert client.app.state.media.face(clip, str(crop.parent.parent.parent / clip / "faces" / "track_0.jpg"))
        assert store.find_person(str(people["a"])).clips == 2
    finally:
        sidecar.write_text(saved)
