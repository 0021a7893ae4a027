"""Clips grouped into batch runs: contiguous ranges of the clips partition list, at most `size` clips each.

A Dagster run over many partitions names them by a key range (first..last in partition order), so a batch
must be a contiguous slice of that order. Shared by the CLI runner (catalog_assets/ingest_runner.py) and the
folder sensor, so both cut the same batches; plain Python, the caller passes the partition order it reads
from the instance (or the order it is about to create).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def clips_per_run(run_mode: str, batch_size: int) -> int:
    """The batch size a run mode means: `batch_size` clips per run in batch mode, one in per-clip mode."""
    return batch_size if run_mode == "batch" else 1


def spread_size(clips: int, batch_size: int, runs_at_once: int) -> int:
    """Clips per run on Celery workers, so that `runs_at_once` runs all have clips: one big batch would put each
    step of every clip on one worker, one clip after another, while the other workers wait."""
    return max(1, min(batch_size, math.ceil(clips / max(runs_at_once, 1))))


def contiguous_batches(order: Sequence[str], clip_ids: Iterable[str], size: int) -> list[list[str]]:
    """`clip_ids` (each in `order`) in partition order, cut where the order has a gap or a batch is full."""
    position = {key: i for i, key in enumerate(order)}
    ranked = sorted(dict.fromkeys(clip_ids), key=lambda c: position[c])
    batches: list[list[str]] = []
    for clip_id in ranked:
        last = batches[-1] if batches else None
        if last and len(last) < size and position[clip_id] == position[last[-1]] + 1:
            last.append(clip_id)
        else:
            batches.append([clip_id])
    return batches


def keys_in_range(order: Sequence[str], start: str, end: str) -> list[str]:
    """The partition keys a run's range covers, first and last included (empty if either is unknown)."""
    if start not in order or end not in order:
        return []
    first, last = order.index(start), order.index(end)
    return list(order[first : last + 1])
