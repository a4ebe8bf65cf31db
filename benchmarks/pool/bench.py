"""Pool benchmark on PostgreSQL: our pool vs asyncpg's own pool vs SQLAlchemy's async pool.

Workloads (pools of 10 connections, all warm before timing):
- acquire_release: 5,000 sequential acquire + release round trips, no query.
- tasks_select1: 100 concurrent tasks, each 20 times: acquire, ``SELECT 1``, release.
- orm_traffic: the same 100 x 20 through ``Database.fetch_row`` (what the ORM
  calls): a connection that ran only ORM statements goes back without a reset.
- raw_sql_traffic: the same through ``Database.fetch_one`` (raw ``%s`` SQL): the
  connection is marked dirty and reset on return (one round trip, like
  asyncpg's default).

Contenders:
- asyncpg pool (its defaults: on release it runs a reset query, one round trip).
- asyncpg pool with ``reset`` set to a no-op: the pool mechanics alone.
- SQLAlchemy AsyncEngine (QueuePool; ``rollback`` on return, its default).
- reinhardt Pool: our generic pool with the PostgreSQL connection manager
  (``test_before_acquire=True``; statements through ``conn.trusted_raw``, so
  release resets only an open transaction).
- reinhardt Database: ``fetch_rows``/``fetch_row`` (the ORM's path) and
  ``fetch_one`` (raw SQL), pool included.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

import reinhardt_db
from reinhardt_db.backends import connections
from reinhardt_db.conf import reset_settings
from reinhardt_db.pool import Pool, PoolOptions

from .._util import Row, best_of, create_pg_database, drop_pg_database, print_table, run

POOL_SIZE = 10
SEQUENTIAL = 5000
TASKS, PER_TASK = 100, 20


async def _noop_reset(conn: Any) -> None:
    return None


def _tasks(one: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
    async def worker() -> None:
        for _ in range(PER_TASK):
            await one()

    async def run_all() -> None:
        await asyncio.gather(*(worker() for _ in range(TASKS)))

    return run_all


def _ops(workload: str) -> int:
    return SEQUENTIAL if workload == "acquire_release" else TASKS * PER_TASK


def _sequential(one: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
    async def run_all() -> None:
        for _ in range(SEQUENTIAL):
            await one()

    return run_all


async def _bench(url: str) -> list[Row]:
    rows: list[Row] = []

    def record(workload: str, contender: str, seconds: float) -> None:
        rows.append(Row(workload, contender, seconds, _ops(workload)))

    # asyncpg's own pool, default and with reset disabled.
    for label, extra in (("asyncpg pool", {}), ("asyncpg pool (no reset)", {"reset": _noop_reset})):
        apool = await asyncpg.create_pool(url, min_size=POOL_SIZE, max_size=POOL_SIZE, **extra)
        try:
            async def acq_rel(p: Any = apool) -> None:
                c = await p.acquire()
                await p.release(c)

            async def select1(p: Any = apool) -> None:
                async with p.acquire() as c:
                    await c.fetchval("SELECT 1")

            async def row1(p: Any = apool) -> None:
                async with p.acquire() as c:
                    await c.fetchrow("SELECT 1")

            record("acquire_release", label, await best_of(_sequential(acq_rel)))
            record("tasks_select1", label, await best_of(_tasks(select1)))
            # asyncpg's pool does not know ORM from raw SQL: the same call for both.
            record("orm_traffic", label, await best_of(_tasks(row1)))
            record("raw_sql_traffic", label, await best_of(_tasks(row1)))
        finally:
            await apool.close()

    # SQLAlchemy's async engine (QueuePool).
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(
        url.replace("postgresql://", "postgresql+asyncpg://"), pool_size=POOL_SIZE, max_overflow=0
    )
    try:
        async def sa_acq_rel() -> None:
            async with engine.connect():
                pass

        async def sa_select1() -> None:
            async with engine.connect() as c:
                await c.exec_driver_sql("SELECT 1")

        await asyncio.gather(*(sa_acq_rel() for _ in range(POOL_SIZE)))
        record("acquire_release", "SQLAlchemy AsyncEngine", await best_of(_sequential(sa_acq_rel)))
        record("tasks_select1", "SQLAlchemy AsyncEngine", await best_of(_tasks(sa_select1)))
    finally:
        await engine.dispose()

    # Ours: the bare pool, then the Database layer on top of it.
    reinhardt_db.configure(
        databases={"default": {"url": url, "pool": {"max_size": POOL_SIZE, "min_size": POOL_SIZE}}}
    )
    try:
        db = connections["default"]
        manager = db.driver.connection_manager()
        pool: Pool[Any] = Pool(manager, PoolOptions(max_size=POOL_SIZE, min_size=POOL_SIZE))
        try:
            async def r_acq_rel() -> None:
                c = await pool.acquire()
                await pool.release(c)

            async def r_select1() -> None:
                c = await pool.acquire()
                try:
                    await c.trusted_raw.fetchval("SELECT 1")
                finally:
                    await pool.release(c)

            await asyncio.gather(*(r_select1() for _ in range(POOL_SIZE)))
            record("acquire_release", "reinhardt Pool", await best_of(_sequential(r_acq_rel)))
            record("tasks_select1", "reinhardt Pool", await best_of(_tasks(r_select1)))
        finally:
            await pool.close()

        async def d_select1() -> None:
            await db.fetch_rows("SELECT 1")

        async def d_orm() -> None:
            await db.fetch_row("SELECT 1")

        async def d_raw() -> None:
            await db.fetch_one("SELECT 1")

        await asyncio.gather(*(d_select1() for _ in range(POOL_SIZE)))
        record("tasks_select1", "reinhardt Database.fetch_rows", await best_of(_tasks(d_select1)))
        record("orm_traffic", "reinhardt Database.fetch_row", await best_of(_tasks(d_orm)))
        record("raw_sql_traffic", "reinhardt Database.fetch_one", await best_of(_tasks(d_raw)))
    finally:
        await reinhardt_db.close_all()
        reset_settings()
    return rows


def main() -> None:
    """Run the pool benchmark on PostgreSQL and print the table."""

    async def go() -> None:
        url = await create_pg_database()
        try:
            rows = await _bench(url)
        finally:
            await drop_pg_database()
        print_table(
            "Pool on PostgreSQL (pool of 10; best of 5)", rows, baseline="asyncpg pool"
        )

    run(go())


if __name__ == "__main__":
    main()
