"""The clip filters, each declared once: its ClipFilter field, how its value is written and checked, the SQL it
adds, its command-line option and help, and the `key:value` forms it takes inside a search query.

`list`, `search`, the inline query syntax and any other front end (a web form) read this registry, so a filter
cannot mean one thing in one place and another elsewhere, and a new filter is one entry here plus its field on
ClipFilter. The SQL reads clip_facts x (sql/004: one narrow row per clip, kept current by triggers).

Modelled on beets' dbcore/query.py (a query object per field kind) and datasette's filters.py (one table of
filters that both builds the SQL and describes itself to the UI). Plain Python: no Dagster, no typer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from catalog_resources.errors import UsageError
from catalog_resources.models.clips import RESOLUTIONS, SHOT_TYPES, ClipFilter
from catalog_resources.people.match import person_condition

Clause = tuple[list[str], dict[str, Any]]  # SQL conditions (AND-ed) and their named parameters


class BadValue(ValueError):
    """A value a filter's kind cannot read. Front ends word it: `takes` for the query syntax, `expect` for an option."""

    def __init__(self, takes: str, expect: str) -> None:
        super().__init__(expect)
        self.takes, self.expect = takes, expect


class FilterError(UsageError):
    """A filter given a value it cannot take. The message is the one line a user reads: the filter as they wrote
    it, the value, and what it takes."""

    def __init__(self, message: str, which: Filter | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.filter, self.value = which, value  # for a front end that words it its own way (a form's field)


# ---- kinds of value ---------------------------------------------------------------------------------------


class Kind:
    """How one kind of filter value is written as text and checked. `python_type` is what an option parser
    (typer) should already give; `parse` reads the text form (the query syntax, a form field)."""

    python_type: type = str
    takes: str = "a value"  # "fps takes a number"
    expect: str = "expected a value"  # "--fps 'x': expected a number"

    def parse(self, text: str) -> Any:
        return text

    def present(self, value: Any) -> bool:
        """Whether the value filters at all (an empty text does not, as it never did)."""
        return value is not None

    def fail(self) -> BadValue:
        return BadValue(self.takes, self.expect)


class Text(Kind):
    """Free text, compared as the filter's SQL says (exactly, lower-cased, or contained)."""

    def present(self, value: Any) -> bool:
        return bool(value)


@dataclass(frozen=True)
class Choice(Kind):
    """One of named values; case, spaces, dashes and underscores aside (`close up`, `Close_Up`, `close-up`)."""

    choices: Mapping[str, str] = field(default_factory=dict)  # as written on the command line -> stored value

    @property
    def takes(self) -> str:  # type: ignore[override]
        return f"one of {', '.join(self.choices)}"

    @property
    def expect(self) -> str:  # type: ignore[override]
        return f"choose one of {', '.join(self.choices)}"

    def parse(self, text: str) -> str:
        found = self.choices.get(text.lower().replace(" ", "-").replace("_", "-"))
        if found is None:
            raise self.fail()
        return found

    def present(self, value: Any) -> bool:
        return bool(value)


@dataclass(frozen=True)
class Number(Kind):
    """A finite number; `integer` ones may carry a unit suffix (`1080p`)."""

    integer: bool = False
    suffix: str = ""
    takes = "a number"
    expect = "expected a number"

    @property
    def python_type(self) -> type:  # type: ignore[override]
        return int if self.integer else float

    def parse(self, text: str) -> int | float:
        try:
            number = int(text.lower().rstrip(self.suffix)) if self.integer else float(text)
        except ValueError:
            raise self.fail() from None
        if not math.isfinite(number):
            raise self.fail()
        return number


class Date(Kind):
    """A date or date and time (ISO 8601); one without a zone is UTC."""

    takes = "a date (or date and time, 2024-05-17T10:30)"
    expect = "expected a date like 2024-05-17 or 2024-05-17T10:30"

    def parse(self, text: str) -> datetime:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise self.fail() from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class YesNo(Kind):
    """Yes or no, in the usual spellings plus the filter's own words (`hdr`/`sdr`)."""

    also_yes: tuple[str, ...] = ()
    also_no: tuple[str, ...] = ()
    python_type = bool
    expect = "expected yes or no"

    @property
    def words(self) -> dict[str, bool]:
        return {**dict.fromkeys(("yes", "true", "on", "1", *self.also_yes), True),
                **dict.fromkeys(("no", "false", "off", "0", *self.also_no), False)}

    @property
    def takes(self) -> str:  # type: ignore[override]
        return f"yes or no (also {', '.join(w for w in self.words if w not in ('yes', 'no'))})"

    def parse(self, text: str) -> bool:
        if text.lower() not in self.words:
            raise self.fail()
        return self.words[text.lower()]


# ---- the filters ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inline:
    """A `key:value` form of a filter inside a search query. `bounds` are the operators it answers: "=" for
    `key:value`, ">" for `key:>value` / `key:>=value`, "<" for `key:<value` / `key:<=value`."""

    key: str
    bounds: str
    example: str  # shown when the value is wrong: "write it like fps:>30"


@dataclass(frozen=True)
class Filter:
    """One filter: the ClipFilter field it fills, its kind of value, the SQL it adds, and how it is written."""

    field: str
    kind: Kind
    sql: Callable[[Any], Clause]
    help: str
    option: str | None = None  # "--fps", or a "--on/--off" pair; None: only in the query syntax
    inline: tuple[Inline, ...] = ()

    @property
    def flag(self) -> str:
        """The option as an error message names it (`--hdr` of `--hdr/--sdr`), or the field when there is none."""
        return self.option.split("/")[0] if self.option else self.field

    def clause(self, value: Any) -> Clause:
        return self.sql(value) if self.kind.present(value) else ([], {})

    def read(self, value: Any) -> Any:
        """The value as the filter keeps it: text is parsed (and checked), a value already of its type is kept."""
        if not isinstance(value, str) or isinstance(self.kind, Text):
            return value
        try:
            return self.kind.parse(value)
        except BadValue as bad:
            raise FilterError(f"{self.flag} {value!r}: {bad.expect}", self, value) from None


def _compare(condition: str, name: str, convert: Callable[[Any], Any] = lambda v: v) -> Callable[[Any], Clause]:
    """A condition with one parameter, named after the filter."""
    return lambda value: ([condition], {name: convert(value)})


def _resolution(value: str) -> Clause:
    low, high = RESOLUTIONS[value]  # by the displayed picture's short side, so vertical video counts the same
    if high is None:
        return ["x.short_side >= %(res_low)s"], {"res_low": low}
    return ["x.short_side >= %(res_low)s", "x.short_side <= %(res_high)s"], {"res_low": low, "res_high": high}


def _exists(table_join: str, condition: str, name: str) -> Callable[[Any], Clause]:
    return _compare(f"EXISTS (SELECT 1 FROM {table_join} WHERE {condition})", name)


def _person(value: str) -> Clause:
    """Clips where a person matching the value (people/match.py: a number or a part of a name) has a face track."""
    where, params = person_condition(value, "pp")
    return [f"EXISTS (SELECT 1 FROM face_tracks ft JOIN people pp USING (person_id) WHERE ft.clip_id = x.clip_id"
            f" AND {where})"], params


def _speaker(value: str) -> Clause:
    """Clips where a person matching the value speaks (a voice track of the speakers step, sql/013)."""
    where, params = person_condition(value, "sp", "speaker")
    return [f"EXISTS (SELECT 1 FROM voice_tracks vt JOIN people sp USING (person_id) WHERE vt.clip_id = x.clip_id"
            f" AND {where})"], params


def _owner(value: str) -> Clause:
    """Clips of one user of a shared catalog (sql/014): `me`, or an e-mail address. Only an admin sees other users'
    clips at all; for anyone else every clip is their own already."""
    if value.strip().lower() == "me":
        return ["x.owner = current_user"], {}
    return ["x.owner = (SELECT u.role_name FROM catalog_users u WHERE u.email = lower(%(owner)s))"], {"owner": value.strip()}


TEXT = Text()
NUMBER = Number()
DATE = Date()

# In the order their SQL is AND-ed; every ClipFilter field has exactly one entry (tests/test_filters.py).
FILTERS: tuple[Filter, ...] = (
    Filter("codec", TEXT, _compare("x.codec = lower(%(codec)s)", "codec"),
           "Video codec, e.g. h264, hevc, prores.", "--codec", (Inline("codec", "=", "codec:h264"),)),
    Filter("resolution", Choice({r: r for r in RESOLUTIONS}), _resolution,
           "sd, 720p, 1080p, 1440p, 4k, 8k (by the picture's short side).", "--resolution",
           (Inline("res", "=", "res:4k"), Inline("resolution", "=", "resolution:1080p"))),
    Filter("min_height", Number(integer=True, suffix="p"), _compare("x.height >= %(min_height)s", "min_height"),
           "At least this many pixels high.", "--min-height", (Inline("height", "=>", "height:1080 or height:>=2160"),)),
    Filter("fps", NUMBER, _compare("abs(x.frame_rate - %(fps)s) <= %(fps)s * 0.015", "fps"),  # 30 ~ 29.97, 25 !~ 24
           "Frame rate (30 also matches 29.97).", "--fps", (Inline("fps", "=", "fps:25"),)),
    Filter("min_fps", NUMBER, _compare("x.frame_rate >= %(min_fps)s * 0.999", "min_fps"),
           "Frame rate at least this.", None, (Inline("fps", ">", "fps:>30"),)),
    Filter("camera", TEXT, _compare("x.camera ILIKE %(camera)s", "camera", lambda v: f"%{v}%"),
           "Camera make or model contains this text.", "--camera", (Inline("camera", "=", "camera:iphone"),)),
    Filter("hdr", YesNo(also_yes=("hdr",), also_no=("sdr",)), lambda v: (["x.hdr" if v else "NOT x.hdr"], {}),
           "Only HDR (HDR10, HLG, Dolby Vision) or only SDR clips.", "--hdr/--sdr",
           (Inline("hdr", "=", "hdr:yes or hdr:no"),)),
    Filter("min_duration", NUMBER, _compare("x.duration_seconds >= %(min_duration)s", "min_duration"),
           "Seconds.", "--min-duration", (Inline("duration", ">", "duration:>60"),)),
    Filter("max_duration", NUMBER, _compare("x.duration_seconds <= %(max_duration)s", "max_duration"),
           "Seconds.", "--max-duration", (Inline("duration", "<", "duration:<10 (seconds)"),)),
    Filter("after", DATE, _compare("x.recorded_at >= %(after)s", "after"),
           "Recorded on or after this date (2024-05-17).", "--after", (Inline("after", "=", "after:2024-05-17"),)),
    Filter("before", DATE, _compare("x.recorded_at < %(before)s", "before"),
           "Recorded before this date.", "--before", (Inline("before", "=", "before:2024-06-01"),)),
    Filter("min_quality", NUMBER, _compare("x.quality_score >= %(min_quality)s", "min_quality"),
           "Technical quality score at least this (0-100).", "--min-quality",
           (Inline("quality", "=>", "quality:70 or quality:>70"),)),
    Filter("exposure_warning", YesNo(), _compare("x.exposure_warning = %(exposure_warning)s", "exposure_warning"),
           "Only clips whose exposure is (or is not) flagged.", "--exposure-warning/--exposure-ok"),
    Filter("shot_type", Choice({s.replace(" ", "-"): s for s in SHOT_TYPES}),
           _compare("x.shot_type = %(shot_type)s", "shot_type"),
           "Framing from face size: extreme-close-up, close-up, medium, wide, no-people.", "--shot-type",
           (Inline("shot", "=", "shot:close-up"),)),
    Filter("tag", TEXT, _exists("clip_tags ct JOIN tags tg USING (tag_id)",
                                "ct.clip_id = x.clip_id AND tg.name = lower(%(tag)s)"
                                " AND ct.review IS DISTINCT FROM 'rejected'", "tag"),
           "Has this tag (yours, or an AI or visual one not rejected).", "--tag", (Inline("tag", "=", "tag:interview"),)),
    Filter("collection", TEXT, _exists("collection_clips cc JOIN collections co USING (collection_id)",
                                       "cc.clip_id = x.clip_id AND lower(co.name) = lower(%(collection)s)",
                                       "collection"),
           "In this collection.", "--collection", (Inline("collection", "=", 'collection:"trip 2024"'),)),
    Filter("person", TEXT, _person, "A person on screen: a name from `people name` (a part will do) or a number.",
           "--person", (Inline("person", "=", 'person:anna or person:"anna weber"'),)),
    Filter("speaker", TEXT, _speaker, "A person speaking: a name from `people name` (a part will do), a number.",
           "--speaker", (Inline("speaker", "=", 'speaker:anna or speaker:"anna weber"'),)),
    Filter("owner", TEXT, _owner, "In a shared catalog: only the clips of this user (an e-mail address, or me).",
           "--owner", (Inline("owner", "=", "owner:me or owner:ben@example.com"),)),
)
BY_FIELD: dict[str, Filter] = {f.field: f for f in FILTERS}
OPTIONS: tuple[Filter, ...] = tuple(f for f in FILTERS if f.option)  # the command-line options, in help order


def filter_sql(filters: ClipFilter | None) -> tuple[str, dict[str, Any]]:
    """WHERE clause over clip_facts x for every filter that is set (AND-ed), and its parameters. "TRUE" alone
    when none is; the caller joins clip_facts x on its own table (store/search.py: CLIP_JOINS)."""
    clauses, params = ["TRUE"], {}
    for f in FILTERS:
        more, values = f.clause(getattr(filters, f.field, None))
        clauses += more
        params |= values
    return " AND ".join(clauses), params


def build_filter(values: Mapping[str, Any]) -> ClipFilter:
    """A ClipFilter from {field: value}; text values are parsed by their filter (an option's, a form's), values
    already of the filter's type kept. A bad value is a FilterError naming the option, the value and the forms."""
    unknown = set(values) - BY_FIELD.keys()
    if unknown:
        raise FilterError(f"unknown filter {', '.join(sorted(unknown))}; the filters are {', '.join(BY_FIELD)}")
    return ClipFilter(**{name: BY_FIELD[name].read(value) for name, value in values.items() if value is not None})


def is_filtered(filters: ClipFilter | None) -> bool:
    """Whether any filter is set: "no clip matches these filters" rather than "the catalog is empty"."""
    return filters is not None and any(getattr(filters, f.field) is not None for f in FILTERS)


def inline_keys(filters: Iterable[Filter] = FILTERS) -> dict[str, dict[str, Filter]]:
    """{query key: {bound ("=", ">", "<"): the filter it fills}}, from every filter's inline forms."""
    keys: dict[str, dict[str, Filter]] = {}
    for f in filters:
        for form in f.inline:
            for bound in form.bounds:
                keys.setdefault(form.key, {})[bound] = f
    return keys


def inline_example(key: str, filters: Iterable[Filter] = FILTERS) -> str:
    """How a key is written (`fps:25 or fps:>30`), from the examples of the filters that take it."""
    examples = [form.example for f in filters for form in f.inline if form.key == key]
    return " or ".join(dict.fromkeys(examples))
