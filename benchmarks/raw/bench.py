"""Raw SQL benchmark: ``connections[alias].fetch_one/fetch_all/execute`` vs the driver's own call.

Table ``raw_items`` (1,000 rows: id, name, value). On each backend, the same
SQL (``%s`` placeholders for reinhardt_db, the driver's own paramstyle for the
driver), 1,000 calls per workload, on one connection held throughout (the
driver's connection; ``db.connection()`` for reinhardt_db):

- raw_fetch_one: ``SELECT id, name, value FROM raw_items WHERE id = %s``
  (asyncpg ``fetchrow``; aiomysql and aiosqlite: a cursor's ``execute`` + ``fetchone``)
- raw_fetch_all: ``SELECT id, name, value FROM raw_items WHERE id > %s ORDER BY id LIMIT 20``
- raw_execute: ``UPDATE raw_items SET value = value + 1 WHERE id = %s``, the 1,000 in
  one transaction (so that the disk's flush per commit does not drown the difference)

``main(options)`` takes the command line's options object when there is one
(``backends``, ``wants(workload)``, ``rounds``, ``smoke``), read by name.

Target: every ratio at most 1.1x. The pooled cost of raw SQL (each call
borrows a connection and resets its session on return) is in the pool
benchmark (``raw_sql_traffic``).
"""

from __future__ import annotations

import gc
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiomysql
import aiosqlite
import asyncpg

import reinhardt_db
from reinhardt_db.backends import Database, connections
from reinhardt_db.conf import parse_database_url, reset_settings

from .._util import (
    Row,
    create_mysql_database,
    create_pg_database,
    drop_mysql_database,
    drop_pg_database,
    print_table,
    run,
)

LOOPS = 1_000
ROWS = 1_000
ROUNDS = 7
TARGET = 1.1
VENDORS = ("sqlite", "postgresql", "mysql")
WORKLOADS = ("raw_fetch_one", "raw_fetch_all", "raw_execute")

ONE = "SELECT id, name, value FROM raw_items WHERE id = %s"
ALL = "SELECT id, name, value FROM raw_items WHERE id > %s ORDER BY id LIMIT 20"
UPDATE = "UPDATE raw_items SET value = value + 1 WHERE id = %s"

Workload = Callable[[], Awaitable[Any]]
Timing = tuple[float, float]  # (wall seconds, CPU seconds)


async def _best_of_pair(a: Workload, b: Workload, rounds: int) -> tuple[Timing, Timing]:
    """Best wall and CPU times of ``a`` and ``b`` over ``rounds`` rounds run alternately.

    Alternating keeps a burst of load from another process out of one side
    only. The CPU time (this process's, the driver's threads included) is what
    the library adds; on a loaded machine it is steadier than the wall clock.
    """
    best = {"a": [float("inf"), float("inf")], "b": [float("inf"), float("inf")]}
    for _ in range(rounds):
        for key, fn in (("a", a), ("b", b)):
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            await fn()
            best[key][0] = min(best[key][0], time.perf_counter() - wall)
            best[key][1] = min(best[key][1], time.process_time() - cpu)
    return (best["a"][0], best["a"][1]), (best["b"][0], best["b"][1])


def _keys() -> list[int]:
    return [(i * 7919) % ROWS + 1 for i in range(LOOPS)]


async def _driver_workloads(vendor: str, url: str) -> tuple[dict[str, Workload], Any]:
    """The driver's own calls on one connection it holds; returns (workloads, closer)."""
    keys = _keys()
    parsed = parse_database_url(url)
    if vendor == "postgresql":
        conn = await asyncpg.connect(url)
        one, many, upd = (s.replace("%s", "$1") for s in (ONE, ALL, UPDATE))

        async def pg_one() -> None:
            for k in keys:
                await conn.fetchrow(one, k)

        async def pg_all() -> None:
            for k in keys:
                await conn.fetch(many, k % 900)

        async def pg_update() -> None:
            async with conn.transaction():
                for k in keys:
                    await conn.execute(upd, k)

        return {"raw_fetch_one": pg_one, "raw_fetch_all": pg_all, "raw_execute": pg_update}, conn.close
    if vendor == "mysql":
        conn = await aiomysql.connect(
            host=parsed.host, port=parsed.port or 3306, user=parsed.user, password="",
            db=parsed.database, autocommit=True,
        )

        async def my_one() -> None:
            for k in keys:
                async with conn.cursor() as cur:
                    await cur.execute(ONE, (k,))
                    await cur.fetchone()

        async def my_all() -> None:
            for k in keys:
                async with conn.cursor() as cur:
                    await cur.execute(ALL, (k % 900,))
                    await cur.fetchall()

        async def my_update() -> None:
            await conn.begin()
            for k in keys:
                async with conn.cursor() as cur:
                    await cur.execute(UPDATE, (k,))
            await conn.commit()

        async def my_close() -> None:
            conn.close()

        return {"raw_fetch_one": my_one, "raw_fetch_all": my_all, "raw_execute": my_update}, my_close
    db = await aiosqlite.connect(parsed.database, isolation_level=None)
    one, many, upd = (s.replace("%s", "?") for s in (ONE, ALL, UPDATE))

    async def lite_one() -> None:
        for k in keys:
            async with db.execute(one, (k,)) as cur:
                await cur.fetchone()

    async def lite_all() -> None:
        for k in keys:
            async with db.execute(many, (k % 900,)) as cur:
                await cur.fetchall()

    async def lite_update() -> None:
        await db.execute("BEGIN IMMEDIATE")
        for k in keys:
            await db.execute(upd, (k,))
        await db.execute("COMMIT")

    return {"raw_fetch_one": lite_one, "raw_fetch_all": lite_all, "raw_execute": lite_update}, db.close


def _ours(db: Database) -> dict[str, Workload]:
    keys = _keys()

    async def one() -> None:
        async with db.connection():
            for k in keys:
                await db.fetch_one(ONE, [k])

    async def many() -> None:
        async with db.connection():
            for k in keys:
                await db.fetch_all(ALL, [k % 900])

    async def update() -> None:
        async with db.transaction():
            for k in keys:
                await db.execute(UPDATE, [k])

    return {"raw_fetch_one": one, "raw_fetch_all": many, "raw_execute": update}


async def _bench_backend(
    vendor: str, url: str, workloads: list[str], rounds: int
) -> tuple[list[Row], list[Row]]:
    reinhardt_db.configure(databases={"default": url})
    rows: list[Row] = []
    cpu_rows: list[Row] = []
    try:
        db = connections["default"]
        await db.execute("DROP TABLE IF EXISTS raw_items")
        await db.execute(
            "CREATE TABLE raw_items (id INTEGER PRIMARY KEY, name VARCHAR(40), value INTEGER)"
        )
        await db.executemany(
            "INSERT INTO raw_items (id, name, value) VALUES (%s, %s, %s)",
            [(i, f"item {i}", i) for i in range(1, ROWS + 1)],
        )
        driver, close = await _driver_workloads(vendor, url)
        ours = _ours(db)
        for name in workloads:
            await driver[name]()
            await ours[name]()
        try:
            for name in workloads:
                theirs, mine = await _best_of_pair(driver[name], ours[name], rounds)
                rows.append(Row(name, "driver", theirs[0], LOOPS))
                rows.append(Row(name, "reinhardt_db", mine[0], LOOPS))
                cpu_rows.append(Row(name, "driver", theirs[1], LOOPS))
                cpu_rows.append(Row(name, "reinhardt_db", mine[1], LOOPS))
        finally:
            await close()
            await db.execute("DROP TABLE IF EXISTS raw_items")
    finally:
        await reinhardt_db.close_all()
        reset_settings()
    return rows, cpu_rows


def main(options: Any = None) -> None:
    """Run the raw SQL benchmark and print one table per backend.

    Backends: those in ``options.backends``, else those named on the command
    line, else all three. Workloads: those ``options.wants()``, else all.
    """
    if options is not None:
        vendors = [v for v in VENDORS if v in getattr(options, "backends", VENDORS)]
        wants = getattr(options, "wants", lambda workload: True)
        rounds = getattr(options, "rounds", None) or (1 if getattr(options, "smoke", False) else ROUNDS)
    else:
        vendors = [a for a in sys.argv[1:] if a in VENDORS] or list(VENDORS)
        wants, rounds = (lambda workload: True), ROUNDS
    chosen = [w for w in WORKLOADS if wants(w)]
    if not chosen:
        return

    async def go() -> None:
        for vendor in vendors:
            if vendor == "postgresql":
                url = await create_pg_database()
            elif vendor == "mysql":
                url = await create_mysql_database()
            else:
                url = f"sqlite:///{tempfile.gettempdir()}/reinhardt_bench_raw.sqlite3"
            try:
                rows, cpu_rows = await _bench_backend(vendor, url, chosen, rounds)
            finally:
                if vendor == "postgresql":
                    await drop_pg_database()
                elif vendor == "mysql":
                    await drop_mysql_database()
            print_table(f"Raw SQL on {vendor} (held connection; best of {rounds})", rows,
                        baseline="driver")
            print_table(f"Raw SQL on {vendor}: CPU time of this process", cpu_rows,
                        baseline="driver")
            base = {r.workload: r.seconds for r in rows if r.contender == "driver"}
            misses = [
                f"{r.workload} {r.seconds / base[r.workload]:.2f}x"
                for r in rows
                if r.contender == "reinhardt_db" and r.seconds / base[r.workload] > TARGET
            ]
            print(f"\ntarget {TARGET}x: " + ("all met" if not misses else "MISSED: " + "; ".join(misses)))

    run(go())


if __name__ == "__main__":
    main()
