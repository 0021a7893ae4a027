"""The web catalog's changes (tags, collections, a person's name) over the shared session catalog
(tests/web_media.py): POST forms with a CSRF token, done by the CLI's store functions, read back from Postgres."""

from __future__ import annotations

import os
import re

import psycopg
import pytest
from psycopg.rows import dict_row
from markupsafe import escape
from starlette.testclient import TestClient

from catalog_cli.web.app import create_app
from catalog_resources.embeddings.service import EmbeddingService
from catalog_resources.store.analysis import replace_tags

pytestmark = pytest.mark.slow
os.environ.setdefault("HF_HUB_OFFLINE", "1")
SAME_SITE = {"Origin": "http://testserver"}


@pytest.fixture(scope="module")
def client(web_catalog) -> TestClient:
    app = create_app(web_catalog["database_url"], web_catalog["media_dir"], EmbeddingService())
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def clip(web_catalog) -> str:
    """The ProRes clip, given two machine tags as its analysis would."""
    clip_id = web_catalog["clips"]["prores"]
    with psycopg.connect(web_catalog["database_url"]) as conn:
        replace_tags(conn, clip_id, "ai", ["harbour", "bobsled"])
    return clip_id


def rows(web_catalog, sql: str, *args) -> list[dict]:
    with psycopg.connect(web_catalog["database_url"], row_factory=dict_row) as conn:
        return conn.execute(sql, args).fetchall()


def tags_of(web_catalog, clip_id: str) -> dict[str, tuple[str, str | None]]:
    return {r["name"]: (r["source"], r["review"]) for r in rows(
        web_catalog, "SELECT t.name, ct.source, ct.review FROM clip_tags ct JOIN tags t USING (tag_id)"
        " WHERE ct.clip_id = %s", clip_id)}


def collections_of(web_catalog, clip_id: str) -> list[str]:
    return [r["name"] for r in rows(web_catalog, "SELECT co.name FROM collection_clips cc JOIN collections co"
                                    " USING (collection_id) WHERE cc.clip_id = %s ORDER BY co.name", clip_id)]


def token(client: TestClient, clip_id: str) -> str:
    page = client.get(f"/clip/{clip_id}")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def post(client: TestClient, path: str, csrf: str | None, **fields: str):
    data = {**fields, **({"csrf": csrf} if csrf is not None else {})}
    return client.post(path, data=data, headers=SAME_SITE, follow_redirects=False)


def test_tags_are_added_removed_accepted_and_rejected(client, clip, web_catalog):
    csrf = token(client, clip)
    answer = post(client, f"/clip/{clip}/tags", csrf, action="add", name="Interview, b-roll")
    assert answer.status_code == 303 and answer.headers["location"] == f"/clip/{clip}#tags"
    assert tags_of(web_catalog, clip) == {"interview": ("user", None), "b-roll": ("user", None),
                                         "harbour": ("ai", None), "bobsled": ("ai", None)}
    assert post(client, f"/clip/{clip}/tags", csrf, action="remove", name="b-roll").status_code == 303
    assert post(client, f"/clip/{clip}/tags", csrf, action="reject", name="bobsled").status_code == 303
    assert post(client, f"/clip/{clip}/tags", csrf, action="accept", name="harbour").status_code == 303
    assert tags_of(web_catalog, clip) == {"interview": ("user", None), "harbour": ("ai", "accepted"),
                                         "bobsled": ("ai", "rejected")}
    with psycopg.connect(web_catalog["database_url"]) as conn:  # the analysis again: rejected stays rejected
        replace_tags(conn, clip, "ai", ["bobsled", "quay"])
    assert tags_of(web_catalog, clip)["bobsled"] == ("ai", "rejected")
    page = client.get(f"/clip/{clip}").text
    assert re.search(r'class="tag ai rejected"[^>]*>\s*<span class="tag-name">bobsled', page)
    assert post(client, f"/clip/{clip}/tags", csrf, action="remove", name="quay").status_code == 303
    assert tags_of(web_catalog, clip)["quay"] == ("ai", "rejected")  # removing a machine tag rejects it
    assert post(client, f"/clip/{clip}/tags", csrf, action="shred", name="x").status_code == 400
    assert post(client, f"/clip/{clip}/tags", csrf, action="add", name=" , ").status_code == 400


def test_collections_are_joined_created_on_the_fly_and_left(client, clip, web_catalog):
    csrf = token(client, clip)
    assert post(client, f"/clip/{clip}/collections", csrf, action="add", name="Project Alpha").status_code == 303
    assert post(client, f"/clip/{clip}/collections", csrf, action="add", name="project alpha").status_code == 303
    assert collections_of(web_catalog, clip) == ["Project Alpha"]  # found again without regard to case
    assert "Project Alpha" in client.get(f"/clip/{clip}").text
    answer = post(client, f"/clip/{clip}/collections", csrf, action="remove", name="PROJECT ALPHA")
    assert answer.status_code == 303 and answer.headers["location"] == f"/clip/{clip}#collections"
    assert collections_of(web_catalog, clip) == []
    assert rows(web_catalog, "SELECT name FROM collections") == [{"name": "Project Alpha"}]  # the collection stays
    assert post(client, f"/clip/{clip}/collections", csrf, action="remove", name="nowhere").status_code == 400
    assert post(client, "/clip/0123456789abcdef/collections", csrf, action="add", name="x").status_code == 404


def test_a_post_without_or_with_a_wrong_token_is_refused_and_changes_nothing(client, clip, web_catalog):
    before = tags_of(web_catalog, clip)
    forged = "abc." + "0" * 64
    for csrf in (None, "", forged, token(client, clip) + "x"):
        answer = post(client, f"/clip/{clip}/tags", csrf, action="add", name="sneaky")
        assert answer.status_code == 403 and "security token" in answer.text and "<h1>Refused</h1>" in answer.text
    other = TestClient(client.app)  # another browser: its own cookie; this one's token does not fit it
    other.get("/")
    answer = other.post(f"/clip/{clip}/tags", data={"csrf": token(client, clip), "action": "add", "name": "sneaky"},
                        headers=SAME_SITE, follow_redirects=False)
    assert answer.status_code == 403
    cross = client.post(f"/clip/{clip}/tags", data={"csrf": token(client, clip), "action": "add", "name": "sneaky"},
                        headers={"Origin": "http://evil.example"}, follow_redirects=False)
    assert cross.status_code == 403
    assert tags_of(web_catalog, clip) == before


def test_a_token_cookie_is_httponly_and_strict(client, clip):
    cookie = client.get(f"/clip/{clip}").headers["set-cookie"].lower()
    assert "vc_csrf=" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_html_in_a_tag_or_collection_name_renders_as_text(client, clip, web_catalog):
    csrf = token(client, clip)
    evil = '<b onmouseover="alert(1)">x</b>'
    assert post(client, f"/clip/{clip}/tags", csrf, action="add", name=evil).status_code == 303
    assert post(client, f"/clip/{clip}/collections", csrf, action="add", name=evil).status_code == 303
    page = client.get(f"/clip/{clip}").text
    assert evil.lower() not in page.lower() and evil not in page
    assert str(escape(evil.lower())) in page and str(escape(evil)) in page
    assert post(client, f"/clip/{clip}/tags", csrf, action="remove", name=evil).status_code == 303
    assert evil.lower() not in tags_of(web_catalog, clip)
