"""Machine-readable output (`--json`, `--export json|csv`, `-o FILE`) with stable keys scripts can rely on."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from catalog_cli.errors import write_output
from catalog_cli.render import err
from catalog_cli.render.text import literal, visible

LIST_KEYS = ("clip_id", "path", "file_name", "duration_seconds", "size_bytes", "md5", "container", "video_codec",
             "width", "height", "frame_rate", "has_audio", "hdr_format", "camera", "quality_score", "exposure_warning",
             "shot_type", "status", "paths")
EXPORT_KEYS = ("clip_id", "path", "score", "start_seconds", "end_seconds", "snippet", "file_name", "matched_by",
               "thumbnail_path", "duration_seconds", "video_codec", "width", "height", "frame_rate", "shot_type",
               "quality_score", "strength", "similarity", "matched_words", "why", "reasons")


def _cell(value: str | list) -> str:
    """A CSV cell: a list of words joined by ";", a list of objects (search reasons) as JSON."""
    if isinstance(value, str):
        return value
    if all(isinstance(v, str) for v in value):
        return ";".join(value)
    return json.dumps(value, default=str, ensure_ascii=False)


def export_rows(rows: list[dict[str, Any]], fmt: str, output: Path | None, keys: tuple[str, ...]) -> None:
    """JSON (an array of objects with stable keys) or CSV (with a header) to stdout or a file."""
    import csv
    import io

    if fmt == "json":
        text = json.dumps([{k: row.get(k) for k in keys} for row in rows], indent=2, default=str) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(keys), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        shown = visible if output is None and sys.stdout.isatty() else str  # a person reads it: no raw escapes
        for row in rows:
            writer.writerow({k: shown(_cell(v)) if isinstance(v, (str, list)) else v for k, v in row.items()})
        text = buffer.getvalue()
    if output is None:
        sys.stdout.write(text)
    else:
        write_output(output, text)
        err.print(f"wrote {len(rows)} rows to {literal(output)}", highlight=False)
