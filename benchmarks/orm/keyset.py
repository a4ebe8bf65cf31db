"""Keyset pagination against OFFSET pagination, page time by depth (workload ``keyset_pages``).

Table ``bench_event`` (100,000 rows by default; ``--rows`` does not change it,
``--smoke`` makes it 2,000): ``created`` (three rows per second, so the primary
key breaks ties) with an index on ``(created, id)``. Pages of 100 rows in
``order_by("created")`` (the primary key appended).

Printed per backend:

- the whole walk: every page from the first to the last, by ``paginate(after=)``
  and by the raw driver running the same keyset SQL;
- the time of one page at several depths (rows skipped before it), best of
  ROUNDS, for four contenders: ``paginate(after=cursor)``, ``qs[d:d + 100]``
  (LIMIT/OFFSET), and the raw driver with each of the two statements. Keyset
  pages should cost the same at every depth; OFFSET pages grow with it, since
  the server reads and drops every skipped row.

The cursors are taken from the ORM's walk (untimed), so both keyset contenders
start each page at the same row.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from typing import Any

from reinhardt_db import models
from reinhardt_db.backends import connections
from reinhardt_db.models.schema import create_tables, drop_tables

from .._util import best_of_interleaved
from .raw import raw_driver

KEYSET = "keyset_pages"
ROWS = 100_000
SMOKE_ROWS = 2_000
PAGE = 100
DEPTH_FRACTIONS = (0.0, 0.01, 0.1, 0.5, 0.999)


class BenchEvent(models.Model):
    """The keyset benchmark's table."""

    created = models.DateTimeField()
    name = models.CharField(max_length=40)

    class Meta:
        app_label = "bench"
        db_table = "bench_event"
        indexes = [models.Index(fields=["created", "id"], name="bench_event_created_id")]


def _depths(rows: int) -> list[int]:
    """Rows skipped before each measured page: the first page, then deeper and deeper."""
    last = max(rows - PAGE, 0)
    return sorted({min(int(rows * f) // PAGE * PAGE, last) for f in DEPTH_FRACTIONS})


async def _fill(rows: int) -> None:
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    batch = 10_000
    for start in range(0, rows, batch):
        await BenchEvent.objects.bulk_create([
            BenchEvent(created=base + dt.timedelta(seconds=i // 3), name=f"event {i}")
            for i in range(start, min(start + batch, rows))
        ])


class _RawPages:
    """The same two statements the ORM sends, on the raw driver's connection."""

    def __init__(self, vendor: str, raw: Any) -> None:
        self.vendor = vendor
        self.raw = raw
        mark = {"postgresql": "$", "mysql": "%s", "sqlite": "?"}[vendor]

        def p(n: int) -> str:
            return f"${n}" if mark == "$" else mark

        cols = "id, created, name"
        self.keyset_sql = (
            f"SELECT {cols} FROM bench_event WHERE created >= {p(1)} AND "
            f"(created > {p(2)} OR (created = {p(3)} AND id > {p(4)})) "
            f"ORDER BY created, id LIMIT {p(5)}"
        )
        self.first_sql = f"SELECT {cols} FROM bench_event ORDER BY created, id LIMIT {p(1)}"
        self.offset_sql = (
            f"SELECT {cols} FROM bench_event ORDER BY created, id LIMIT {p(1)} OFFSET {p(2)}"
        )

    async def fetch(self, sql: str, *params: Any) -> list[Any]:
        if self.vendor == "postgresql":
            return list(await self.raw.conn.fetch(sql, *params))
        if self.vendor == "mysql":
            return list(await self.raw._exec(sql, params))
        return list(await self.raw.conn.execute_fetchall(sql, params))

    def _created(self, value: dt.datetime) -> Any:
        # What the ORM binds for the column (SQLite: its naive-UTC text).
        field = BenchEvent._meta.get_field("created")
        return field.get_db_prep_value(value, connections["default"].ops)

    async def keyset(self, after: tuple[dt.datetime, int] | None) -> list[Any]:
        if after is None:
            return await self.fetch(self.first_sql, PAGE + 1)
        created = self._created(after[0])
        return await self.fetch(self.keyset_sql, created, created, created, after[1], PAGE + 1)

    async def offset(self, depth: int) -> list[Any]:
        return await self.fetch(self.offset_sql, PAGE, depth)


async def keyset_backend(vendor: str, url: str, rounds: int, smoke: bool) -> None:
    """Fill the table, walk it both ways and print the page times by depth."""
    rows = SMOKE_ROWS if smoke else ROWS
    db = connections["default"]
    await drop_tables([BenchEvent], if_exists=True)
    await create_tables([BenchEvent])
    raw = await raw_driver(vendor, url)
    try:
        await _fill(rows)
        if vendor == "postgresql":
            await db.execute("ANALYZE bench_event", [])
        qs = BenchEvent.objects.order_by("created")
        pages = _RawPages(vendor, raw)

        # The whole walk, and the cursor in front of every page (for the depths below).
        cursors: dict[int, str | None] = {0: None}
        keys: dict[int, tuple[dt.datetime, int] | None] = {0: None}
        start = time.perf_counter()
        page = await qs.paginate(limit=PAGE)
        seen = len(page.items)
        while page.has_next:
            cursors[seen] = page.next_cursor
            keys[seen] = (page.items[-1].created, page.items[-1].pk)
            page = await qs.paginate(after=page.next_cursor, limit=PAGE)
            seen += len(page.items)
        orm_walk = time.perf_counter() - start
        assert seen == rows, (seen, rows)
        start = time.perf_counter()
        got, after = 0, None
        while True:
            batch = await pages.keyset(after)
            got += min(len(batch), PAGE)
            if len(batch) <= PAGE:
                break
            last = batch[PAGE - 1]
            after = (_aware(last[1]), last[0])
        raw_walk = time.perf_counter() - start
        assert got == rows, (got, rows)

        print(
            f"\n## keyset pagination on {vendor}: {rows:,} rows, pages of {PAGE} "
            f"(order_by('created'), pk tie-breaker; best of {rounds})\n"
        )
        print(
            f"whole walk, {rows // PAGE:,} pages: paginate() {orm_walk * 1000:.0f} ms "
            f"({orm_walk / (rows / PAGE) * 1e6:.0f} µs/page); raw keyset SQL "
            f"{raw_walk * 1000:.0f} ms ({raw_walk / (rows / PAGE) * 1e6:.0f} µs/page)\n"
        )
        print("| depth (rows skipped) | paginate() ms | OFFSET qs[d:d+100] ms | raw keyset ms "
              "| raw OFFSET ms |")
        print("|---:|---:|---:|---:|---:|")
        for depth in _depths(rows):
            cursor, key = cursors[depth], keys[depth]
            fns: dict[str, Callable[[], Awaitable[object]]] = {
                "keyset": lambda c=cursor: qs.paginate(after=c, limit=PAGE),
                "offset": lambda d=depth: qs[d:d + PAGE]._fetch_all(),
                "raw keyset": lambda k=key: pages.keyset(k),
                "raw offset": lambda d=depth: pages.offset(d),
            }
            best = await best_of_interleaved(fns, rounds=rounds, warmup=1)
            print(
                f"| {depth:,} | {best['keyset'] * 1000:.2f} | {best['offset'] * 1000:.2f} | "
                f"{best['raw keyset'] * 1000:.2f} | {best['raw offset'] * 1000:.2f} |"
            )
    finally:
        await raw.close()
        await drop_tables([BenchEvent], if_exists=True)


def _aware(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value
