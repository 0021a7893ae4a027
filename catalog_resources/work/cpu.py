"""CPU seconds spent by this process and the subprocesses it waited for (ffmpeg, ExifTool): what a step cost."""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass


def cpu_seconds() -> float:
    """User + system seconds of this process and its waited-for children, so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class StepClock:
    """Wall and CPU time from a step's start. The CPU is the whole process's: steps of an in-process run follow
    one another, so it is the step's own; on a worker running several steps at once it is their sum."""

    wall: float
    cpu: float

    @classmethod
    def start(cls) -> StepClock:
        return cls(wall=time.monotonic(), cpu=cpu_seconds())

    def wall_seconds(self) -> float:
        return time.monotonic() - self.wall

    def cpu_seconds(self) -> float:
        return cpu_seconds() - self.cpu
