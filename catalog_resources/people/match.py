"""How a person is named in a filter or a command: a number (`3`, `P3`) or a part of a name, case aside.

One definition for `search --person`, `person:anna`, `list --person` (search/filters.py) and the people store.
"""

from __future__ import annotations

from typing import Any


def person_condition(person: str, alias: str = "p", key: str = "person") -> tuple[str, dict[str, Any]]:
    """SQL over people `alias` for a --person (or --speaker) value: a number (`3`, `P3`) or a part of a name, case
    aside. Its parameters are named after `key`, so a person and a speaker filter can be AND-ed."""
    text = person.strip()
    number = text[1:] if text[:1] in "pP" and text[1:].isdigit() else text
    if number.isdigit():
        return f"{alias}.person_id = %({key}_id)s", {f"{key}_id": int(number)}
    return f"{alias}.name ILIKE %({key}_name)s", {f"{key}_name": f"%{text}%"}
