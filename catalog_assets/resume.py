"""Which steps each clip found by an ingest still needs: all of them for a new clip, and for a known one
the steps it lacks or last failed, plus everything downstream of those.

A killed process, a stopped database or a full disk leave a clip with only some of its steps; the next
plain `ingest` of the same folder finishes exactly that. Steps a clip has at an older code version are
`refresh --stale`'s business, not ingest's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from catalog_resources.store.ingest_state import METADATA_ONLY_STEPS


def expected_steps(steps: Sequence[str], metadata_only: bool) -> list[str]:
    return [s for s in steps if s in METADATA_ONLY_STEPS] if metadata_only else list(steps)


def steps_to_finish(
    expected: Sequence[str], made: Iterable[str], failed: Iterable[str],
    children: Mapping[str, Sequence[str]], order: Sequence[str],
) -> list[str]:
    """The expected steps not made or last failed, and the expected steps downstream of them, in graph order."""
    made, wanted = set(made), set(expected)
    todo = {s for s in expected if s not in made} | (set(failed) & wanted)
    frontier = list(todo)
    while frontier:
        for child in children.get(frontier.pop(), ()):
            if child in wanted and child not in todo:
                todo.add(child)
                frontier.append(child)
    return [s for s in order if s in todo]
