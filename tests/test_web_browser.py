"""The web catalog in a real browser: `video-catalog web` as a user starts it, driven by Playwright through
Debian's chromium (`executable_path`: Playwright's own browser download cannot work here). A spoken phrase is
searched, the hit opens the clip playing from the moment that matched with its transcript line highlighted, the
library is filtered by codec, and a clip without a proxy shows its poster. Screenshots of the search and clip
pages are kept under test-artifacts/web/ (gitignored; VIDEO_CATALOG_TEST_ARTIFACTS moves it)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.web_media import PHRASE

pytestmark = pytest.mark.slow
ARTIFACTS = Path(os.environ.get("VIDEO_CATALOG_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str) -> dict:
    return json.loads(urllib.request.urlopen(url, timeout=30).read())


@pytest.fixture(scope="module")
def server(web_catalog):
    """`video-catalog web` on a free port, stopped (SIGTERM) at the end."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "catalog_cli.main", "web", "--port", str(port)],
                               env=web_catalog["env"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/library", timeout=5)
            break
        except OSError:
            assert process.poll() is None, process.stderr.read()
            time.sleep(0.3)
    yield base
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium is not None, "Debian's chromium is not installed (apt-get install chromium; `make test` does)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    yield context.new_page()
    context.close()


def test_search_click_plays_from_the_hit_with_its_transcript_line_highlighted(server, page, web_catalog):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    hit = get_json(f"{server}/api/search?" + urllib.parse.urlencode({"q": PHRASE}))["hits"][0]
    assert hit["clip_id"] == web_catalog["clips"]["speech"] and hit["start_seconds"] > 1.0
    page.goto(server + "/")
    page.fill("#q", PHRASE)
    page.press("#q", "Enter")
    page.wait_for_selector(".hit")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["q"] == [PHRASE]  # bookmarkable
    page.wait_for_function("[...document.images].every(i => i.complete)")
    page.screenshot(path=str(ARTIFACTS / "web-search.png"), full_page=True)
    page.locator(".hit a.hit-link").first.click()
    page.wait_for_url(f"**/clip/{hit['clip_id']}?t=*")
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {hit['start_seconds']}) <= 0.5")
    current = page.locator("#transcript .line.current")
    assert current.count() == 1 and "Siemens" in current.inner_text()
    page.screenshot(path=str(ARTIFACTS / "web-clip.png"), full_page=True)
    first_line = page.locator("#transcript .line").first  # a timestamp seeks the player
    first_line.locator("a.ts").click()
    start = float(first_line.get_attribute("data-start"))
    page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {start}) <= 0.5")
    assert "current" in first_line.get_attribute("class")


def test_library_filtered_by_codec(server, page, web_catalog):
    page.goto(server + "/library")
    assert page.locator(".card").count() == 4
    page.click("details.filters summary")
    page.fill("input[name=codec]", "prores")
    page.click("form.search button[type=submit]")
    page.wait_for_url("**/library?*codec=prores*")
    names = page.locator(".card .name").all_inner_texts()
    assert names == ["prores_mov.mov"]


def test_a_clip_without_proxy_shows_the_poster_and_a_note(server, page, web_catalog):
    page.goto(f"{server}/clip/{web_catalog['clips']['no_proxy']}")
    assert page.locator("video").count() == 0
    assert "No proxy was made" in page.locator("#no-proxy").inner_text()
    page.wait_for_function("document.querySelector('img.poster').complete")
    assert page.evaluate("document.querySelector('img.poster').naturalWidth") > 0


def test_typing_searches_as_you_go_and_the_url_follows(server, page, web_catalog):
    page.goto(server + "/")
    page.locator("#q").press_sequentially(PHRASE, delay=20)  # no Enter: the page asks on its own
    page.wait_for_selector(".hit")
    assert web_catalog["clips"]["speech"] in page.locator(".hit a.hit-link").first.get_attribute("href")
    page.wait_for_url("**/?q=Siemens*")


def test_a_tag_added_in_the_browser_passes_the_csrf_checks(server, page, web_catalog):
    clip = web_catalog["clips"]["no_proxy"]
    page.goto(f"{server}/clip/{clip}")
    form = page.locator(f"form[action='/clip/{clip}/tags']:has(input[name=name][placeholder])")
    form.locator("input[name=name]").fill("Browser Tag")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**/clip/{clip}#tags")
    assert "browser tag" in page.locator("ul.tags .tag-name").all_inner_texts()
    page.locator("li.tag:has-text('browser tag') button.remove").click()  # and off again
    page.wait_for_url(f"**/clip/{clip}#tags")
    assert "browser tag" not in page.locator("ul.tags .tag-name").all_inner_texts()
