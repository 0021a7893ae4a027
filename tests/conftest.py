"""Real services for the tests: one embedded PostgreSQL (pgvector) per session, a fresh catalog database
and a fresh Dagster storage database per test (cloned from migrated templates), media made by ffmpeg."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
from pathlib import Path

import psycopg
import pytest

from catalog_resources.store.embedded_server import EmbeddedPostgres
from catalog_resources.media.samples import ClipSpec, make_clip
from catalog_resources.settings import CatalogSettings
from tests.media import make_library

RUNTIME_ROOT = Path("/var/lib/video-catalog") if os.geteuid() == 0 else None
_counter = itertools.count()
# A login to a shared catalog on this machine (~/.video_ingest_auth.json) would send every command there: the tests
# use a file of their own, which only tests/test_team.py writes.
os.environ["VIDEO_CATALOG_AUTH_FILE"] = str(Path(os.environ.get("TMPDIR", "/tmp")) / f"video-catalog-test-auth-{os.getpid()}.json")


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory) -> EmbeddedPostgres:
    home = tmp_path_factory.mktemp("pg-session")
    server = EmbeddedPostgres(home / "pg", RUNTIME_ROOT or home / "runtime")
    server.ensure_running()
    yield server
    server.remove()


@pytest.fixture(scope="session")
def templates(pg_server, tmp_path_factory) -> tuple[str, str]:
    """Migrated catalog and initialised Dagster storage, made once, cloned per test."""
    from dagster import DagsterInstance

    from catalog_resources.resources.catalog import CatalogResource
    from catalog_resources.store.dagster_home import prepare_dagster_home
    from catalog_resources.store.endpoint import resolve_database

    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
        for name in ("tpl_catalog", "tpl_dagster"):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    CatalogResource(database_url=pg_server.url("tpl_catalog")).migrate()
    home = tmp_path_factory.mktemp("tpl-home")
    settings = CatalogSettings(
        home=home, database_url=pg_server.url("tpl_catalog"), dagster_database_url=pg_server.url("tpl_dagster")
    )
    saved = {k: os.environ.get(k) for k in ("DAGSTER_HOME", "VIDEO_CATALOG_DAGSTER_PG_URL")}
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    prepare_dagster_home(settings, resolve_database(settings))
    with DagsterInstance.get() as instance:
        instance.get_runs(limit=1)  # creates and stamps Dagster's schema
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    return "tpl_catalog", "tpl_dagster"


def _fresh_database(server: EmbeddedPostgres, name: str, template: str) -> None:
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


@contextlib.contextmanager
def _catalog_env(server: EmbeddedPostgres, templates: tuple[str, str], home: Path):
    """A fresh catalog home with its own catalog and Dagster databases, exported to the environment
    so the CLI in a subprocess and the code in this process see the same catalog."""
    n = next(_counter)
    catalog_db, dagster_db = f"t{os.getpid()}_{n}", f"t{os.getpid()}_{n}_dagster"
    _fresh_database(server, catalog_db, templates[0])
    _fresh_database(server, dagster_db, templates[1])
    env = {
        "VIDEO_CATALOG_HOME": str(home),
        "VIDEO_CATALOG_DATABASE_URL": server.url(catalog_db),
        "VIDEO_CATALOG_DAGSTER_DATABASE_URL": server.url(dagster_db),
        "DAGSTER_HOME": str(home / "dagster"),
        "VIDEO_CATALOG_DAGSTER_PG_URL": "",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        yield CatalogSettings()
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        for name in (catalog_db, dagster_db):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def catalog_env(pg_server, templates, tmp_path) -> CatalogSettings:
    with _catalog_env(pg_server, templates, tmp_path / "catalog home") as settings:
        yield settings


@pytest.fixture(scope="module")
def module_catalog_env(pg_server, templates, tmp_path_factory) -> CatalogSettings:
    """One catalog shared by a module's tests that only read what an ingest made."""
    with _catalog_env(pg_server, templates, tmp_path_factory.mktemp("module") / "catalog home") as settings:
        yield settings


@pytest.fixture(scope="session")
def media_library(tmp_path_factory) -> dict[str, Path]:
    """Clips of known properties (read-only: copy before changing)."""
    return make_library(tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="session")
def faststart_clip(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("faststart")
    return make_clip(
        folder / "faststart.mp4",
        ClipSpec(name="faststart.mp4", width=640, height=360, seconds=2, extra=["-movflags", "+faststart"]),
    )


@pytest.fixture(scope="session")
def tech_library(tmp_path_factory):
    """Fixtures with known technical properties (tests/tech_media.py), made once per session."""
    from tests.tech_media import make_tech_fixtures

    return make_tech_fixtures(tmp_path_factory.mktemp("tech"))


@pytest.fixture(scope="session")
def hostile_corpus(tmp_path_factory):
    """Broken, lying and oddly named media, special files and bad links, each with the outcome an ingest must
    report (tests/hostile_media.py), made once per session. Read-only."""
    from tests.hostile_media import make_hostile_corpus

    return make_hostile_corpus(tmp_path_factory.mktemp("hostile"))


@pytest.fixture
def footage(tmp_path, media_library) -> Path:
    """A writable copy of the library in a folder of this test's own."""
    folder = tmp_path / "footage"
    folder.mkdir()
    for name, path in media_library.items():
        shutil.copy2(path, folder / name)
    return folder


@pytest.fixture(scope="session")
def web_catalog(pg_server, templates, tmp_path_factory, media_library) -> dict:
    """One small ingested catalog shared by tests/test_web.py and tests/test_web_browser.py (tests/web_media.py),
    made once per session. Its environment is handed to subprocesses, never exported to this process."""
    from tests.web_media import build_web_catalog, catalog_environment

    root = tmp_path_factory.mktemp("web")
    n = next(_counter)
    catalog_db, dagster_db = f"t{os.getpid()}_{n}_web", f"t{os.getpid()}_{n}_web_dagster"
    _fresh_database(pg_server, catalog_db, templates[0])
    _fresh_database(pg_server, dagster_db, templates[1])
    env = catalog_environment(root / "catalog home", pg_server.url(catalog_db), pg_server.url(dagster_db))
    clips = build_web_catalog(root, env, media_library)
    yield {"env": env, "clips": clips, "database_url": env["VIDEO_CATALOG_DATABASE_URL"],
           "media_dir": root / "catalog home" / "media"}
    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
        for name in (catalog_db, dagster_db):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
