"""Work progress inside a run, for whoever in this process wants it (the CLI's progress bar).

The CLI executes Dagster runs in its own process (`execute_in_process`), so a step can tell the bar
how far the clip's ffmpeg pass has got without a Dagster log event per update (each is a Postgres row).
Nothing here knows about Rich or Typer: subscribers are plain callables.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from pydantic import BaseModel


class StepProgress(BaseModel):
    clip_id: str
    label: str  # what the user recognises: the file name
    step: str  # the asset doing the work
    fraction: float  # 0..1 of this step for this clip


Subscriber = Callable[[StepProgress], None]
_subscribers: list[Subscriber] = []
_lock = threading.Lock()


def subscribe(fn: Subscriber) -> Callable[[], None]:
    """Add a listener; returns the function that removes it."""
    with _lock:
        _subscribers.append(fn)

    def unsubscribe() -> None:
        with _lock:
            if fn in _subscribers:
                _subscribers.remove(fn)

    return unsubscribe


def publish(event: StepProgress) -> None:
    with _lock:
        listeners = list(_subscribers)
    for fn in listeners:
        fn(event)
