"""One way for assets to put structured values on a materialization.

Dagster's JSON metadata takes only what `json.dumps` takes; a recording date (datetime), a path or a
pydantic model in it failed the whole step (`DagsterInvalidMetadata`), so every dated camera file
failed catalog_record. Everything structured goes through here.
"""

from __future__ import annotations

from typing import Any

from dagster import MetadataValue
from pydantic_core import to_jsonable_python


def json_metadata(value: Any) -> MetadataValue:
    """JSON metadata from models, datetimes, paths, tuples: anything pydantic can serialize."""
    return MetadataValue.json(to_jsonable_python(value, fallback=str))
