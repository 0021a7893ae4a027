"""Clips of a batch step side by side (catalog_resources/work/clip_pool.py) and the CPU a step reports."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from catalog_resources.work.clip_pool import clip_workers, map_clips, usable_cores
from catalog_resources.work.cpu import StepClock


def test_results_keep_the_batch_order_whatever_finishes_first():
    release = threading.Event()

    def work(key: str) -> str:
        if key == "a":  # the first clip finishes last
            release.wait(timeout=10)
        else:
            release.set()
        return key.upper()

    result = map_clips(work, ["a", "b", "c"], workers=2)
    assert list(result.items()) == [("a", "A"), ("b", "B"), ("c", "C")]


def test_two_workers_run_two_clips_at_the_same_time():
    both_inside = threading.Barrier(2, timeout=10)  # breaks (and raises) unless two clips are in it at once
    threads: set[str] = set()

    def work(key: str) -> str:
        threads.add(threading.current_thread().name)
        both_inside.wait()
        return key

    assert map_clips(work, ["a", "b"], workers=2) == {"a": "a", "b": "b"}
    assert len(threads) == 2
    assert all(name.startswith("clip") for name in threads)


def test_one_worker_runs_in_the_calling_thread_in_order():
    seen: list[tuple[str, str]] = []
    map_clips(lambda key: seen.append((key, threading.current_thread().name)), ["x", "y", "z"], workers=1)
    assert seen == [(k, threading.current_thread().name) for k in ("x", "y", "z")]


def test_the_first_failing_clip_raises_and_clips_not_started_never_start():
    started: list[str] = []
    gate = threading.Event()

    def work(key: str) -> str:
        started.append(key)
        if key == "b":
            raise ValueError(f"clip {key} is unreadable")
        if key == "a":
            gate.wait(timeout=10)  # still running when b fails
        return key

    def release_a_later() -> None:
        gate.wait(timeout=0.5)
        gate.set()

    threading.Thread(target=release_a_later).start()
    with pytest.raises(ValueError, match="clip b is unreadable"):
        map_clips(work, ["a", "b", "c", "d", "e"], workers=2)
    assert sorted(started) == ["a", "b"]  # a finished; c, d and e were never started


def test_workers_setting_zero_means_the_usable_cores():
    assert clip_workers(0) == usable_cores() >= 1
    assert clip_workers(3) == 3


def test_step_clock_counts_subprocess_cpu():
    clock = StepClock.start()
    # a subprocess that burns about 0.3 s of CPU: counted once it has been waited for
    subprocess.run([sys.executable, "-c", "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"],
                   check=True)
    assert clock.cpu_seconds() >= 0.25
    assert clock.wall_seconds() >= 0.25
