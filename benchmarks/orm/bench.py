"""ORM benchmark: each workload through reinhardt_db and through the raw driver.

Table ``journal`` (10,000 rows): id, timestamp, level smallint (indexed),
text varchar(255) (indexed). On each backend, in the same run:

- insert_single: 1,000 creates in one transaction
- bulk_insert: 10,000 rows (multi-row INSERTs of 1,000 rows, ids returned where the backend can)
- fetch_all: 10,000 instances (raw: the driver's rows)
- filter_small: 1,000 queries ``level = k AND text LIKE 'x%' LIMIT 20``
- get_by_pk: 1,000 single-row lookups by primary key
- values_all: 10,000 dicts (raw: the driver's rows turned into dicts)
- update_single: 1,000 saves with ``update_fields=["text"]`` (raw: 1,000 UPDATEs)
- count_agg: 1,000 times a count and an average over ``level = k``

The ORM goes through our pool (a pooled connection per statement outside a
transaction); the raw driver uses one connection it holds throughout. Timings
are the best of 3 runs; the ratio is ORM time / raw time.
"""

from __future__ import annotations

import datetime as dt
import random
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

import reinhardt_db
from reinhardt_db import models
from reinhardt_db.backends import connections
from reinhardt_db.conf import reset_settings
from reinhardt_db.models.schema import create_tables, drop_tables

from .._util import (
    Row,
    best_of,
    create_mysql_database,
    create_pg_database,
    drop_mysql_database,
    drop_pg_database,
    print_table,
    run,
)
from .raw import RawDriver, raw_driver

ROWS = 10_000
LOOPS = 1_000
ROUNDS = 3

TARGETS = {  # PostgreSQL and MariaDB (ratio to the raw driver); SQLite: every ratio <= 2.0
    "insert_single": 1.3, "bulk_insert": 1.3, "fetch_all": 1.6, "filter_small": 1.3,
    "get_by_pk": 1.4, "values_all": 1.15, "update_single": 1.5, "count_agg": 1.2,
}


class Journal(models.Model):
    """The benchmark's table."""

    timestamp = models.DateTimeField()
    level = models.SmallIntegerField(db_index=True)
    text = models.CharField(max_length=255, db_index=True)

    class Meta:
        app_label = "bench"
        db_table = "journal"


def _rows(seed: int = 7) -> list[tuple[dt.datetime, int, str]]:
    rng = random.Random(seed)
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [
        (
            base + dt.timedelta(seconds=i),
            rng.randrange(5),
            rng.choice(letters) + "".join(rng.choice(letters) for _ in range(30)),
        )
        for i in range(ROWS)
    ]


async def _reset_table(raw: RawDriver, data: list[tuple[dt.datetime, int, str]]) -> None:
    await raw.truncate()
    await raw.bulk_insert(data)


async def _orm_workloads(
    raw: RawDriver, data: list[tuple[dt.datetime, int, str]]
) -> dict[str, Callable[[], Awaitable[Any]]]:
    db = connections["default"]
    rng = random.Random(11)
    keys = [(rng.randrange(5), rng.choice("abcdefghij")) for _ in range(LOOPS)]
    ids = await raw.ids()
    pks = [rng.choice(ids) for _ in range(LOOPS)]
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)

    async def insert_single() -> None:
        async with db.transaction():
            for i in range(LOOPS):
                await Journal.objects.create(timestamp=now, level=i % 5, text=f"x{i}")

    async def bulk_insert() -> None:
        await Journal.objects.bulk_create(
            [Journal(timestamp=t, level=lv, text=tx) for t, lv, tx in data], batch_size=1000
        )

    async def fetch_all() -> None:
        result = await Journal.objects.all()
        assert len(result) >= ROWS

    async def filter_small() -> None:
        for level, prefix in keys:
            await Journal.objects.filter(level=level, text__startswith=prefix)[:20]

    async def get_by_pk() -> None:
        for pk in pks:
            await Journal.objects.get(pk=pk)

    async def values_all() -> None:
        result = await Journal.objects.values()
        assert len(result) >= ROWS

    objs: list[Journal] = []

    async def update_single() -> None:
        if not objs:
            objs.extend(await Journal.objects.filter(pk__in=pks[:LOOPS]))
        for i, obj in enumerate(objs[:LOOPS]):
            obj.text = f"updated {i}"
            await obj.save(update_fields=["text"])

    async def count_agg() -> None:
        for level, _ in keys:
            qs = Journal.objects.filter(level=level)
            await qs.count()
            await qs.aggregate(avg=models.Avg("level"))

    return {
        "insert_single": insert_single, "bulk_insert": bulk_insert, "fetch_all": fetch_all,
        "filter_small": filter_small, "get_by_pk": get_by_pk, "values_all": values_all,
        "update_single": update_single, "count_agg": count_agg,
    }


async def _bench_backend(vendor: str, url: str) -> list[Row]:
    reinhardt_db.configure(databases={"default": url})
    rows: list[Row] = []
    data = _rows()
    try:
        await drop_tables([Journal], if_exists=True)
        await create_tables([Journal])
        raw = await raw_driver(vendor, url)
        try:
            await _reset_table(raw, data)
            orm = await _orm_workloads(raw, data)
            raw_work = await raw.workloads(data)
            for name in TARGETS:
                # Writes grow the table; start every measured workload from the same 10,000 rows.
                for label, fn in (("raw driver", raw_work[name]), ("reinhardt_db", orm[name])):
                    await _reset_table(raw, data)
                    if name == "bulk_insert":
                        await raw.truncate()

                        async def measured(fn: Callable[[], Awaitable[Any]] = fn) -> None:
                            await raw.truncate()
                            await fn()

                        seconds = await best_of(measured, rounds=ROUNDS, warmup=1)
                    else:
                        seconds = await best_of(fn, rounds=ROUNDS, warmup=1)
                    ops = ROWS if name in ("bulk_insert", "fetch_all", "values_all") else LOOPS
                    rows.append(Row(name, label, seconds, ops))
        finally:
            await raw.close()
            await drop_tables([Journal], if_exists=True)
    finally:
        await reinhardt_db.close_all()
        reset_settings()
    return rows


def main() -> None:
    """Run the ORM benchmark on every backend and print one table per backend."""
    vendors = [a for a in sys.argv[2:] if a in ("sqlite", "postgresql", "mysql")] or [
        "sqlite", "postgresql", "mysql"
    ]

    async def go() -> None:
        for vendor in vendors:
            if vendor == "postgresql":
                url = await create_pg_database()
            elif vendor == "mysql":
                url = await create_mysql_database()
            else:
                url = f"sqlite:///{tempfile.gettempdir()}/reinhardt_bench_journal.sqlite3"
            try:
                rows = await _bench_backend(vendor, url)
            finally:
                if vendor == "postgresql":
                    await drop_pg_database()
                elif vendor == "mysql":
                    await drop_mysql_database()
            print_table(f"ORM on {vendor} (best of {ROUNDS})", rows, baseline="raw driver")
            _print_verdicts(vendor, rows)
    run(go())
    if "postgresql" in vendors:
        # A fresh process: peak RSS of this one was already raised by the workloads above.
        subprocess.run([sys.executable, "-m", "benchmarks.orm.memory"], check=True)


def _print_verdicts(vendor: str, rows: list[Row]) -> None:
    raw = {r.workload: r.seconds for r in rows if r.contender == "raw driver"}
    misses = []
    for r in rows:
        if r.contender != "reinhardt_db":
            continue
        ratio = r.seconds / raw[r.workload]
        target = 2.0 if vendor == "sqlite" else TARGETS[r.workload]
        if ratio > target:
            misses.append(f"{r.workload} {ratio:.2f}x > {target}x")
    print("\ntargets: " + ("all met" if not misses else "MISSED: " + "; ".join(misses)))
