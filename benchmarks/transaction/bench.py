"""Transaction benchmark: atomic() against the raw driver's BEGIN ... COMMIT.

Workloads (LOOPS is 1,000 by default), on the ORM benchmark's ``journal``
table (``orm/bench.py``), each compared with the same work on one held driver
connection:

- ``atomic_blocks``: LOOPS ``atomic()`` blocks with one ``create()`` each
  (raw: LOOPS times BEGIN, INSERT ... RETURNING, COMMIT);
- ``insert_in_atomic``: LOOPS ``create()`` inside one ``atomic()`` (raw: the
  same INSERTs between one BEGIN and COMMIT);
- ``update_in_atomic``: LOOPS ``save(update_fields=["text"])`` of distinct
  rows inside one ``atomic()`` (raw: the same UPDATEs in one transaction).

The ORM goes through its pool (the block holds one pooled connection);
timings are the best of ROUNDS runs after a warm-up, the contenders taking
turns; after each run the table is checked for the work done.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

import reinhardt_db
from reinhardt_db import transaction
from reinhardt_db.conf import reset_settings
from reinhardt_db.models.schema import create_tables, drop_tables

from .._util import (
    BENCH_DB,
    Options,
    Row,
    best_of_interleaved,
    create_mysql_database,
    create_pg_database,
    drop_mysql_database,
    drop_pg_database,
    group_by_workload,
    print_table,
    run,
)
from ..orm.bench import Journal
from ..orm.plan import Plan, Sizes, make_plan, make_rows
from ..orm.raw import RAW, RawDriver, raw_driver

ORM = "reinhardt_db"
Workloads = dict[str, Callable[[], Awaitable[Any]]]

WORKLOADS = {
    "atomic_blocks": "LOOPS atomic() blocks, one insert each (raw: BEGIN/INSERT/COMMIT)",
    "insert_in_atomic": "LOOPS creates inside one atomic()",
    "update_in_atomic": "LOOPS saves of distinct rows inside one atomic()",
}
# Ratio targets against the raw driver (issue 7), on PostgreSQL; elsewhere reported only.
TARGETS = {"atomic_blocks": 1.2, "insert_in_atomic": 1.2, "update_in_atomic": 1.2}


def _orm_workloads(plan: Plan) -> Workloads:
    runs = itertools.count()
    objs: list[Journal] = []

    async def atomic_blocks() -> None:
        for i in range(len(plan.keys)):
            async with transaction.atomic():
                await Journal.objects.create(timestamp=plan.now, level=i % 5, text=f"x{i}")

    async def insert_in_atomic() -> None:
        async with transaction.atomic():
            for i in range(len(plan.keys)):
                await Journal.objects.create(timestamp=plan.now, level=i % 5, text=f"x{i}")

    async def update_in_atomic() -> None:
        if not objs:  # on the warm-up run, so never timed
            by_pk = {o.pk: o for o in await Journal.objects.filter(pk__in=plan.update_pks)}
            objs.extend(by_pk[pk] for pk in plan.update_pks)
        n = next(runs)
        async with transaction.atomic():
            for i, obj in enumerate(objs):
                obj.text = f"updated {n}-{i}"
                await obj.save(update_fields=["text"])

    return {
        "atomic_blocks": atomic_blocks, "insert_in_atomic": insert_in_atomic,
        "update_in_atomic": update_in_atomic,
    }


def _raw_workloads(raw: RawDriver, plan: Plan) -> Workloads:
    """The same work on the driver, as a user writes it: explicit BEGIN and COMMIT."""
    conn: Any = getattr(raw, "conn")  # noqa: B009 - every RawDriver holds one connection
    loops = len(plan.keys)
    runs = itertools.count()
    vendor = raw.vendor
    if vendor == "postgresql":
        now: Any = plan.now
        insert = "INSERT INTO journal (timestamp, level, text) VALUES ($1, $2, $3) RETURNING id"

        async def begin() -> None:
            await conn.execute("BEGIN")

        async def commit() -> None:
            await conn.execute("COMMIT")

        async def add(i: int) -> None:
            await conn.fetchrow(insert, now, i % 5, f"x{i}")

        async def change(text: str, pk: int) -> None:
            await conn.execute("UPDATE journal SET text = $1 WHERE id = $2", text, pk)
    elif vendor == "mysql":
        now = plan.now.replace(tzinfo=None)

        async def begin() -> None:
            await conn.begin()

        async def commit() -> None:
            await conn.commit()

        async def add(i: int) -> None:
            async with conn.cursor() as cur:
                await cur.execute(
                    "INSERT INTO journal (timestamp, level, text) VALUES (%s, %s, %s)",
                    (now, i % 5, f"x{i}"),
                )

        async def change(text: str, pk: int) -> None:
            async with conn.cursor() as cur:
                await cur.execute("UPDATE journal SET text = %s WHERE id = %s", (text, pk))
    else:
        from ..orm.raw import _sqlite_text

        now = _sqlite_text(plan.now)

        async def begin() -> None:
            await conn.execute("BEGIN IMMEDIATE")

        async def commit() -> None:
            await conn.execute("COMMIT")

        async def add(i: int) -> None:
            await conn.execute_fetchall(
                "INSERT INTO journal (timestamp, level, text) VALUES (?, ?, ?) RETURNING id",
                (now, i % 5, f"x{i}"),
            )

        async def change(text: str, pk: int) -> None:
            await conn.execute("UPDATE journal SET text = ? WHERE id = ?", (text, pk))

    async def atomic_blocks() -> None:
        for i in range(loops):
            await begin()
            await add(i)
            await commit()

    async def insert_in_atomic() -> None:
        await begin()
        for i in range(loops):
            await add(i)
        await commit()

    async def update_in_atomic() -> None:
        n = next(runs)
        await begin()
        for i, pk in enumerate(plan.update_pks):
            await change(f"updated {n}-{i}", pk)
        await commit()

    return {
        "atomic_blocks": atomic_blocks, "insert_in_atomic": insert_in_atomic,
        "update_in_atomic": update_in_atomic,
    }


async def _check_work(raw: RawDriver, workload: str, contender: str, sizes: Sizes) -> None:
    """Raise if one run of a contender did not do the workload's work."""
    where, want = {
        "atomic_blocks": ("1 = 1", sizes.rows + sizes.loops),
        "insert_in_atomic": ("1 = 1", sizes.rows + sizes.loops),
        "update_in_atomic": ("text LIKE 'updated %'", sizes.loops),
    }[workload]
    got = await raw.count(where)
    if got != want:
        raise RuntimeError(
            f"{workload} by {contender} on {raw.vendor}: {got} rows where {where}, "
            f"expected {want}"
        )


async def bench_backend(
    vendor: str, url: str, sizes: Sizes, workloads: list[str] | None = None
) -> list[Row]:
    """Time ``workloads`` (default: all) on one backend; return the rows."""
    chosen = [w for w in WORKLOADS if workloads is None or w in workloads]
    reinhardt_db.configure(databases={"default": url})
    rows: list[Row] = []
    data = make_rows(sizes.rows)
    try:
        await drop_tables([Journal], if_exists=True)
        await create_tables([Journal])
        raw = await raw_driver(vendor, url)
        try:
            async def reset() -> None:
                await raw.truncate()
                await raw.bulk_insert(data)

            await reset()
            plan = make_plan(await raw.ids(), sizes.loops)
            contenders = {RAW: _raw_workloads(raw, plan), ORM: _orm_workloads(plan)}
            for name in chosen:
                fns = {c: work[name] for c, work in contenders.items()}

                async def verify(contender: str, name: str = name) -> None:
                    await _check_work(raw, name, contender, sizes)

                seconds = await best_of_interleaved(
                    fns, rounds=sizes.rounds, warmup=1, setup=reset, verify=verify
                )
                rows += [Row(name, c, seconds[c], sizes.loops) for c in fns]
        finally:
            await raw.close()
            await drop_tables([Journal], if_exists=True)
    finally:
        await reinhardt_db.close_all()
        reset_settings()
    return rows


def _print_verdicts(vendor: str, rows: list[Row]) -> None:
    if vendor != "postgresql":
        return
    misses = []
    for workload, group in group_by_workload(rows).items():
        ours = next(r.seconds for r in group if r.contender == ORM)
        base = next(r.seconds for r in group if r.contender == RAW)
        if ours / base > TARGETS[workload]:
            misses.append(f"{workload} {ours / base:.2f}x > {TARGETS[workload]}x")
    print("\ntargets: " + ("all met" if not misses else "MISSED: " + "; ".join(misses)))


def main(options: Options) -> None:
    """Run the transaction benchmark on the chosen backends, one table per backend."""
    sizes = Sizes.from_options(options)
    workloads = [w for w in WORKLOADS if options.wants(w)]

    async def go() -> None:
        for vendor in options.backends:
            if not workloads:
                break
            if vendor == "postgresql":
                url = await create_pg_database()
            elif vendor == "mysql":
                url = await create_mysql_database()
            else:
                url = f"sqlite:///{tempfile.gettempdir()}/{BENCH_DB}_tx.sqlite3"
            try:
                rows = await bench_backend(vendor, url, sizes, workloads)
            finally:
                if vendor == "postgresql":
                    await drop_pg_database()
                elif vendor == "mysql":
                    await drop_mysql_database()
                else:
                    path = url.removeprefix("sqlite:///")
                    for suffix in ("", "-wal", "-shm"):
                        with contextlib.suppress(FileNotFoundError):
                            os.remove(path + suffix)
            print_table(
                f"transactions on {vendor} ({sizes.loops:,} loops; best of {sizes.rounds})",
                rows, baseline=[RAW],
            )
            if options.smoke:
                print("\nsmoke run: sizes too small for the ratios to mean anything")
            else:
                _print_verdicts(vendor, rows)

    run(go())
