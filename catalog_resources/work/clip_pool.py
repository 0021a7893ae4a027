"""Clips of one batch step processed side by side, up to the cores the process may use.

A batch step over clips one at a time kept 1.0-1.5 of two cores busy: an ffmpeg decode waits on its
reader, a model runs on fewer threads than there are cores, Python glue runs between them. Each clip's
work is mostly native code that releases the GIL (ffmpeg subprocesses, libav through PyAV, numpy,
onnxruntime, CTranslate2; dlib and the face detector hold it, so their calls take turns), so threads are
enough; processes would load every model twice.

The threads live as long as the process (one pool per worker count), so the catalog's per-thread connections
(store/connection.py) are opened once, not once a step.

Failure keeps the sequential contract: the first failing clip (in batch order) raises, clips already
running finish (their files are written atomically either way), and clips not started are not started.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

K = TypeVar("K")
T = TypeVar("T")

_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, e.g. a container's cpuset), at least 1."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return max(os.cpu_count() or 1, 1)


def clip_workers(setting: int) -> int:
    """The clips a step works on at once: the setting, or the usable cores when it is 0 (auto)."""
    return setting if setting > 0 else usable_cores()


def _pool(workers: int) -> ThreadPoolExecutor:
    """This process's pool of `workers` threads (keyed by pid too: a forked child has none of its parent's threads)."""
    key = (os.getpid(), workers)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = _POOLS[key] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="clip")
        return pool


def map_clips(work: Callable[[K], T], keys: Sequence[K], workers: int) -> dict[K, T]:
    """{key: work(key)} in `keys`' order, up to `workers` keys at a time (one at a time: no thread at all)."""
    if workers <= 1 or len(keys) <= 1:
        return {key: work(key) for key in keys}
    stop = threading.Event()  # set by the first failure: clips not started yet are not started

    def guarded(key: K) -> T:
        if stop.is_set():
            raise _NotStarted
        try:
            return work(key)
        except BaseException:
            stop.set()
            raise

    futures: dict[K, Future[T]] = {key: _pool(workers).submit(guarded, key) for key in keys}
    done, _ = wait(futures.values(), return_when=FIRST_EXCEPTION)
    if any(future.exception() is not None for future in done):
        wait(futures.values())  # the clips still running finish before the step fails
        failures = [f.exception() for f in futures.values() if not isinstance(f.exception(), _NotStarted)]
        raise next(exc for exc in failures if exc is not None)
    return {key: future.result() for key, future in futures.items()}


class _NotStarted(Exception):
    """A clip left alone because another clip of the batch failed first."""
