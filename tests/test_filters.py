"""The filter registry (catalog_resources/search/filters.py) against a real catalog: every registered filter's SQL
selects the clips it should, the same filter written as a command-line option and as a query's `key:value`
gives the same rows through the real CLI, and a bad value is the filter's own one-line error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from catalog_resources.embeddings.service import EmbeddingService
from catalog_resources.errors import UsageError
from catalog_resources.models.clips import ClipFilter
from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.search.filters import (BY_FIELD, FILTERS, OPTIONS, FilterError, build_filter,
                                              filter_sql, inline_example, inline_keys, is_filtered)
from catalog_resources.search.query import InlineFilterError, parse_inline_filters
from tests.search_seed import seed

CLI = [sys.executable, "-m", "catalog_cli.main"]
WORD = "footage"  # in every clip's transcript, so a text search with only a filter added returns the filter's rows


def doc(clip_id: str, codec: str, height: int, fps: float, shot: str, sentences: int, keywords: list[str]) -> dict:
    """A seeded clip: 4 s per transcript sentence (tests/search_seed.py), its keywords become its AI tags."""
    return {"clip_id": clip_id, "summary": f"{clip_id} {WORD}.", "keywords": keywords, "on_screen_text": "",
            "transcript": " ".join(f"Sentence {i} of the {WORD}." for i in range(sentences)),
            "technical": {"codec": codec, "height": height, "fps": fps, "shot_type": shot}}


DOCS = [
    doc("prores-4k", "prores", 2160, 25.0, "close-up", 1, ["interview"]),  # 4 s
    doc("h264-hd", "h264", 1080, 29.97, "wide", 3, ["beach"]),  # 12 s
    doc("hevc-720", "hevc", 720, 60.0, "medium", 2, ["city"]),  # 8 s
    doc("dnxhd-sd", "dnxhd", 480, 24.0, "no people", 5, ["interview", "office"]),  # 20 s
    doc("hevc-8k", "hevc", 4320, 120.0, "extreme close-up", 4, ["drone"]),  # 16 s
]
ALL = {d["clip_id"] for d in DOCS}
# clip -> (camera make, model, hdr format, recorded at, quality score, exposure warning, collection)
EXTRA = {
    "prores-4k": ("Apple", "iPhone 15 Pro", "HDR10", datetime(2024, 5, 17, 10, tzinfo=timezone.utc), 80, False, "trip 2024"),
    "h264-hd": ("Sony", "FX3", None, datetime(2024, 6, 2, tzinfo=timezone.utc), 55, True, None),
    "hevc-720": (None, None, "HLG", None, 40, False, "trip 2024"),
    "dnxhd-sd": ("Apple", "iPhone 12", None, datetime(2024, 5, 31, 23, tzinfo=timezone.utc), 90, None, None),
    "hevc-8k": ("DJI", "Mavic 3", None, datetime(2023, 12, 1, tzinfo=timezone.utc), 70, True, "drone"),
}

# field -> (value as text, what it selects); every registered filter has a row (checked below)
CASES: dict[str, tuple[str, set[str]]] = {
    "codec": ("HEVC", {"hevc-720", "hevc-8k"}),
    "resolution": ("4k", {"prores-4k"}),
    "min_height": ("1080", {"prores-4k", "h264-hd", "hevc-8k"}),
    "fps": ("30", {"h264-hd"}),  # 29.97 counts as 30
    "min_fps": ("50", {"hevc-720", "hevc-8k"}),
    "camera": ("iphone", {"prores-4k", "dnxhd-sd"}),
    "hdr": ("yes", {"prores-4k", "hevc-720"}),
    "min_duration": ("12", {"h264-hd", "dnxhd-sd", "hevc-8k"}),
    "max_duration": ("8", {"prores-4k", "hevc-720"}),
    "after": ("2024-05-17", {"prores-4k", "h264-hd", "dnxhd-sd"}),
    "before": ("2024-06-01", {"prores-4k", "dnxhd-sd", "hevc-8k"}),
    "min_quality": ("70", {"prores-4k", "dnxhd-sd", "hevc-8k"}),
    "exposure_warning": ("yes", {"h264-hd", "hevc-8k"}),
    "shot_type": ("close up", {"prores-4k"}),
    "tag": ("Interview", {"prores-4k", "dnxhd-sd"}),
    "collection": ("trip 2024", {"prores-4k", "hevc-720"}),
    "person": ("anna", {"prores-4k", "hevc-8k"}),
    "speaker": ("okafor", {"h264-hd", "dnxhd-sd"}),
    "owner": ("me", {"prores-4k", "hevc-720", "hevc-8k"}),  # the others made another user's below
}
PEOPLE = {"prores-4k": "Anna Weber", "hevc-8k": "Anna Weber", "h264-hd": "Ben Okafor"}  # who is on screen
VOICES = {"h264-hd": "Ben Okafor", "dnxhd-sd": "Ben Okafor", "hevc-8k": "Anna Weber"}  # who speaks


@pytest.fixture(scope="module")
def catalog(module_catalog_env):
    store = CatalogResource(database_url=os.environ["VIDEO_CATALOG_DATABASE_URL"])
    seed(store, EmbeddingService(), DOCS, embed=False)
    with store.connect() as conn, conn.transaction():
        for clip_id, (make, model, hdr, recorded, quality, exposure, collection) in EXTRA.items():
            conn.execute("UPDATE technical_metadata SET camera_make = %s, camera_model = %s, hdr_format = %s,"
                         " recorded_at = %s WHERE clip_id = %s", (make, model, hdr, recorded, clip_id))
            conn.execute("UPDATE frame_analysis SET quality_score = %s, exposure_warning = %s WHERE clip_id = %s",
                         (quality, exposure, clip_id))
            if collection:
                conn.execute("INSERT INTO collections (name) VALUES (%s) ON CONFLICT DO NOTHING", (collection,))
                conn.execute("INSERT INTO collection_clips (collection_id, clip_id) SELECT collection_id, %s"
                             " FROM collections WHERE name = %s", (clip_id, collection))
        for name in sorted(set(PEOPLE.values())):
            conn.execute("INSERT INTO people (name, centroid) VALUES (%s, array_fill(0.1, ARRAY[128])::vector)", (name,))
        for n, (clip_id, name) in enumerate(PEOPLE.items()):
            conn.execute("INSERT INTO face_tracks (clip_id, track_index, person_id, start_seconds, end_seconds, model,"
                         " embedding) SELECT %s, 0, person_id, 1, 2, 'test', array_fill(0.1, ARRAY[128])::vector"
                         " FROM people WHERE name = %s", (clip_id, name))
        conn.execute("UPDATE clip_facts SET owner = 'vc_someone_else' WHERE clip_id IN ('h264-hd', 'dnxhd-sd')")
        for clip_id, name in VOICES.items():
            conn.execute("INSERT INTO voice_tracks (clip_id, speaker_index, person_id, start_seconds, end_seconds, model,"
                         " embedding) SELECT %s, 0, person_id, 1, 2, 'test', array_fill(0.1, ARRAY[256])::vector"
                         " FROM people WHERE name = %s", (clip_id, name))
    return store


def selected(store: CatalogResource, filters: ClipFilter | None) -> set[str]:
    where, params = filter_sql(filters)
    with store.connect() as conn:
        return {r["clip_id"] for r in conn.execute(f"SELECT x.clip_id FROM clip_facts x WHERE {where}", params)}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def ids(result: subprocess.CompletedProcess) -> set[str]:
    assert result.returncode in (0, 1), result.stderr  # search exits 1 when nothing matched
    return {row["clip_id"] for row in json.loads(result.stdout or "[]")}


# ---- the registry itself ----------------------------------------------------------------------------------


def test_every_clip_filter_field_is_registered_once_and_tested():
    assert [f.field for f in FILTERS] == list(ClipFilter.model_fields)
    assert set(CASES) == set(BY_FIELD)
    options = [name for f in OPTIONS for name in f.option.split("/")]
    assert len(options) == len(set(options)) and all(name.startswith("--") for name in options)
    assert inline_example("fps") == "fps:25 or fps:>30" and inline_keys()["duration"].keys() == {">", "<"}


# ---- SQL against the real catalog ------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_each_filter_selects_its_clips(catalog, name):
    text, expected = CASES[name]
    chosen = build_filter({name: text})
    assert is_filtered(chosen)
    assert selected(catalog, chosen) == expected, name
    assert expected and expected != ALL  # the case tells something: some clips in, some out


def test_no_filter_selects_everything_and_filters_combine_with_and(catalog):
    assert selected(catalog, None) == selected(catalog, ClipFilter()) == ALL and not is_filtered(ClipFilter())
    both = build_filter({"codec": "hevc", "min_fps": "100"})
    assert selected(catalog, both) == {"hevc-8k"} and selected(catalog, build_filter({"min_fps": "100"})) == {"hevc-8k"}
    assert selected(catalog, build_filter({"codec": "hevc", "max_duration": "8"})) == {"hevc-720"}
    assert selected(catalog, build_filter({"hdr": "no"})) == ALL - CASES["hdr"][1]
    assert selected(catalog, build_filter({"exposure_warning": "no"})) == {"prores-4k", "hevc-720"}  # unknown is neither


# ---- the same filter as an option and inside the query ------------------------------------------------------


def option_args(name: str, text: str) -> list[str]:
    f = BY_FIELD[name]
    if f.kind.python_type is bool:
        on, off = f.option.split("/")
        return [on if f.kind.parse(text) else off]
    return [f.option, text]


def inline_tokens(name: str, text: str) -> list[str]:
    """Every way the query syntax writes this filter with this value (`height:1080`, `height:>=1080`, ...)."""
    operators = {"=": [""], ">": [">", ">="], "<": ["<", "<="]}
    quoted = f'"{text}"' if " " in text else text
    return [f"{form.key}:{op}{quoted}" for form in BY_FIELD[name].inline for bound in form.bounds
            for op in operators[bound]]


@pytest.mark.parametrize("name", [f.field for f in OPTIONS if f.inline])
def test_option_and_inline_key_give_the_same_rows(catalog, name):
    text, expected = CASES[name]
    by_option = ids(cli("list", "--json", *option_args(name, text)))
    assert by_option == expected
    tokens = inline_tokens(name, text)
    assert tokens
    for token in tokens:
        assert ids(cli("search", f"{WORD} {token}", "--mode", "text", "--json", "--limit", "50")) == expected, token
        assert build_filter(parse_inline_filters(f"{WORD} {token}")[1]) == build_filter({name: text}), token


def test_a_flag_wins_over_the_same_filter_in_the_query(catalog):
    result = cli("search", f"{WORD} codec:prores", "--codec", "hevc", "--mode", "text", "--json", "--limit", "50")
    assert ids(result) == CASES["codec"][1]


# ---- a bad value is the filter's own error ------------------------------------------------------------------


def bad_value(name: str) -> str | None:
    kind = BY_FIELD[name].kind
    return {"Choice": "huge", "Number": "abc", "Date": "yesterday", "YesNo": "maybe"}.get(type(kind).__name__)


@pytest.mark.parametrize("name", [f.field for f in FILTERS if bad_value(f.field)])
def test_a_bad_value_is_the_filters_own_error(name):
    f, value = BY_FIELD[name], bad_value(name)
    for form in f.inline:
        token = f"{form.key}:{'>' if '=' not in form.bounds else ''}{value}"
        with pytest.raises(InlineFilterError) as raised:
            parse_inline_filters(f"x {token}")
        assert str(raised.value) == (f"search filter {token!r}: {form.key} takes {f.kind.takes}; "
                                     f"write it like {inline_example(form.key)}")
        assert isinstance(raised.value, UsageError) and isinstance(raised.value, ValueError)
    with pytest.raises(FilterError) as raised:
        build_filter({name: value})
    assert str(raised.value) == f"{f.flag} {value!r}: {f.kind.expect}" and raised.value.filter is f


@pytest.mark.parametrize(("args", "line"), [
    (["list", "--resolution", "huge"], "error: --resolution 'huge': choose one of sd, 720p, 1080p, 1440p, 4k, 8k"),
    (["list", "--shot-type", "portrait"],
     "error: --shot-type 'portrait': choose one of extreme-close-up, close-up, medium, wide, no-people"),
    (["search", "x", "--after", "yesterday"],
     "error: --after 'yesterday': expected a date like 2024-05-17 or 2024-05-17T10:30"),
    (["search", "x height:tall"], "error: search filter 'height:tall': height takes a number; "
                                  "write it like height:1080 or height:>=2160"),
    (["search", "x codec:>h264"], "error: search filter 'codec:>h264': codec takes no > bound; write it like codec:h264"),
])
def test_the_cli_prints_the_filters_error_in_one_line(catalog, args, line):
    result = cli(*args)
    assert result.returncode == 2 and result.stderr.splitlines() == [line], result.stderr


def test_text_filters_take_any_words_but_not_nothing():
    assert parse_inline_filters('a tag:"b-roll" camera:FX3 b') == ("a b", {"tag": "b-roll", "camera": "FX3"})
    with pytest.raises(InlineFilterError, match=r"tag takes a value; write it like tag:interview"):
        parse_inline_filters('x tag:""')
    assert parse_inline_filters("see https://example.com note:this") == ("see https://example.com note:this", {})
