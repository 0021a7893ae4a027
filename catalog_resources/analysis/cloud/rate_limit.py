"""At most N cloud requests per minute per process (VIDEO_CATALOG_ANALYSIS_REQUESTS_PER_MINUTE), shared by
every clip and every cloud analyzer in the process."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self, per_minute: float) -> None:
        """Sleep until this request's turn; 0 (or less) means no limit."""
        if per_minute <= 0:
            return
        with self._lock:
            now = time.monotonic()
            delay = max(0.0, self._next - now)
            self._next = max(now, self._next) + 60.0 / per_minute
        if delay:
            time.sleep(delay)


PROCESS_RATE = RateLimiter()
