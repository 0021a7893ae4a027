"""Pipeline steps (the spec's list_steps / --enable / --disable / --config), read from the asset definitions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, ValidationError

from catalog_assets.graph import ASSETS
from catalog_resources.errors import UsageError
from catalog_resources.settings import load_settings

ENABLED_KEY = "video_catalog/default_enabled"
REQUIRED_KEY = "video_catalog/required"


class StepSelectionError(UsageError):
    """An unknown step name, a required step disabled, or an unreadable config file."""


class Step(BaseModel):
    name: str
    description: str
    default_enabled: bool
    required: bool
    group: str


def pipeline_steps() -> list[Step]:
    steps = []
    for assets_def in ASSETS:
        for spec in assets_def.specs:
            meta = spec.metadata or {}
            steps.append(
                Step(
                    name=spec.key.to_user_string(),
                    description=" ".join((spec.description or "").split()),
                    default_enabled=bool(meta.get(ENABLED_KEY, True)),
                    required=bool(meta.get(REQUIRED_KEY, False)),
                    group=spec.group_name or "default",
                )
            )
    return steps


class PipelineConfig(BaseModel):
    """The --config file: {"steps": {"name": true|false, ...}}, or {"enable": [...], "disable": [...]}."""

    model_config = ConfigDict(extra="forbid")

    steps: dict[str, StrictBool] = {}
    enable: list[StrictStr] = []
    disable: list[StrictStr] = []


CONFIG_EXAMPLE = '{"steps": {"ai_analysis": false}} or {"enable": [...], "disable": [...]}'


def _config_problem(exc: ValidationError) -> str:
    """The first thing wrong with a config, in the file's own terms (`steps.proxy: "maybe" is not true or false`)."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    value = json.dumps(first.get("input"), default=str)
    value = value if len(value) <= 60 else value[:59] + "…"
    if not where:
        return f"the file holds {value}, not an object"
    if first["type"] == "extra_forbidden":
        return f"unknown key {where!r} (the keys are steps, enable, disable)"
    if first["type"] == "bool_type":
        return f"{where}: {value} is not true or false"
    if first["type"] == "dict_type":
        return f"{where}: {value} is not an object of step names"
    if first["type"] == "list_type":
        return f"{where}: {value} is not a list of step names"
    if first["type"] == "string_type":
        return f"{where}: {value} is not a step name"
    return f"{where}: {first['msg']}"


def _read_config(path: Path) -> dict[str, bool]:
    """The step overrides a config file asks for; anything unreadable or malformed is one StepSelectionError line."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StepSelectionError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise StepSelectionError(f"{path}: is a folder; give the config's JSON file") from None
    except PermissionError:
        raise StepSelectionError(f"{path}: permission denied reading the config file") from None
    except UnicodeDecodeError:
        raise StepSelectionError(f"{path}: not a UTF-8 text file; expected JSON like {CONFIG_EXAMPLE}") from None
    except json.JSONDecodeError as exc:
        raise StepSelectionError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    try:
        config = PipelineConfig.model_validate(data)
    except ValidationError as exc:
        raise StepSelectionError(f"{path}: {_config_problem(exc)}; expected {CONFIG_EXAMPLE}") from None
    chosen: dict[str, bool] = dict(config.steps)
    chosen.update({name: True for name in config.enable})
    chosen.update({name: False for name in config.disable})
    return chosen


def select_steps(
    enable: Sequence[str] = (), disable: Sequence[str] = (), config: Path | None = None
) -> list[str]:
    """Enabled step names in graph order: defaults, then the config file, then --enable/--disable."""
    steps = pipeline_steps()
    by_name = {s.name: s for s in steps}
    chosen = {s.name: s.default_enabled for s in steps}
    if "faces" in chosen and not load_settings().faces:  # VIDEO_CATALOG_FACES=0: face data is personal data
        chosen["faces"] = False
    if "speakers" in chosen and not load_settings().speakers:  # VIDEO_CATALOG_SPEAKERS=0: so is voice data
        chosen["speakers"] = False
    overrides = _read_config(config) if config else {}
    overrides.update({name: True for name in enable})
    overrides.update({name: False for name in disable})
    for name, on in overrides.items():
        if name not in by_name:
            raise StepSelectionError(f"unknown step {name!r}; known steps: {', '.join(by_name)}")
        if not on and by_name[name].required:
            raise StepSelectionError(f"step {name!r} is required and cannot be disabled")
        chosen[name] = on
    selected = [s.name for s in steps if chosen[s.name]]
    for assets_def in ASSETS:
        name = assets_def.key.to_user_string()
        if name not in selected:
            continue
        for input_name, upstream in assets_def.keys_by_input_name.items():
            if assets_def.op.input_def_named(input_name).dagster_type.is_nothing:
                continue  # a `deps` edge: ordering only, nothing is loaded
            needed = upstream.to_user_string()
            if needed in chosen and not chosen[needed]:
                raise StepSelectionError(
                    f"step {name!r} reads {needed!r}, which is disabled: enable {needed} or disable {name} too"
                )
    return selected
