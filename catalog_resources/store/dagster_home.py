"""The Dagster instance's home: dagster.yaml in place and the storage URL in the environment.

Every process that touches the instance (CLI, webserver, daemon, tests) goes through here, so they
all share one Postgres-backed instance.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

from catalog_resources.files import write_atomic
from catalog_resources.store.endpoint import DatabaseEndpoint
from catalog_resources.settings import CatalogSettings, open_private_home

DAGSTER_URL_ENV = "VIDEO_CATALOG_DAGSTER_PG_URL"
# Shipped in the package (catalog_resources/dagster.yaml links to the top-level file; the wheel holds a copy).
INSTANCE_TEMPLATE = resources.files("catalog_resources") / "dagster.yaml"
_exported: dict[str, str] = {}  # what this process exported, so it is not mistaken for the user's choice


def instance_yaml(settings: CatalogSettings) -> str:
    """dagster.yaml as shipped; with the celery executor the daemon may run `celery_runs` batch runs at once (their
    steps run on the workers, so this machine's two cores no longer bound them)."""
    template = INSTANCE_TEMPLATE.read_text()
    if settings.executor == "celery":
        template = re.sub(r"max_concurrent_runs: \d+", f"max_concurrent_runs: {settings.celery_runs}", template, count=1)
    return template


def prepare_dagster_home(settings: CatalogSettings, endpoint: DatabaseEndpoint) -> Path:
    """Point DAGSTER_HOME at the catalog's instance and export the storage URL dagster.yaml reads.

    A user-provided DAGSTER_HOME with its own dagster.yaml is left as it is.
    """
    open_private_home(settings.home)  # Dagster's storage folders and logs come out 0700/0600 too
    user_home = os.environ.get("DAGSTER_HOME")
    if user_home and user_home == _exported.get("DAGSTER_HOME"):
        user_home = None
    home = Path(user_home) if user_home else settings.dagster_home
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = home / "dagster.yaml"
    if not user_home or not target.exists():
        template = instance_yaml(settings)
        if not target.exists() or target.read_text() != template:
            write_atomic(target, template)  # 0600: open_private_home set the umask to 077 above
    os.environ["DAGSTER_HOME"] = _exported["DAGSTER_HOME"] = str(home)
    os.environ[DAGSTER_URL_ENV] = endpoint.dagster_url
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    return home

