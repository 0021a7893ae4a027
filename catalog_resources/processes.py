"""Is a process still there? Asked of a pid a file or a row recorded (the embedded server's, an ingest's)."""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    """True while a process with this pid exists on this host (owned by anyone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    return True
