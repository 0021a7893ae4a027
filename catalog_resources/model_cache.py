"""The process-wide home of every loaded model: Whisper, YAMNet, PP-OCR, spaCy, the embedders, tiktoken's encodings.

A model costs seconds and hundreds of MB to load and nothing to reuse, so each is built once per process, on first
use, and shared by every asset run, thread and engine object after that. `cached(key, build)` is the one way to do
that: the registry lock is held only to find (or make) the key's own lock, and the build runs under that per-key
lock, so two threads asking for the same model wait for one load while two different models load in parallel. A
build that raises caches nothing; the next caller tries again (and gets the same error, naming the fix).

Plain library: no dagster, and nothing heavy imported here (the builders import their runtimes themselves).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

_MODELS: dict[Hashable, Any] = {}
_KEY_LOCKS: dict[Hashable, threading.Lock] = {}
_REGISTRY_LOCK = threading.Lock()


def cached(key: Hashable, build: Callable[[], T]) -> T:
    """The object stored under `key`, made by `build()` the first time it is asked for in this process.

    `key` names what was loaded and how (e.g. ``("whisper", model_dir, "int8", 2)``): the same model with other
    settings is another entry. Concurrent first callers of one key run `build` once; the others wait for it.
    """
    try:
        return _MODELS[key]  # the common case: already loaded, no lock needed (dict reads are atomic)
    except KeyError:
        pass
    with _REGISTRY_LOCK:
        key_lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    with key_lock:
        if key in _MODELS:  # built by the caller we waited for
            return _MODELS[key]
        model = build()
        _MODELS[key] = model
        return model


def forget(key: Hashable) -> None:
    """Drop `key`'s model, so the next `cached` call builds it again (tests that exercise the loading itself)."""
    with _REGISTRY_LOCK:
        key_lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    with key_lock:
        _MODELS.pop(key, None)
