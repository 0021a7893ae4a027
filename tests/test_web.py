"""`video-catalog web` over a real ingested catalog (tests/web_media.py), through starlette's TestClient: the
pages and the API answer with the CLI's search and list, media is served by clip id only (Range for the proxy),
hostile input is answered cleanly, and a dead database is a 503 page."""

from __future__ import annotations

import html
import os
import re
import shutil
import socket
import subprocess
import sys

import pytest
from starlette.testclient import TestClient

from catalog_cli.web.app import create_app
from catalog_resources.embeddings.service import EmbeddingService
from tests.web_media import HOSTILE_NAME, HOSTILE_TEXT, PHRASE

pytestmark = pytest.mark.slow
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def client(web_catalog) -> TestClient:
    app = create_app(web_catalog["database_url"], web_catalog["media_dir"], EmbeddingService())
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def clips(web_catalog) -> dict[str, str]:
    return web_catalog["clips"]


def test_search_page_shows_the_spoken_hit_with_its_time_strength_and_why(client, clips):
    found = client.get("/api/search", params={"q": PHRASE}).json()
    top = found["hits"][0]
    assert top["clip_id"] == clips["speech"] and top["start_seconds"] > 1.0, top  # the second sentence
    assert "siemens" in (top["why"] or "").lower() and top["strength"] >= 50
    page = client.get("/", params={"q": PHRASE})
    assert page.status_code == 200
    assert f'href="/clip/{clips["speech"]}?t={top["start_seconds"]:.2f}"' in page.text
    assert f'{top["strength"]} %' in page.text and "match" in page.text and "Siemens" in page.text
    assert f'/media/{clips["speech"]}/small/' in page.text  # the poster of the hit's moment
    assert "app;dur=" in page.headers["server-timing"]


def test_inline_filters_and_form_filters_are_the_cli_filters(client, clips):
    for params in ({"q": f"{PHRASE} codec:prores"}, {"q": PHRASE, "codec": "prores"}):
        hits = client.get("/api/search", params=params).json()["hits"]
        assert {h["video_codec"] for h in hits} <= {"prores"} and clips["speech"] not in {h["clip_id"] for h in hits}
    assert client.get("/api/search", params={"q": PHRASE, "codec": "h264"}).json()["hits"][0]["clip_id"] == clips["speech"]
    bad = client.get("/", params={"q": "meeting fps:fast"})
    assert bad.status_code == 400 and "fps" in html.unescape(bad.text) and "write it like" in html.unescape(bad.text)
    only = client.get("/", params={"q": "codec:prores"})  # no words: the clips the filters match
    assert only.status_code == 200 and "prores_mov.mov" in only.text and "speech interview" not in only.text


def test_library_lists_filters_sorts_and_pages(client, clips):
    everything = client.get("/api/clips", params={"sort": "name"}).json()
    names = [row["file_name"] for row in everything["clips"]]
    assert names == sorted(names) and len(names) == 4
    prores = client.get("/api/clips", params={"codec": "prores"}).json()["clips"]
    assert [row["clip_id"] for row in prores] == [clips["prores"]]
    page = client.get("/library", params={"codec": "prores"})
    assert page.status_code == 200 and "prores_mov.mov" in page.text and '<option value="prores"' not in page.text
    assert client.get("/api/clips", params={"page": 2}).json()["clips"] == []
    paged = client.get("/api/clips", params={"sort": "name"}).json()["page"]  # keys for the links, in the API too
    assert paged["next"]["page_after"] and paged["last"] == {"at": "end"} and not paged["has_next"]
    after_first = client.get("/api/clips", params={"sort": "name", "page_after": paged["previous"]["page_before"]})
    assert [row["file_name"] for row in after_first.json()["clips"]] == names[1:]
    last = client.get("/library", params={"sort": "name", "at": "end", "codec": "prores"})
    assert last.status_code == 200 and "prores_mov.mov" in last.text
    assert client.get("/library", params={"min_duration": "soon"}).status_code == 400


def test_clip_page_has_player_at_t_transcript_scenes_and_sources(client, clips):
    page = client.get(f"/clip/{clips['speech']}", params={"t": "2.5"})
    assert page.status_code == 200
    assert f'src="/media/{clips["speech"]}/proxy.mp4"' in page.text and 'data-start="2.50"' in page.text
    assert page.text.count('class="line"') >= 2 and "Siemens" in page.text  # the transcript, line by line
    assert "speech interview.mp4" in page.text and ">online<" in page.text
    assert "Technical metadata" in page.text and "Contact sheet" in page.text
    detail = client.get(f"/api/clips/{clips['speech']}").json()
    assert detail["clip_id"] == clips["speech"] and detail["proxy"] is True and "meaning" in detail["similar"]


def test_a_clip_without_proxy_shows_its_poster_and_a_note(client, clips):
    page = client.get(f"/clip/{clips['no_proxy']}")
    assert page.status_code == 200 and "<video" not in page.text
    assert 'id="no-proxy"' in page.text and 'class="poster"' in page.text
    poster = re.search(r'class="poster" src="([^"]+)"', page.text).group(1)
    assert client.get(poster).status_code == 200
    assert client.get(f"/media/{clips['no_proxy']}/proxy.mp4").status_code == 404


def test_unknown_clips_are_404_pages(client):
    for path in ("/clip/0123456789abcdef", "/clip/..%2F..%2Fetc%2Fpasswd", "/clip/%3Cscript%3E", "/nowhere"):
        answer = client.get(path)
        assert answer.status_code == 404 and "<h1>Not found</h1>" in answer.text, path
    assert client.get("/api/clips/0123456789abcdef").json() == {"error": "No cataloged clip has the id '0123456789abcdef'."}


def test_proxy_is_served_with_range_and_thumbnails_with_cache_headers(client, clips, web_catalog):
    proxy = next((web_catalog["media_dir"] / clips["speech"]).glob("*.mp4"))
    whole = proxy.read_bytes()
    part = client.get(f"/media/{clips['speech']}/proxy.mp4", headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == whole[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(whole)}" and part.headers["accept-ranges"] == "bytes"
    tail = client.get(f"/media/{clips['speech']}/proxy.mp4", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == whole[-10:]
    poster = client.get(f"/media/{clips['speech']}/poster")
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
    assert "max-age" in poster.headers["cache-control"] and poster.headers.get("etag")


def test_no_request_parameter_becomes_a_path(client, clips, web_catalog, tmp_path):
    clip = clips["hostile"]
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"\xff\xd8 not for the browser")
    attempts = [f"/media/{clip}/image/..%2F..%2F..%2Fetc%2Fpasswd", f"/media/{clip}/image/%2Fetc%2Fpasswd",
                f"/media/{clip}/image/..%252F..%252Fetc%252Fpasswd", f"/media/{clip}/image/thumbnails.json",
                f"/media/{clip}/image/{secret}", "/media/..%2F..%2F..%2Fetc/proxy.mp4", "/media/%2Fetc/poster",
                f"/media/{clip}/../../etc/passwd", f"/media/{clip}/image/..", "/static/..%2F..%2Fapp.py"]
    for path in attempts:
        answer = client.get(path)
        assert answer.status_code == 404 and b"root:" not in answer.content and b"not for the browser" not in answer.content, path
    folder = web_catalog["media_dir"] / clip  # a symlink planted in the store that leads out of it
    sheet = next(folder.rglob("*sheet*.jpg"))
    saved = tmp_path / "sheet"
    shutil.move(sheet, saved)
    try:
        sheet.symlink_to(secret)
        assert client.get(f"/media/{clip}/image/{sheet.name}").status_code == 404
    finally:
        sheet.unlink()
        shutil.move(saved, sheet)
    assert client.get(f"/media/{clip}/image/{sheet.name}").status_code == 200


def test_a_ten_thousand_character_query_is_answered_cleanly(client):
    query = "solar " * 1667
    page = client.get("/", params={"q": query[:10_000]})
    assert page.status_code == 400 and "10,000 characters" in page.text
    assert client.get("/api/search", params={"q": query[:10_000]}).json()["error"].startswith("The query is 10,000")


def test_html_in_a_file_name_or_footage_text_is_shown_as_text(client, clips):
    escaped_name = html.escape(HOSTILE_NAME, quote=False)
    for path in ("/library", f"/clip/{clips['hostile']}"):
        page = client.get(path)
        assert escaped_name in page.text and HOSTILE_NAME not in page.text, path
    page = client.get(f"/clip/{clips['hostile']}")
    segments = client.get(f"/api/clips/{clips['hostile']}").json()["segments"]
    assert HOSTILE_TEXT in [s["text"] for s in segments], segments
    assert "&lt;script&gt;document.title=" in page.text and "<script>document" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_database_down_is_a_503_page(web_catalog):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    app = create_app(f"postgresql://nobody@127.0.0.1:{dead}/catalog", web_catalog["media_dir"], EmbeddingService())
    with TestClient(app) as client:
        for path in ("/", "/?q=solar", "/library", "/clip/0123456789abcdef"):
            answer = client.get(path)
            assert answer.status_code == 503 and "video-catalog db start" in answer.text, path
        assert client.get("/api/search", params={"q": "solar"}).status_code == 503
        assert "error" in client.get("/api/clips").json()


def test_openapi_lists_the_api(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/search", "/api/clips", "/api/clips/{clip_id}"} <= set(paths)
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/api/docs/assets/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200  # served here: no CDN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_command_warns_when_listening_beyond_this_machine(web_catalog):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "catalog_cli.main", "web", "--host", "0.0.0.0", "--port", str(port)],
                              env=web_catalog["env"], stderr=subprocess.PIPE, text=True)
    try:
        lines = [server.stderr.readline() for _ in range(2)]
        assert "warning:" in lines[0] and "0.0.0.0" in lines[0] and f":{port}" in lines[1], lines
    finally:
        server.terminate()
        server.wait(timeout=30)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        refused = subprocess.run([sys.executable, "-m", "catalog_cli.main", "web", "--port", str(busy)],
                                 env=web_catalog["env"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and f"port {busy} on 127.0.0.1 is already in use" in refused.stderr


def test_a_cross_site_post_is_refused(client):
    assert client.post("/", headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.post("/library").status_code == 403  # neither Origin nor Referer
    assert client.post("/", headers={"Origin": "http://testserver"}).status_code == 405  # same site: no such mutation yet
