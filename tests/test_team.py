"""A shared catalog (issue 19, first part): users are PostgreSQL login roles and row-level security keeps each to
their own rows, whatever they send. A real embedded server listening on 127.0.0.1 with password (SCRAM) logins;
a catalog made by the local account (a real clip ingested, two seeded ones), handed to the first admin by
`auth init`; a second user who writes their own clips through the store's writers; then raw SQL, the store's
searches and the CLI as each of them.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import quote

import numpy as np
import psycopg
import pytest
from psycopg.rows import dict_row

from catalog_resources.auth.names import role_for
from catalog_resources.auth.scram import scram_verifier
from catalog_resources.embeddings.service import EmbeddingService
from catalog_resources.resources.catalog import CatalogResource
from tests.search_seed import seed

CLI = [sys.executable, "-m", "catalog_cli.main"]
ANNA, BEN = ("anna@example.com", "anna-long-password"), ("ben@example.com", "ben-long-password")
# Every table that holds footage data (sql/014); each must be owned row by row.
OWNED = ("clips", "clip_sources", "scanned_files", "technical_metadata", "audio_tracks", "subtitle_tracks", "thumbnails",
         "frame_analysis", "analysis", "transcripts", "segments", "embeddings", "catalog_records", "collections",
         "collection_clips", "tags", "clip_tags", "asset_versions", "clip_facts", "clip_failures", "ingest_claims",
         "scene_looks", "people", "face_tracks", "face_track_rejections", "voice_tracks")
UNOWNED = {"schema_migrations", "pipeline_versions", "pipeline_signature", "catalog_owner", "catalog_users", "catalog_sessions",
           "catalog_passwords", "catalog_login_attempts"}


def doc(clip_id: str, words: str, tag: str) -> dict:
    return {"clip_id": clip_id, "summary": f"{words}.", "keywords": [tag], "on_screen_text": "",
            "transcript": f"{words}. More about {words}.", "technical": {"codec": "h264", "height": 1080, "fps": 25.0,
                                                                       "shot_type": "wide"}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def team(tmp_path_factory, media_library) -> dict:
    home = tmp_path_factory.mktemp("team-home")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEO_CATALOG_")}
    base_env |= {"VIDEO_CATALOG_HOME": str(home), "HF_HUB_OFFLINE": "1",
                 "VIDEO_CATALOG_AUTH_FILE": str(home / "no-login.json")}
    port = _free_port()

    def cli(*args: str, url: str | None = None, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
        run_env = base_env | (env or {}) | ({"VIDEO_CATALOG_DATABASE_URL": url} if url else {})
        return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, env=run_env, input=stdin)

    started = cli("db", "start", "--listen", f"127.0.0.1:{port}")
    assert started.returncode == 0, started.stderr
    footage = home / "footage"
    footage.mkdir()
    (footage / "short.mp4").write_bytes(media_library["short.mp4"].read_bytes())
    ingested = cli("ingest", "--json", "--disable", "ai_analysis,embeddings", str(footage))
    assert ingested.returncode == 0, ingested.stderr
    (real_clip,) = [item["clip_id"] for item in json.loads(ingested.stdout)["new"]]
    local = CatalogResource(database_url=_local_url(cli))
    seed(local, EmbeddingService(), [doc("anna-harbour", "fishing boats in the harbour", "harbour")])
    init = cli("auth", "init", "--email", ANNA[0], "--password-stdin", stdin=ANNA[1] + "\n")
    assert init.returncode == 0, init.stderr
    signup = cli("auth", "signup", BEN[0], "--password-stdin", stdin=BEN[1] + "\n")
    assert signup.returncode == 0, signup.stderr
    urls = {"anna": _session_url(port, *ANNA), "ben": _session_url(port, *BEN)}
    ben = CatalogResource(database_url=urls["ben"])
    seed(ben, EmbeddingService(), [doc("ben-mountain", "snow on the mountain pass", "mountain")])
    yield {"cli": cli, "urls": urls, "local": local, "real_clip": real_clip, "local_url": _local_url(cli), "port": port,
           "home": home, "env": base_env}
    cli("db", "stop")


def _session_url(port: int, email: str, password: str) -> str:
    """A script's URL for the user: a session opened with their password (the only way in: sql/018), its access
    token as the password, acting as their role."""
    from catalog_resources.auth.session import open_session

    found = open_session(f"127.0.0.1:{port}", email, password, access_seconds=3600)
    return (f"postgresql://{found.session_role}:{found.access_token}@127.0.0.1:{port}/video_catalog"
            f"?options={quote('-c role=' + found.user_role)}")


def _local_url(cli) -> str:
    result = cli("db", "url")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1].strip()


def _connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url, row_factory=dict_row, autocommit=True)


def _counts(url: str) -> dict[str, int]:
    with _connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) AS n FROM {t}").fetchone()["n"] for t in OWNED}


@pytest.mark.slow
def test_every_footage_table_is_owned_and_guarded_by_the_database(team):
    with _connect(team["local_url"]) as conn:
        tables = {r["relname"]: r for r in conn.execute(
            """SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                      EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'owner') AS owned
               FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace""")}
    assert set(tables) == set(OWNED) | UNOWNED  # a new table must be added to sql's owned list (and here)
    for name in OWNED:
        assert tables[name]["owned"] and tables[name]["relrowsecurity"] and tables[name]["relforcerowsecurity"], name


@pytest.mark.slow
def test_the_first_admin_takes_over_the_catalog_with_its_ids(team):
    anna = role_for(ANNA[0])
    with _connect(team["local_url"]) as conn:
        owners = {r["owner"] for t in OWNED for r in conn.execute(f"SELECT DISTINCT owner FROM {t}")}
        ids = {r["clip_id"] for r in conn.execute("SELECT clip_id FROM clips WHERE owner = %s", (anna,))}
    assert owners == {anna, role_for(BEN[0])}
    assert ids == {team["real_clip"], "anna-harbour"}  # the ids from before: nothing re-cataloged


@pytest.mark.slow
def test_a_user_reads_changes_and_finds_nothing_of_anothers(team):
    everything = _counts(team["local_url"])
    bens = _counts(team["urls"]["ben"])
    with _connect(team["local_url"]) as conn:
        ben_owns = {t: conn.execute(f"SELECT count(*) AS n FROM {t} WHERE owner = %s", (role_for(BEN[0]),)).fetchone()["n"]
                    for t in OWNED}
    assert bens == ben_owns and sum(bens.values()) > 0
    assert sum(everything.values()) > sum(bens.values())  # anna's rows exist, ben reads none of them
    assert _counts(team["urls"]["anna"]) == everything  # the admin reads everyone's
    with _connect(team["urls"]["ben"]) as conn:
        assert conn.execute("UPDATE clips SET file_name = 'x' WHERE clip_id = %s", (team["real_clip"],)).rowcount == 0
        assert conn.execute("DELETE FROM clips WHERE clip_id = 'anna-harbour'").rowcount == 0
        assert conn.execute("DELETE FROM embeddings WHERE clip_id = 'anna-harbour'").rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # a row written as someone else is refused
            conn.execute("INSERT INTO tags (name, owner) VALUES ('planted', %s)", (role_for(ANNA[0]),))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE tags SET owner = %s", (role_for(ANNA[0]),))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # nor may a user change the schema or the roles
            conn.execute("SELECT catalog_add_user('eve@example.com', 'vc_eve', %s, true)", (scram_verifier("x" * 12),))
    with _connect(team["local_url"]) as conn:
        assert conn.execute("SELECT file_name FROM clips WHERE clip_id = %s", (team["real_clip"],)).fetchone()["file_name"] == "short.mp4"
        (vector,) = [r["embedding"] for r in conn.execute(
            "SELECT embedding::text FROM embeddings WHERE clip_id = 'anna-harbour' AND scope = 'full_clip'")]
    ben = CatalogResource(database_url=team["urls"]["ben"])
    anna = CatalogResource(database_url=team["urls"]["anna"])
    query = np.array(json.loads(vector), dtype=np.float32)  # anna's own clip vector: the nearest thing there is
    assert all(hit["clip_id"] != "anna-harbour" for hit in ben.semantic_matches(query, EmbeddingService().model, 384, "TRUE", {}, 10))
    assert any(hit["clip_id"] == "anna-harbour" for hit in anna.semantic_matches(query, EmbeddingService().model, 384, "TRUE", {}, 10))


@pytest.mark.slow
def test_the_commands_show_each_user_their_own_and_the_admin_everyones(team):
    cli, urls = team["cli"], team["urls"]
    listed = {who: {c["clip_id"] for c in json.loads(cli("list", "--json", url=urls[who]).stdout)} for who in urls}
    assert listed["ben"] == {"ben-mountain"}
    assert listed["anna"] == {team["real_clip"], "anna-harbour", "ben-mountain"}
    for words, owner in (("harbour", "anna-harbour"), ("mountain", "ben-mountain")):
        for who in urls:
            result = cli("search", words, "--mode", "text", "--json", url=urls[who])
            found = {h["clip_id"] for h in json.loads(result.stdout or "[]")}
            assert (owner in found) == (who == "anna" or owner.startswith(who)), (words, who, found)
    shown = cli("show", "anna-harbour", url=urls["ben"])
    assert shown.returncode != 0 and "anna-harbour" in shown.stderr  # for ben it does not exist
    status = json.loads(cli("auth", "status", "--json", url=urls["ben"]).stdout)
    assert status == {"team": True, "role": role_for(BEN[0]), "email": BEN[0], "admin": False,
                      "first_owner": role_for(ANNA[0])}
    users = json.loads(cli("admin", "users", "list", "--json", url=urls["ben"]).stdout)
    assert [u["email"] for u in users] == [BEN[0]]  # a user sees only themselves
    mine = {c["clip_id"] for c in json.loads(cli("list", "--user-only", "--json", url=urls["anna"]).stdout)}
    assert mine == {team["real_clip"], "anna-harbour"}  # the admin's own, among everyone's
    by_user = json.loads(cli("admin", "clips", "list", "--all-users", "--json", url=urls["anna"]).stdout)
    assert {(c["clip_id"], c["owner"]) for c in by_user} == {
        (team["real_clip"], ANNA[0]), ("anna-harbour", ANNA[0]), ("ben-mountain", BEN[0])}
    bens_view = json.loads(cli("admin", "clips", "list", "--all-users", "--json", url=urls["ben"]).stdout)
    assert [c["clip_id"] for c in bens_view] == ["ben-mountain"]  # asking for all changes nothing for a user
    for args in (["tag", "list", "--json"], ["collection", "list", "--json"], ["people", "list", "--json"]):
        assert "harbour" not in cli(*args, url=urls["ben"]).stdout, args
    refused = cli("admin", "users", "promote", BEN[0], "admin", url=urls["ben"])
    assert refused.returncode == 2 and "not allowed" in refused.stderr


def _session_env(team, tmp_path, seconds: int) -> dict:
    return {"VIDEO_CATALOG_AUTH_FILE": str(tmp_path / "auth.json"), "VIDEO_CATALOG_ACCESS_SECONDS": str(seconds)}


@pytest.mark.slow
def test_a_login_keeps_tokens_only_renews_them_and_logout_ends_them(team, tmp_path, monkeypatch):
    from catalog_resources.auth import session as sessions
    from catalog_resources.store.catalog import CatalogDB

    extra = _session_env(team, tmp_path, 3)
    for key, value in extra.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(sessions, "ACCESS_SECONDS", 3)
    cli = team["cli"]
    port = team["port"]
    login = cli("auth", "login", "--email", BEN[0], "--server", f"127.0.0.1:{port}", "--password-stdin",
                stdin=BEN[1] + "\n", env=extra)
    assert login.returncode == 0, login.stderr
    path = tmp_path / "auth.json"
    assert path.stat().st_mode & 0o777 == 0o600 and BEN[1] not in path.read_text()
    saved = sessions.load()
    assert saved.url().startswith(f"postgresql://{saved.session_role}@") and saved.access_token not in saved.url()
    assert {c["clip_id"] for c in json.loads(cli("list", "--json", env=extra).stdout)} == {"ben-mountain"}
    status = json.loads(cli("auth", "status", "--json", env=extra).stdout)
    assert status["email"] == BEN[0] and status["session"]["server"] == f"127.0.0.1:{port}"
    # a long-running process: a connection opened after the access token ran out renews it and works
    db = CatalogDB(saved.url())
    assert [r["clip_id"] for r in db.list_clips(None, None, "cataloged")] == ["ben-mountain"]
    time.sleep(4)
    found: list = []
    worker = threading.Thread(target=lambda: found.extend(db.list_clips(None, None, "cataloged")))  # a new connection
    worker.start()
    worker.join()
    assert [r["clip_id"] for r in found] == ["ben-mountain"]
    renewed = sessions.load()
    assert renewed.access_token != saved.access_token and renewed.refresh_token != saved.refresh_token
    with pytest.raises(psycopg.OperationalError):  # the old access token is gone
        psycopg.connect(host="127.0.0.1", port=port, dbname="video_catalog", user=saved.session_role,
                        password=saved.access_token)
    with pytest.raises(sessions.SessionError):  # and so is the old refresh token
        sessions.renew(saved)
    path.chmod(0o644)
    refused = cli("list", env=extra)
    assert refused.returncode == 2 and "can be read by others" in refused.stderr
    path.chmod(0o600)
    assert cli("auth", "logout", env=extra).returncode == 0
    assert not path.exists()
    with pytest.raises(psycopg.OperationalError):  # logged out: the session's tokens open nothing
        psycopg.connect(host="127.0.0.1", port=port, dbname="video_catalog", user=renewed.session_role,
                        password=renewed.access_token)
    with pytest.raises(sessions.SessionError):
        sessions.renew(renewed)


RUN_TAGS = """
from dagster import DagsterInstance, RunsFilter
from catalog_resources.settings import CatalogSettings
from catalog_resources.store.dagster_home import prepare_dagster_home
from catalog_resources.store.endpoint import resolve_database

settings = CatalogSettings()
prepare_dagster_home(settings, resolve_database(settings))
print([run.tags.get("video_catalog/user") for run in DagsterInstance.get().get_runs()])
"""


@pytest.mark.slow
def test_a_logged_in_user_ingests_the_same_file_as_their_own_clip(team, tmp_path, media_library):
    cli = team["cli"]
    extra = {**_session_env(team, tmp_path, 900), "VIDEO_CATALOG_HOME": str(tmp_path / "ben-home")}
    port = team["port"]
    assert cli("auth", "login", "--email", BEN[0], "--server", f"127.0.0.1:{port}", "--password-stdin",
               stdin=BEN[1] + "\n", env=extra).returncode == 0
    footage = tmp_path / "ben footage"
    footage.mkdir()
    (footage / "short.mp4").write_bytes(media_library["short.mp4"].read_bytes())  # the very file anna cataloged
    ingested = cli("ingest", "--json", "--disable", "ai_analysis,embeddings", str(footage), env=extra)
    assert ingested.returncode == 0, ingested.stderr
    (ben_clip,) = [item["clip_id"] for item in json.loads(ingested.stdout)["new"]]
    assert ben_clip != team["real_clip"]  # his own id for the same content: no clash, nothing learnt of anna's
    assert {c["clip_id"] for c in json.loads(cli("list", "--json", env=extra).stdout)} == {"ben-mountain", ben_clip}
    with _connect(team["local_url"]) as conn:
        owners = {r["clip_id"]: r["owner"] for r in conn.execute("SELECT clip_id, owner FROM clips")}
        made = conn.execute("SELECT count(*) AS n FROM asset_versions WHERE clip_id = %s AND owner = %s",
                            (ben_clip, role_for(BEN[0]))).fetchone()["n"]
    assert owners[ben_clip] == role_for(BEN[0]) and owners[team["real_clip"]] == role_for(ANNA[0])
    assert made >= 7  # every step he ran wrote its rows as him
    assert (tmp_path / "ben-home" / "media" / ben_clip / "thumbnails").is_dir()  # his products on his machine
    tags = subprocess.run([sys.executable, "-c", RUN_TAGS], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **extra})
    assert tags.returncode == 0, tags.stderr
    assert BEN[0] in tags.stdout and "token" not in tags.stdout
    assert cli("auth", "logout", env=extra).returncode == 0


SENSOR_AS_USER = """
import json
from dagster import AssetKey, DagsterInstance, build_sensor_context
from catalog_assets.catalog_app import CatalogApp
from catalog_assets.definitions import build_definitions
from catalog_assets.graph import INGEST_JOB_NAME
from catalog_assets.partitions import clips_partitions
from catalog_resources.settings import CatalogSettings

settings = CatalogSettings()
app = CatalogApp(settings)
app.store  # this machine's Dagster storage ready
defs = build_definitions(settings)
with build_sensor_context(instance=app.instance, definitions=defs, resources=defs.resources) as context:
    tick = defs.get_sensor_def("footage_sensor")(context)
(request,) = tick.run_requests
keys = [k for r in tick.dynamic_partitions_requests for k in r.partition_keys]
app.instance.add_dynamic_partitions(clips_partitions.name, keys)  # what the daemon does with the tick
job = defs.resolve_job_def(INGEST_JOB_NAME)
result = job.execute_in_process(instance=app.instance, partition_key=request.partition_key, tags=request.tags,
                                asset_selection=[AssetKey("clip_source"), AssetKey("technical_metadata")])
print(json.dumps({"tags": dict(request.tags), "success": result.success, "keys": keys,
                  "run_tags": dict(app.instance.get_run_by_id(result.run_id).tags)}))
"""


@pytest.mark.slow
def test_the_footage_sensor_catalogs_as_the_user_who_watches_the_folder(team, tmp_path, media_library):
    """Ben's machine watches his folder: the daemon's sensor asks runs as him, and they write his rows."""
    cli = team["cli"]
    watched = tmp_path / "ben watched"
    watched.mkdir()
    (watched / "mpeg2.MTS").write_bytes(media_library["mpeg2.MTS"].read_bytes())
    old = time.time() - 600
    os.utime(watched / "mpeg2.MTS", (old, old))  # settled
    extra = {**_session_env(team, tmp_path, 900), "VIDEO_CATALOG_HOME": str(tmp_path / "ben-home"),
             "VIDEO_CATALOG_WATCH": str(watched)}
    port = team["port"]
    assert cli("auth", "login", "--email", BEN[0], "--server", f"127.0.0.1:{port}", "--password-stdin",
               stdin=BEN[1] + "\n", env=extra).returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEO_CATALOG_")} | {
        "VIDEO_CATALOG_AUTH_FILE": str(tmp_path / "no-login.json"), "HF_HUB_OFFLINE": "1"} | extra
    ran = subprocess.run([sys.executable, "-c", SENSOR_AS_USER], capture_output=True, text=True, timeout=300, env=env)
    assert ran.returncode == 0, ran.stderr[-3000:]
    report = json.loads(ran.stdout.strip().splitlines()[-1])
    assert report["success"] and report["tags"]["video_catalog/user"] == BEN[0]
    assert report["run_tags"]["video_catalog/user"] == BEN[0] and "token" not in json.dumps(report)
    (key,) = report["keys"]
    with _connect(team["local_url"]) as conn:
        rows = conn.execute("SELECT c.clip_id, c.owner, t.owner AS tech_owner FROM clips c JOIN technical_metadata t "
                            "USING (clip_id) WHERE c.file_name = 'mpeg2.MTS'").fetchall()
    assert [(r["owner"], r["tech_owner"]) for r in rows] == [(role_for(BEN[0]), role_for(BEN[0]))], rows
    assert key.endswith("-" + rows[0]["clip_id"])  # the partition the sensor added is his clip
    assert cli("auth", "logout", env=extra).returncode == 0


@pytest.fixture
def team_web(team, tmp_path):
    """The web catalog of the shared catalog (as `video-catalog web` builds it there), served on a free port."""
    import uvicorn

    from catalog_cli.web.app import create_app
    from catalog_cli.web.logins import Logins

    app = create_app(team["local_url"], team["home"] / "media", secret_file=tmp_path / "web.secret",
                     logins=Logins(f"127.0.0.1:{team['port']}"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the web catalog did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(10)


@pytest.mark.slow
def test_the_web_catalog_asks_each_person_to_log_in_and_shows_them_their_own(team, team_web):
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium is not None, "Debian's chromium is not installed (apt-get install chromium; `make test` does)"
    anna_clip = team["real_clip"]

    def live_sessions() -> int:
        with _connect(team["local_url"]) as conn:
            return conn.execute("SELECT count(*) AS n FROM catalog_sessions s JOIN catalog_users u ON u.role_name = "
                                "s.user_role WHERE u.email = %s AND s.ended_at IS NULL", (BEN[0],)).fetchone()["n"]

    before = live_sessions()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{team_web}/library")
        assert page.url == f"{team_web}/login?next=%2Flibrary"  # nothing shown before a login
        assert page.request.get(f"{team_web}/api/clips").status == 401
        assert page.request.get(f"{team_web}/media/{anna_clip}/poster").status == 401
        page.fill("input[name=email]", BEN[0])
        page.fill("input[name=password]", "not-his-password")
        page.click("#login button")
        assert "Wrong e-mail or password" in page.inner_text("#login-error")
        page.fill("input[name=password]", BEN[1])
        page.click("#login button")
        page.wait_for_url(f"{team_web}/library")
        assert page.locator("a[href='/clip/ben-mountain']").count() >= 1
        assert page.locator(f"a[href='/clip/{anna_clip}']").count() == 0  # anna's clips are not there for him
        assert page.locator("a[href='/clip/anna-harbour']").count() == 0
        assert page.inner_text("#logout .who") == BEN[0] and live_sessions() == before + 1
        (cookie,) = [c for c in page.context.cookies() if c["name"] == "vc_login"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert page.request.get(f"{team_web}/media/{anna_clip}/poster").status == 404  # not even by its id
        assert page.request.get(f"{team_web}/clip/{anna_clip}").status == 404
        page.click("#logout button")
        page.wait_for_url(f"{team_web}/login")
        page.goto(f"{team_web}/library")
        assert page.url.startswith(f"{team_web}/login")  # the login is gone
        page.fill("input[name=email]", ANNA[0])
        page.fill("input[name=password]", ANNA[1])
        page.click("#login button")
        page.wait_for_url(f"{team_web}/library")
        assert page.locator(f"a[href='/clip/{anna_clip}']").count() >= 1  # the admin sees everyone's
        assert page.locator("a[href='/clip/ben-mountain']").count() >= 1
        assert page.request.get(f"{team_web}/media/{anna_clip}/poster").status == 200
        browser.close()
    assert live_sessions() == before  # logging out of the page ended his session on the server


@pytest.mark.slow
def test_video_catalog_web_on_a_shared_catalog_asks_for_a_login(team):
    import urllib.request

    port = _free_port()
    process = subprocess.Popen([*CLI, "web", "--port", str(port)], env=team["env"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                landed = urllib.request.urlopen(f"http://127.0.0.1:{port}/library", timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, process.communicate()[1]
                time.sleep(0.3)
        assert landed.url == f"http://127.0.0.1:{port}/login?next=%2Flibrary" and b'name="password"' in landed.read()
    finally:
        process.terminate()
        said = process.communicate(timeout=30)[1]
    assert "each person logs in" in said and f"127.0.0.1:{team['port']}" in said, said


@pytest.mark.slow
def test_wrong_passwords_are_slowed_down_and_never_reach_the_server(team, tmp_path):
    from catalog_resources.auth.session import LoginRefused, open_session
    from catalog_resources.settings import CatalogSettings
    from catalog_resources.store.endpoint import embedded_server

    cli, server = team["cli"], f"127.0.0.1:{team['port']}"
    email, password = "cleo@example.com", "cleo-long-password"
    added = cli("auth", "signup", email, "--password-stdin", stdin=password + "\n", url=team["urls"]["anna"])
    assert added.returncode == 0 and f"auth login --email {email}" in added.stdout, added.stderr
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):  # only sessions log in:
        psycopg.connect(host="127.0.0.1", port=team["port"], dbname="video_catalog",  # no way around the count
                        user=role_for(email), password=password, connect_timeout=10).close()
    refusals = []
    for _ in range(3):
        with pytest.raises(LoginRefused) as refused:
            open_session(server, email, "not-her-password")
        refusals.append(str(refused.value))
    assert "wrong e-mail or password" in refusals[0] and "next try" not in refusals[0] + refusals[1]
    assert refusals[2].endswith("the next try is possible in 1 s"), refusals
    with pytest.raises(LoginRefused, match="too many wrong passwords"):  # even the right one, until the wait is over
        open_session(server, email, password)
    time.sleep(1.2)
    assert open_session(server, email, password).user_role == role_for(email)  # and a good login resets the count
    cli_try = cli("auth", "login", "--email", email, "--server", server, "--password-stdin",
                  stdin="typed-it-wrong\n", env={"VIDEO_CATALOG_AUTH_FILE": str(tmp_path / "auth.json")})
    assert cli_try.returncode == 2 and "wrong e-mail or password" in cli_try.stderr
    assert len(cli_try.stderr.strip().splitlines()) == 1 and not (tmp_path / "auth.json").exists()
    unknown = pytest.raises(LoginRefused, match="wrong e-mail or password")  # same answer for nobody
    with unknown:
        open_session(server, "nobody@example.com", password)
    for _ in range(4):  # locked out again ...
        with pytest.raises(LoginRefused):
            open_session(server, email, "still-not-it")
    reset = cli("admin", "users", "password", email, "--password-stdin", stdin="cleo-new-password\n",
                url=team["urls"]["anna"])
    assert reset.returncode == 0 and "has a new password" in reset.stderr, reset.stderr
    assert open_session(server, email, "cleo-new-password").email == email  # ... until an admin sets a new one
    with pytest.raises(LoginRefused, match="wrong e-mail or password"):
        open_session(server, email, password)
    log = embedded_server(CatalogSettings(home=team["home"])).log_path.read_text(errors="replace")
    assert "typed-it-wrong" not in log and "not-her-password" not in log and password not in log


@pytest.mark.slow
def test_passwords_are_verifiers_and_a_disabled_user_is_cut_off_at_once(team, tmp_path, monkeypatch):
    cli, urls = team["cli"], team["urls"]
    with _connect(team["local_url"]) as conn:
        stored = conn.execute("SELECT a.rolpassword, a.rolcanlogin, p.verifier FROM pg_authid a JOIN catalog_passwords p "
                              "ON p.role_name = a.rolname WHERE a.rolname = %s", (role_for(BEN[0]),)).fetchone()
    assert stored["verifier"].startswith("SCRAM-SHA-256$4096:") and BEN[1] not in stored["verifier"]
    assert stored["rolpassword"] is None and not stored["rolcanlogin"]  # his role itself cannot log in
    wrong = cli("list", url=re.sub(r":[^:@/]+@", ":not-the-token@", urls["ben"]))
    assert wrong.returncode == 2 and "password authentication failed" in wrong.stderr
    assert "not-the-token" not in wrong.stderr
    started = cli("db", "start", url=urls["ben"])  # prints the URL it uses, without the password
    token = re.search(r":([^:@/]+)@", urls["ben"]).group(1)
    assert started.returncode == 0 and "127.0.0.1" in started.stdout and token not in started.stdout + started.stderr
    open_connection = _connect(urls["ben"])
    assert open_connection.execute("SELECT 1 AS one").fetchone()["one"] == 1
    from catalog_resources.auth import session as sessions

    extra = _session_env(team, tmp_path, 900)
    for key, value in extra.items():
        monkeypatch.setenv(key, value)
    port = team["port"]
    assert cli("auth", "login", "--email", BEN[0], "--server", f"127.0.0.1:{port}", "--password-stdin",
               stdin=BEN[1] + "\n", env=extra).returncode == 0
    logged_in = sessions.load()
    disabled = cli("admin", "users", "disable", BEN[0], url=urls["anna"])
    assert disabled.returncode == 0, disabled.stderr
    with pytest.raises(psycopg.OperationalError):
        open_connection.execute("SELECT 1")
    with pytest.raises(sessions.SessionError):  # the session ended with the user
        sessions.renew(logged_in)
    assert cli("list", env=extra).returncode == 2
    again = cli("list", url=urls["ben"])
    assert again.returncode == 2 and "not permitted to log in" in again.stderr
    assert {c["clip_id"] for c in json.loads(cli("list", "--json", url=urls["anna"]).stdout)} >= {"ben-mountain"}
