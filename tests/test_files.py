"""The one atomic writer: a reader sees the old file or the new one, never half; a failed write leaves nothing."""

from __future__ import annotations

import pytest

from catalog_resources.files import atomic_path, write_atomic


def test_write_atomic_replaces_text_and_bytes(tmp_path):
    target = tmp_path / "sub" / "clip.json"
    write_atomic(target, '{"a": 1}')
    assert target.read_text() == '{"a": 1}'
    write_atomic(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in target.parent.iterdir()) == ["clip.json"]


def test_a_failed_writer_leaves_the_old_file_and_no_partial(tmp_path):
    target = tmp_path / "poster.jpg"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        assert not tmp.exists() and tmp.parent == tmp_path and tmp.name.endswith("-poster.jpg")
        tmp.write_bytes(b"half")
        raise RuntimeError("encoder died")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["poster.jpg"]


def test_two_writers_never_share_a_temporary_name(tmp_path):
    target = tmp_path / "proxy.mp4"
    with atomic_path(target) as first, atomic_path(target) as second:
        assert first != second and first.name.startswith(".partial-")
        first.write_bytes(b"1")
        second.write_bytes(b"2")
    assert target.read_bytes() == b"1"  # the outer writer finished last
