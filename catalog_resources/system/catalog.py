"""The catalog database and the clips' pipeline state, checked without starting the embedded server or migrating:
a status that started a stopped server would never report it stopped."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from catalog_resources.settings import CatalogSettings
from catalog_resources.system.checks import Check

DB_FIX = "start it with `video-catalog db start` (or check VIDEO_CATALOG_DATABASE_URL)"


def hide_password(url: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def open_catalog(settings: CatalogSettings) -> tuple[Check, Any]:
    """(the database check, a CatalogDB when it can be queried, else None)."""
    from catalog_resources.store.catalog import CatalogDB
    from catalog_resources.store.connection import DatabaseUnavailable
    from catalog_resources.store.endpoint import embedded_server, resolve_database
    from catalog_resources.store.migrations import available_migrations

    endpoint = resolve_database(settings, start=False)
    data: dict[str, Any] = {"embedded": endpoint.embedded, "url": hide_password(endpoint.catalog_url)}
    if endpoint.embedded:
        running = embedded_server(settings).info()
        data["pid"] = running.pid if running else None
        if running is None:
            return Check(name="database", level="problem", detail="the embedded database is not running", data=data,
                         fix="start it with `video-catalog db start` (any catalog command also starts it)"), None
    db = CatalogDB(endpoint.catalog_url)
    try:
        data.update(db.server_status())
        applied = {m.version for m in db.applied_migrations()}
    except DatabaseUnavailable as exc:
        return Check(name="database", level="problem", detail=str(exc).split(";")[0], fix=DB_FIX, data=data), None
    pending = [m.name for m, _ in available_migrations() if m.version not in applied]
    data["pending_migrations"] = pending
    detail = (f"PostgreSQL {data.get('server_version')}, pgvector {data.get('pgvector_version') or 'not installed'}, "
              f"{data.get('database_bytes', 0) / (1 << 20):.1f} MB")
    if pending:
        return Check(name="database", level="warning", detail=f"{detail}; {len(pending)} migrations pending", data=data,
                     fix="apply them with `video-catalog db migrate`"), (db if applied else None)
    return Check(name="database", detail=detail, data=data), db


def pipeline_counts(db) -> dict[str, int]:
    """Clips by pipeline state (complete, in progress, failed, incomplete, stale, metadata-only)."""
    return dict(Counter(state.state for state in db.clip_states().values()))


def pipeline_check(counts: dict[str, int]) -> Check:
    total = sum(counts.values())
    detail = f"{total} clips" + (": " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) if counts else "")
    failed = counts.get("failed", 0)
    if failed:
        return Check(name="clips", level="warning", detail=detail, data={"by_state": counts, "total": total},
                     fix="`video-catalog list` shows each reason; fix it and re-run the same ingest")
    return Check(name="clips", detail=detail, data={"by_state": counts, "total": total})


def config_check(settings: CatalogSettings) -> Check:
    from catalog_resources.config_file import unknown_keys

    path = settings.config_file
    if not path.is_file():
        return Check(name="config", detail=f"no {path.name} (environment and defaults)", data={"file": str(path)})
    unknown = unknown_keys(path)
    if unknown:
        return Check(name="config", level="warning", detail=f"{path}: unknown keys {', '.join(unknown)} are ignored",
                     fix=f"remove them: video-catalog config unset {unknown[0]}", data={"file": str(path)})
    return Check(name="config", detail=str(path), data={"file": str(path)})


def watch_check(settings: CatalogSettings) -> Check:
    folders = settings.watch_folders
    missing = [str(f) for f in folders if not f.is_dir()]
    data = {"folders": [str(f) for f in folders]}
    if missing:
        return Check(name="watch", level="problem", detail=f"watched folders missing: {', '.join(missing)}", data=data,
                     fix="mount them, or change `video-catalog config set watch FOLDER:FOLDER`")
    return Check(name="watch", detail=", ".join(map(str, folders)) or "no folders watched", data=data)
