"""The filter options of `list` and `search`, made once from the filter registry (catalog_resources/search/
filters.py): the same names, help and checks in both commands, and the same as the query's `key:value` forms.

A command takes them by declaring a `filters: FilterFlags` parameter and `@filter_options`: the decorator puts one
typer option per registered filter in that parameter's place (so `--help` lists them there) and hands the command
the values gathered in a FilterFlags, which checks them into a ClipFilter when the command asks.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Annotated, Any

import typer

from catalog_cli.common import fail
from catalog_resources.models.clips import ClipFilter
from catalog_resources.search.filters import OPTIONS, Filter, FilterError, build_filter


@dataclass(frozen=True)
class FilterFlags:
    """The filter options as given ({field: value}, None when not given)."""

    values: Mapping[str, Any] = field(default_factory=dict)

    def clip_filter(self, inline: Mapping[str, Any] | None = None) -> ClipFilter:
        """The flags checked into one ClipFilter, with `inline` filters (from the query) where no flag was given:
        a flag wins. A bad value ends the command with the filter's one-line error."""
        given = {name: value for name, value in self.values.items() if value is not None}
        try:
            return build_filter({**(inline or {}), **given})
        except FilterError as exc:
            fail(str(exc))
            raise


def _parameter(f: Filter) -> inspect.Parameter:
    option = typer.Option(f.option, help=f.help)
    return inspect.Parameter(f.field, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                             annotation=Annotated[f.kind.python_type | None, option])


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The command with one option per registered filter in place of its `filters` parameter."""
    signature = inspect.signature(command, eval_str=True)
    if "filters" not in signature.parameters:
        raise TypeError(f"{command.__name__} has no `filters: FilterFlags` parameter to put the filter options in")
    parameters = [p for name, param in signature.parameters.items()
                  for p in ([_parameter(f) for f in OPTIONS] if name == "filters" else [param])]

    @wraps(command)
    def with_filters(*args: Any, **kwargs: Any) -> Any:
        flags = FilterFlags({f.field: kwargs.pop(f.field, None) for f in OPTIONS})
        return command(*args, filters=flags, **kwargs)

    with_filters.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    with_filters.__annotations__ = {p.name: p.annotation for p in parameters}
    return with_filters
