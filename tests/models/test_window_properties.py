"""Property: window functions and aggregates over windows give what Python computes.

Random rows (a small group number, a nullable integer value) and a random
window annotation (a numbering function, ``Lag``/``Lead``/``FirstValue``/``Ntile``,
or an aggregate, with or without a partition, ordering and a ``RowRange``
frame) run on every backend; the values are compared with the same window
computed in Python, row by row. Orderings place NULLs last and break ties by
the primary key, except for the functions about ties (``Rank DenseRank
PercentRank CumeDist``).
Sometimes the query also filters on the window value, which wraps it in a
subquery. The same query shapes recur across examples, so this also checks that
the compiled-statement cache never hands one shape's SQL to another.
"""

from __future__ import annotations

import asyncio
import math
import os
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reinhardt_db
from reinhardt_db import models
from reinhardt_db.conf import reset_settings
from reinhardt_db.models import (
    Avg,
    Count,
    CumeDist,
    DenseRank,
    F,
    FirstValue,
    Lag,
    Lead,
    Max,
    Min,
    Ntile,
    PercentRank,
    Rank,
    RowNumber,
    RowRange,
    Sum,
    Value,
    Window,
)
from reinhardt_db.models.schema import create_tables, drop_tables

EXAMPLES = int(os.environ.get("REINHARDT_WINDOW_EXAMPLES", "30"))


class Cell(models.Model):
    grp = models.IntegerField()
    val = models.IntegerField(null=True)

    class Meta:
        app_label = "tests_window_properties"


@dataclass(frozen=True)
class Spec:
    """One random window annotation and how to compute it in Python."""

    kind: str
    partition: bool
    descending: bool
    ordered: bool
    frame: tuple[int | None, int | None] | None
    arg: int  # Lag/Lead offset, Ntile buckets
    default: int | None  # Lag/Lead default
    limit: int | None  # filter(w__lte=limit) when set

    def expression(self) -> Window:
        order: list[Any] = []
        if self.ordered:
            val = F("val").desc(nulls_last=True) if self.descending else F("val").asc(
                nulls_last=True
            )
            order = [val] if self.kind in PEERS else [val, "id"]
        function: Any = {
            "row_number": lambda: RowNumber(),
            "rank": lambda: Rank(),
            "dense_rank": lambda: DenseRank(),
            "percent_rank": lambda: PercentRank(),
            "cume_dist": lambda: CumeDist(),
            "avg": lambda: Avg("val"),
            "ntile": lambda: Ntile(self.arg),
            "lag": lambda: Lag("val", self.arg, None if self.default is None else Value(
                self.default
            )),
            "lead": lambda: Lead("val", self.arg, None if self.default is None else Value(
                self.default
            )),
            "first_value": lambda: FirstValue("val"),
            "sum": lambda: Sum("val"),
            "count": lambda: Count("val"),
            "min": lambda: Min("val"),
            "max": lambda: Max("val"),
        }[self.kind]()
        frame = RowRange(*self.frame) if self.frame is not None else None
        return Window(
            function, partition_by="grp" if self.partition else None, order_by=order or None,
            frame=frame,
        )


ORDERED_ONLY = (
    "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
    "first_value",
)
#: Functions about ties: ordered by the value only.
PEERS = ("rank", "dense_rank", "percent_rank", "cume_dist")
FRAMED = ("first_value", "sum", "count", "min", "max", "avg")
AGGREGATES = ("sum", "count", "min", "max", "avg")

bounds = st.one_of(st.none(), st.integers(-2, 2))


@st.composite
def specs(draw: Any) -> Spec:
    kind = draw(st.sampled_from(ORDERED_ONLY + AGGREGATES))
    ordered = True if kind in ORDERED_ONLY else draw(st.booleans())
    frame = None
    if kind in FRAMED and ordered and draw(st.booleans()):
        start, end = draw(bounds), draw(bounds)
        if start is not None and end is not None and start > end:
            start, end = end, start
        frame = (start, end)
    return Spec(
        kind=kind,
        partition=draw(st.booleans()),
        descending=draw(st.booleans()),
        ordered=ordered,
        frame=frame,
        arg=draw(st.integers(1, 3)),
        default=draw(st.one_of(st.none(), st.integers(-5, 5))) if kind in ("lag", "lead") else None,
        limit=draw(st.one_of(st.none(), st.integers(0, 4))),
    )


rows = st.lists(
    st.tuples(st.integers(0, 2), st.one_of(st.none(), st.integers(-3, 3))), max_size=12
)


def _sort_key(spec: Spec, row: tuple[int, int, int | None]) -> tuple[Any, ...]:
    pk, _, val = row
    if val is None:
        return (1, 0, pk)
    return (0, -val if spec.descending else val, pk)


def expected(spec: Spec, data: list[tuple[int, int, int | None]]) -> dict[int, Any]:
    """``{pk: window value}`` computed in Python."""
    partitions: dict[int, list[tuple[int, int, int | None]]] = {}
    for row in data:
        partitions.setdefault(row[1] if spec.partition else 0, []).append(row)
    found: dict[int, Any] = {}
    for members in partitions.values():
        if spec.ordered:
            members = sorted(members, key=lambda r: _sort_key(spec, r))
        size = len(members)
        peers = [_sort_key(spec, r)[:2] for r in members]
        for i, (pk, _, _) in enumerate(members):
            found[pk] = _value(spec, members, peers, i, size)
    return found


def _value(
    spec: Spec, members: list[tuple[int, int, int | None]], peers: list[Any], i: int, size: int
) -> Any:
    kind = spec.kind
    values = [r[2] for r in members]
    if kind == "row_number":
        return i + 1
    if kind == "rank":
        return 1 + sum(1 for p in peers if p < peers[i])
    if kind == "dense_rank":
        return 1 + len({p for p in peers if p < peers[i]})
    if kind == "percent_rank":
        return sum(1 for p in peers if p < peers[i]) / (size - 1) if size > 1 else 0.0
    if kind == "cume_dist":
        return sum(1 for p in peers if p <= peers[i]) / size
    if kind == "ntile":
        buckets = spec.arg
        base, extra = divmod(size, buckets)
        bucket, start = 0, 0
        while True:
            length = base + (1 if bucket < extra else 0)
            if i < start + length:
                return bucket + 1
            start += length
            bucket += 1
    if kind in ("lag", "lead"):
        j = i - spec.arg if kind == "lag" else i + spec.arg
        return values[j] if 0 <= j < size else spec.default
    # Frame: without ORDER BY the whole partition; with it, by default up to the
    # current row (ties are broken by the primary key, so no peers).
    if not spec.ordered:
        low, high = 0, size - 1
    elif spec.frame is None:
        low, high = 0, i
    else:
        start, end = spec.frame
        low = 0 if start is None else max(0, i + start)
        high = size - 1 if end is None else min(size - 1, i + end)
    frame = values[low:high + 1] if low <= high else []
    if kind == "first_value":
        return frame[0] if frame else None
    present = [v for v in frame if v is not None]
    if kind == "count":
        return len(present)
    if not present:
        return None
    if kind == "avg":
        return sum(present) / len(present)
    return {"sum": sum, "min": min, "max": max}[kind](present)


async def _check(data: list[tuple[int, int | None]], spec: Spec) -> None:
    await Cell.objects.all().delete()
    stored = await Cell.objects.bulk_create([Cell(grp=g, val=v) for g, v in data])
    rows = [(c.pk, c.grp, c.val) for c in stored]
    want = expected(spec, rows)
    qs = Cell.objects.annotate(w=spec.expression())
    if spec.limit is not None:
        qs = qs.filter(w__lte=spec.limit)
        want = {pk: v for pk, v in want.items() if v is not None and v <= spec.limit}
    got = dict(await qs.values_list("pk", "w"))
    assert got.keys() == want.keys(), f"{spec!r} on {rows!r}"
    for pk, value in got.items():
        assert _same(value, want[pk]), f"{spec!r} on {rows!r}: row {pk} {value!r} != {want[pk]!r}"


def _same(got: Any, want: Any) -> bool:
    """Floats (averages, distributions) equal within a relative 1e-9; anything else exactly.

    Rounding both sides to a number of places is not enough: two values a few
    ulps apart can round to neighbouring digits (0.5454545455 vs ...4549).
    """
    if isinstance(got, float) or isinstance(want, float):
        return (
            got is not None and want is not None
            and math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-12)
        )
    return bool(got == want)


def test_windows_compute_what_python_computes(backend_url: str, backend_name: str) -> None:
    reinhardt_db.configure(databases={"default": backend_url})
    try:
        with asyncio.Runner() as runner:
            runner.run(drop_tables([Cell], if_exists=True))
            runner.run(create_tables([Cell]))
            examples = 0

            @settings(
                max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            )
            @given(data=rows, spec=specs())
            def check(data: list[tuple[int, int | None]], spec: Spec) -> None:
                nonlocal examples
                examples += 1
                runner.run(_check(data, spec))

            try:
                check()
                assert examples >= EXAMPLES
            finally:
                runner.run(drop_tables([Cell], if_exists=True))
                runner.run(reinhardt_db.close_all())
    finally:
        reset_settings()
