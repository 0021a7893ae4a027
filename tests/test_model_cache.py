"""The one process-wide model cache: the same key is built once however many threads ask at once; different keys
are built side by side, not one after the other."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from catalog_resources import model_cache


def _key(name: str) -> tuple[str, str]:
    return ("test", f"{name}-{uuid.uuid4().hex}")  # fresh per test: the registry lives as long as the process


def test_same_key_from_many_threads_is_built_once():
    key = _key("same")
    builds: list[int] = []
    start = threading.Barrier(6)

    def build() -> object:
        builds.append(threading.get_ident())
        time.sleep(0.2)  # a slow load: every other thread arrives while it runs
        return object()

    got: list[object] = []

    def ask() -> None:
        start.wait()
        got.append(model_cache.cached(key, build))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert len(got) == 6 and len({id(model) for model in got}) == 1
    assert model_cache.cached(key, build) is got[0] and len(builds) == 1  # later callers reuse it too


def test_different_keys_are_built_in_parallel():
    """Each build waits until the other has started: with one global build lock this would deadlock (time out)."""
    a, b = _key("a"), _key("b")
    started = {a: threading.Event(), b: threading.Event()}
    overlapped: dict[tuple[str, str], bool] = {}

    def builder(mine: tuple[str, str], other: tuple[str, str]):
        def build() -> str:
            started[mine].set()
            overlapped[mine] = started[other].wait(timeout=5)
            return mine[1]
        return build

    results: dict[tuple[str, str], str] = {}
    threads = [threading.Thread(target=lambda k=k, o=o: results.__setitem__(k, model_cache.cached(k, builder(k, o))))
               for k, o in ((a, b), (b, a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {a: a[1], b: b[1]}
    assert overlapped == {a: True, b: True}


def test_a_failed_build_caches_nothing_and_forget_rebuilds():
    key = _key("flaky")
    calls = []

    def build() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("model package missing")
        return len(calls)

    with pytest.raises(RuntimeError, match="model package missing"):
        model_cache.cached(key, build)
    assert model_cache.cached(key, build) == 2
    assert model_cache.cached(key, build) == 2
    model_cache.forget(key)
    assert model_cache.cached(key, build) == 3
