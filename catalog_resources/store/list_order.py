"""The sort orders of `list` and keyset (seek) paging over them.

Each order is read from an index (sql/012): clips' own columns, or clip_facts', which hold the reconciled values
(technical metadata where it exists, else the scan's) the sort always meant; the clip id breaks ties. A page
deep in the catalog with OFFSET reads and throws away every row before it (116-173 ms for the last page at 100k
clips); a page "after this key" starts its index scan at the key instead, so every page costs what the first one
does. The key is the sort columns' values of the row at the page's edge.

An order whose first column descends with NULLs last (duration, recorded, resolution, fps, quality) is not one
row comparison: the rows after a key are those with a smaller value, then the NULLs. Each part is its own index
range (`segments`), read in turn until the page is full; an OR of the two would make the planner scan from the
index's start again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ListOrder:
    columns: tuple[str, ...]  # SQL expressions; the clip id last
    descending: bool = False  # the first column descends (the rest ascend); else every column ascends
    nullable: bool = False  # the first column may be NULL: NULLs come last

    def order_by(self, backward: bool = False) -> str:
        """The ORDER BY, or its exact reverse (the same index read backwards)."""
        if not self.descending:
            return ", ".join(f"{c} DESC" if backward else c for c in self.columns)
        first, rest = self.columns[0], self.columns[1:]
        if backward:
            head = f"{first} ASC NULLS FIRST" if self.nullable else f"{first} ASC"
        else:
            head = f"{first} DESC NULLS LAST" if self.nullable else f"{first} DESC"
        return ", ".join([head, *(f"{c} DESC" if backward else c for c in rest)])

    def _compare(self, columns: tuple[str, ...], start: int, op: str) -> str:
        names = ", ".join(f"%(k{i})s" for i in range(start, start + len(columns)))
        return f"({', '.join(columns)}) {op} ({names})"

    def segments(self, key: list[Any] | None, backward: bool = False) -> tuple[list[str], dict[str, Any]]:
        """WHERE conditions, each an index range, whose rows (in this order, or reversed when `backward`) follow
        (precede) `key`, in the order they come; None: from the start (the end)."""
        if key is None:
            return ["TRUE"], {}
        if len(key) != len(self.columns):
            raise ValueError("a page key has one value per sort column")
        params = {f"k{i}": value for i, value in enumerate(key)}
        after, before = (">", "<") if not backward else ("<", ">")
        if not self.descending:
            return [self._compare(self.columns, 0, after)], params
        first, rest = self.columns[0], self.columns[1:]
        tie = self._compare(rest, 1, after)
        if key[0] is None:  # among the NULLs (last going forward, first going back)
            if not self.nullable:
                raise ValueError("this sort column has no empty values")
            return [f"{first} IS NULL AND {tie}"] + ([f"{first} IS NOT NULL"] if backward else []), params
        # descending: the rows after a value hold smaller values (going back: larger ones)
        bound, strict = ("<=", "<") if not backward else (">=", ">")
        ranged = f"{first} {bound} %(k0)s AND ({first} {strict} %(k0)s OR {tie})"
        return [ranged] + ([f"{first} IS NULL"] if self.nullable and not backward else []), params


LIST_ORDERS: dict[str, ListOrder] = {
    "cataloged": ListOrder(("c.cataloged_at", "c.file_name", "c.clip_id")),
    "name": ListOrder(("c.file_name", "c.clip_id")),
    "size": ListOrder(("c.size_bytes", "c.clip_id"), descending=True),
    "duration": ListOrder(("x.duration_seconds", "x.clip_id"), descending=True, nullable=True),
    "recorded": ListOrder(("x.recorded_at", "x.clip_id"), descending=True, nullable=True),
    "resolution": ListOrder(("x.height", "x.clip_id"), descending=True, nullable=True),
    "fps": ListOrder(("x.frame_rate", "x.clip_id"), descending=True, nullable=True),
    "quality": ListOrder(("x.quality_score", "x.clip_id"), descending=True, nullable=True),
}


@dataclass(frozen=True)
class Seek:
    """Keyset paging: the rows after `key` (before it when `backward`); key None starts at the first row (the
    last one). Rows come back in the order's own direction either way, each with its `sort_key`."""

    key: list[Any] | None = None
    backward: bool = False
