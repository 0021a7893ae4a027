"""Keyset paging of `list` (store/list_order.py): walking a catalog page by page after (or before) each page's
edge key gives exactly the rows of the one unpaged query, in every sort order, with ties and empty values."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from catalog_resources.models.clips import SORT_KEYS, ClipFilter
from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.store.list_order import Seek


@pytest.fixture
def store(catalog_env) -> CatalogResource:
    """53 clips whose sort values repeat and are often missing (durations, heights, frame rates)."""
    store = CatalogResource(database_url=catalog_env.database_url)
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with store.connect() as conn:
        for i in range(53):
            conn.execute(
                """INSERT INTO clips (clip_id, file_name, path, size_bytes, md5, fast_hash, fingerprint, duration_seconds,
                                      video_codec, height, frame_rate, cataloged_at)
                   VALUES (%s, %s, %s, %s, 'm', 'f', 'p', %s, %s, %s, %s, %s)""",
                (f"c{rng.randrange(10**6):06d}{i:02d}", f"clip {rng.randrange(9)}.mp4", f"/f/{i}.mp4",
                 rng.choice([100, 200, 300]), rng.choice([None, 1.5, 2.5, 10.0]), rng.choice(["h264", "prores"]),
                 rng.choice([None, 720, 1080]), rng.choice([None, 25.0]), start + timedelta(seconds=rng.randrange(4))))
    return store


def walk(store, sort: str, size: int, backward: bool, filters=None) -> list[str]:
    seek, pages = Seek(None, backward), []
    for _ in range(100):
        rows = store.list_clips(size, filters, sort, seek=seek)
        pages.append([r["clip_id"] for r in rows])
        if len(rows) < size:
            break
        edge = rows[0] if backward else rows[-1]
        seek = Seek(edge["sort_key"], backward)
    ids = [i for page in (reversed(pages) if backward else pages) for i in page]
    return ids


@pytest.mark.parametrize("sort", SORT_KEYS)
def test_pages_by_key_are_the_unpaged_list_in_both_directions(store, sort):
    everything = [r["clip_id"] for r in store.list_clips(None, None, sort)]
    assert len(everything) == 53
    for size in (1, 7, 24):
        assert walk(store, sort, size, backward=False) == everything, (sort, size)
        assert walk(store, sort, size, backward=True) == everything, (sort, size)
    by_offset = [r["clip_id"] for r in store.list_clips(7, None, sort, offset=14)]
    assert by_offset == everything[14:21]
    prores = ClipFilter(codec="prores")
    only = [r["clip_id"] for r in store.list_clips(None, prores, sort)]
    assert walk(store, sort, 5, backward=False, filters=prores) == only


def test_rows_carry_their_key_only_when_paged_by_key(store):
    assert "sort_key" not in store.list_clips(3, None, "duration")[0]  # `list` prints what it printed
    assert len(store.list_clips(3, None, "duration", seek=Seek())[0]["sort_key"]) == 2


def test_a_page_key_survives_the_url_and_a_forged_one_is_page_one():
    from catalog_cli.web.service import decode_key, encode_key, seek_from

    key = [datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=timezone.utc), "<b>clip</b>.mp4", "c00001"]
    assert decode_key(encode_key(key)) == key
    assert seek_from({"page_after": encode_key([None, "c1"])}, 3) == Seek([None, "c1"], False)
    assert seek_from({"page_before": encode_key([2.5, "c1"]), "after": "2026-01-01"}, 2) == Seek([2.5, "c1"], True)
    assert seek_from({"at": "end"}, 1) == Seek(None, True)
    for forged in ("", "!!", "e30", encode_key([{"x": 1}, "c"]), encode_key([1]), "A" * 5000):
        assert decode_key(forged) is None, forged
    assert seek_from({"page_after": "nonsense"}, 1) == Seek() and seek_from({}, 4) is None  # page=4: an offset
