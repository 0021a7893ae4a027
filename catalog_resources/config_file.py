"""The home's `config.toml`: what `video-catalog config` shows, sets, unsets, backs up and restores.

The settings model (catalog_resources/settings.py) reads the file as one of its sources, below the environment;
this module only edits it. Every value is validated by the settings model's own field (type and bounds) before
the file is touched, and every write is atomic (files.write_atomic), so a crash or a bad value never leaves a
file that stops every command. Edits keep the file's comments: a key's line is replaced in place (or its
commented template line from `config init` is filled in), and only a new key is appended.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from catalog_resources.errors import UsageError
from catalog_resources.files import write_atomic as _write_atomic
from catalog_resources.settings import NOT_IN_FILE, CatalogSettings, ConfigFileError

ENV_PREFIX = "VIDEO_CATALOG_"
Source = Literal["env", "file", "default"]


class SettingValue(BaseModel):
    """One setting as `config show` reports it: its value now and where that value came from."""

    key: str
    env_var: str
    value: Any
    source: Source
    default: Any
    file_value: Any = None  # what the file says, when the environment overrides it
    description: str = ""
    accepts: str = ""


def write_atomic(path: Path, data: str | bytes) -> None:
    """Atomically, and private to the owner (0600): the file may hold API keys or a database password."""
    old = os.umask(0o077)
    try:
        _write_atomic(path, data)
    finally:
        os.umask(old)


def fields() -> dict[str, FieldInfo]:
    return dict(CatalogSettings.model_fields)


def normalize_key(key: str) -> str:
    """`thumbnail_count`, `thumbnail-count` or `VIDEO_CATALOG_THUMBNAIL_COUNT` -> `thumbnail_count`, or a
    UsageError naming the closest known keys."""
    name = key.strip().lower().replace("-", "_")
    if name.startswith(ENV_PREFIX.lower()):
        name = name[len(ENV_PREFIX):]
    if name in fields():
        return name
    close = difflib.get_close_matches(name, list(fields()), n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise UsageError(f"unknown setting {key!r}; {hint}`video-catalog config show` lists them all")


def _is_secret(key: str) -> bool:
    return key.endswith("api_key")


def mask(key: str, value: Any) -> Any:
    """API keys hidden and a URL's password starred, so `config show` can be pasted into a bug report."""
    if value is None or value == "":
        return value
    if _is_secret(key):
        return "***"
    if isinstance(value, str) and "://" in value:
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", value)
    return value


def accepts(key: str) -> str:
    """What a key accepts, in words: `a whole number from 1 to 200`, `one of jpeg, webp`..."""
    info = fields()[key]
    annotation, optional = info.annotation, False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional, annotation = len(args) < len(typing.get_args(annotation)), args[0]
    if typing.get_origin(annotation) is Literal:
        text = "one of " + ", ".join(str(a) for a in typing.get_args(annotation))
    else:
        text = {bool: "true or false", int: "a whole number", float: "a number", Path: "a path",
                str: "text"}.get(annotation, getattr(annotation, "__name__", str(annotation)))
    bounds = []
    for meta in info.metadata:
        for attr, word in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if getattr(meta, attr, None) is not None:  # pydantic's Ge/Le/... constraint objects (annotated-types)
                bounds.append(f"{word} {getattr(meta, attr)}")
    if bounds:
        text += " " + " and ".join(bounds)
    if optional:
        text += f" (`config unset {key}` for the default)"
    return text


def validate_value(key: str, text: Any) -> Any:
    """The value as the file should hold it (bool, int, float or str), or a UsageError naming the key and what it
    accepts. Validated with the settings field's own type and bounds."""
    info = fields()[key]
    adapter = TypeAdapter(typing.Annotated[info.annotation, *info.metadata]) if info.metadata else TypeAdapter(info.annotation)
    try:
        value = adapter.validate_python(text)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        raise UsageError(f"{key}: {text!r} is not accepted ({reason}); it accepts {accepts(key)}") from None
    if value is None:
        raise UsageError(f"{key}: no value given; use `video-catalog config unset {key}` for the default")
    if isinstance(value, Path):
        return str(text)  # as typed: a `~` stays a `~`, expanded when read
    return value


def toml_value(value: Any) -> str:
    """One TOML value: a bool, an integer, a float or a basic string (JSON's escapes are TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


def read_file(path: Path) -> dict[str, Any]:
    """The file's keys and values ({} when there is no file), or ConfigFileError naming the fix."""
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path} is not valid TOML ({exc}); fix it, or restore a backup with "
                              "`video-catalog config restore FILE`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"cannot read {path} ({getattr(exc, 'strerror', None) or exc}); make it readable") from None


def _env() -> dict[str, str]:
    return {k.lower(): v for k, v in os.environ.items()}


def show(settings: CatalogSettings) -> list[SettingValue]:
    """Every setting with its value now (secrets masked) and its source: env, file or default."""
    in_file = read_file(settings.config_file)
    env = _env()
    current = settings.model_dump(mode="json")
    rows = []
    for key, info in fields().items():
        env_var = ENV_PREFIX + key.upper()
        source: Source = "env" if env_var.lower() in env else "file" if key in in_file and key not in NOT_IN_FILE else "default"
        default = info.get_default(call_default_factory=True)
        rows.append(SettingValue(
            key=key, env_var=env_var, value=mask(key, current[key]), source=source,
            default=mask(key, str(default) if isinstance(default, Path) else default),
            file_value=mask(key, in_file[key]) if source == "env" and key in in_file else None,
            description=info.description or "", accepts=accepts(key)))
    return rows


def unknown_keys(path: Path) -> list[str]:
    """Keys in the file the settings do not know (ignored when loading: a typo does nothing, silently)."""
    return sorted(k for k in read_file(path) if k not in fields() or k in NOT_IN_FILE)


_LINE = r"^[ \t]*{comment}[ \t]*{key}[ \t]*=.*$"


def _edit(text: str, key: str, line: str | None) -> str:
    """The file with `key`'s line replaced by `line` (None: removed). A live line first, else the commented
    template line, else appended."""
    for comment in ("", "#"):
        pattern = re.compile(_LINE.format(comment=comment, key=re.escape(key)), re.MULTILINE)
        match = pattern.search(text)
        if match and (line is not None or comment == ""):
            replacement = line if line is not None else f"# {key} = (unset)"
            return text[:match.start()] + replacement + text[match.end():]
    if line is None:
        return text
    return text + ("" if text.endswith("\n") or not text else "\n") + line + "\n"


def _write_checked(path: Path, text: str, expect: dict[str, Any]) -> None:
    """Write `text` only if it parses to exactly `expect` (a hand-made multi-line value could defeat the line
    edit): otherwise the file is rewritten from `expect`, without its comments."""
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        parsed = None
    if parsed != expect:
        text = "".join(f"{k} = {toml_value(v)}\n" for k, v in expect.items())
    write_atomic(path, text)


def _key_for_file(key: str) -> str:
    name = normalize_key(key)
    if name in NOT_IN_FILE:
        raise UsageError(f"{name} cannot be set in config.toml (the file lives in the home); "
                         f"set {ENV_PREFIX}{name.upper()} in the environment instead")
    return name


def set_value(path: Path, key: str, text: str) -> tuple[str, Any]:
    """Validate and write one key; returns (key, value written)."""
    name = _key_for_file(key)
    value = validate_value(name, text)
    data = read_file(path)
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    data[name] = value
    _write_checked(path, _edit(current, name, f"{name} = {toml_value(value)}"), data)
    return name, value


def unset_value(path: Path, key: str) -> tuple[str, bool]:
    """Remove one key from the file (back to its default, or the environment's value); (key, was it there)."""
    name = normalize_key(key)
    data = read_file(path)
    if name not in data:
        return name, False
    del data[name]
    _write_checked(path, _edit(path.read_text(encoding="utf-8"), name, None), data)
    return name, True


def template() -> str:
    """A config.toml listing every setting the file may hold, commented out at its default."""
    lines = ["# video-catalog settings for this catalog home. Environment variables (VIDEO_CATALOG_*) win over",
             "# this file; `video-catalog config set KEY VALUE` edits it; `video-catalog config show` says where",
             "# each value comes from.", ""]
    for key, info in fields().items():
        if key in NOT_IN_FILE:
            continue
        default = info.get_default(call_default_factory=True)
        if info.description:
            lines.append(f"# {info.description}")
        lines.append(f"# accepts {accepts(key)}")
        lines.append(f"# {key} = {toml_value(default) if default is not None else '(unset)'}")
        lines.append("")
    return "\n".join(lines)


def init_file(path: Path, *, force: bool = False) -> None:
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; edit it with `video-catalog config set`, or --force to replace it "
                         "(`video-catalog config backup FILE` first keeps a copy)")
    write_atomic(path, template())


def check_file(path: Path) -> dict[str, Any]:
    """A config file's keys, each validated; UsageError on the first unknown key or bad value."""
    data = read_file(path)
    for key, value in data.items():
        name = _key_for_file(key)
        if name != key:
            raise UsageError(f"{path}: key {key!r} should be written {name!r}")
        validate_value(name, value)
    return data


def backup(path: Path, dest: Path) -> int:
    """Copy the home's file to `dest` (atomically); the bytes copied."""
    if not path.is_file():
        raise UsageError(f"there is no {path} to back up; `video-catalog config init` or `config set` makes one")
    data = path.read_bytes()
    write_atomic(dest, data)
    return len(data)


def restore(source: Path, path: Path) -> dict[str, Any]:
    """Validate `source` as a config file, then copy it over the home's file (atomically)."""
    if not source.is_file():
        raise UsageError(f"{source}: no such file to restore from")
    try:
        data = check_file(source)
    except ConfigFileError as exc:
        raise UsageError(str(exc).split("; fix it")[0] + "; nothing was restored") from None
    except UsageError as exc:
        raise UsageError(f"{source}: {exc}; nothing was restored") from None
    write_atomic(path, source.read_bytes())
    return data
