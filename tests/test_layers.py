"""The import rule, checked: models <- catalog_resources <- catalog_assets / catalog_sensors <- definitions <- CLI.

Read from the source (the AST of every module), so a new import that breaks the rule fails here whether or not
a test happens to run the code; and measured in a real process for what a read-only command loads.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# package -> top-level modules it must never import
FORBIDDEN = {
    "catalog_resources": {"catalog_assets", "catalog_sensors", "catalog_cli", "typer", "rich"},
    "catalog_sensors": {"catalog_assets", "catalog_cli", "typer", "rich"},
    "catalog_assets": {"catalog_cli", "typer", "rich"},
}


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every absolute import in a file, wherever it is (lazy imports inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_module_imports_upward(package):
    broken = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, module in imports_of(path)
        if module.split(".")[0] in FORBIDDEN[package]
    ]
    assert broken == []


def test_the_rule_catches_an_upward_import(tmp_path):
    """The checker itself: a lazy import of the CLI inside a function is found."""
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from catalog_cli.main import app\n    import rich.console\n")
    assert [m for _, m in imports_of(module)] == ["catalog_cli.main", "rich.console"]


HEAVY = ("torch", "onnxruntime", "dagster_webserver", "dagster", "faster_whisper", "transformers")


def loaded_by(*argv: str) -> set[str]:
    """Top-level packages a real `video-catalog` process has imported when it exits."""
    probe = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr))\n"
        f"sys.argv = ['video-catalog', *{list(argv)!r}]\n"
        "from catalog_cli.main import main\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


def test_read_only_commands_load_no_dagster_and_no_model_runtime(catalog_env):
    for argv in (["list", "--json"], ["steps", "--help"], ["db", "status", "--json"], ["prompt", "path"], ["prompt", "show"]):
        heavy = loaded_by(*argv) & set(HEAVY)
        assert heavy == set(), f"`video-catalog {' '.join(argv)}` imported {sorted(heavy)}"


# Inside catalog_resources: one concern per package, and Dagster only in resources/ (the thin ConfigurableResource
# classes). Everything else is plain Python a script, the CLI or a test can use without a Dagster instance.
SUBPACKAGES = tuple(sorted(p.parent.name for p in (ROOT / "catalog_resources").glob("*/__init__.py")))
# subpackage -> catalog_resources subpackages it must never import
INNER_FORBIDDEN = {
    "models": set(SUBPACKAGES) - {"models"},
    **{name: {"resources"} for name in SUBPACKAGES if name not in ("models", "resources")},
}
DAGSTER_FREE = [p for p in (ROOT / "catalog_resources").rglob("*.py") if "resources" not in p.relative_to(ROOT).parts[1:-1]]


def _inner(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "catalog_resources" and len(parts) > 1 else None


@pytest.mark.parametrize("subpackage", sorted(INNER_FORBIDDEN))
def test_catalog_resources_packages_import_only_downward(subpackage):
    assert {"models", "store", "resources"} <= set(SUBPACKAGES)  # every package is found, new ones too
    broken = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / "catalog_resources" / subpackage).rglob("*.py"))
        for line, module in imports_of(path)
        if _inner(module) in INNER_FORBIDDEN[subpackage]
    ]
    assert broken == []


def test_only_the_resource_classes_import_dagster():
    broken = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted(DAGSTER_FREE)
        for line, module in imports_of(path)
        if module.split(".")[0] == "dagster"
    ]
    assert DAGSTER_FREE and broken == []


LONG_REASON = "Over 400 lines because"


def test_no_module_is_long_without_a_reason_at_its_top():
    """A module over ~400 lines says why in its docstring, or it is split by concern."""
    long = [
        f"{path.relative_to(ROOT)} ({count} lines)"
        for package in FORBIDDEN.keys() | {"catalog_cli"}
        for path in sorted((ROOT / package).rglob("*.py"))
        if (count := len(path.read_text().splitlines())) > 420
        and LONG_REASON not in (ast.get_docstring(ast.parse(path.read_text())) or "")
    ]
    assert long == []
