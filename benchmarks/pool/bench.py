"""Pool benchmark on PostgreSQL: our pool vs asyncpg's own pool vs SQLAlchemy's async pool.

Workloads (pools of 10 connections, all warm before timing):
- acquire_release: 5,000 sequential acquire + release round trips, no query.
- orm_traffic: the same 100 x 20 through ``Database.fetch_row`` (what the ORM
  calls): a connection that ran only ORM statements goes back without a reset.
- raw_sql_traffic: the same through ``Database.fetch_one`` (raw ``%s`` SQL): the
  connection is marked dirty and reset on return (one round trip, like
  asyncpg's default).
- tasks_select1: 100 concurrent tasks, each 20 times: acquire, ``SELECT 1``, release.

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
from dataclasses import dataclass
from typing import Any

import asyncpg

import reinhardt_db
from reinhardt_db.backends import connections
from reinhardt_db.conf import reset_settings
from reinhardt_db.pool import Pool, PoolOptions

from .._util import (
    Options,
    Row,
    best_of,
    create_pg_database,
    drop_pg_database,
    print_table,
    run,
)

POOL_SIZE = 10
WORKLOADS = ("acquire_release", "tasks_select1", "orm_traffic", "raw_sql_traffic")


@dataclass(frozen=True)
class PoolSizes:
    """How big one run is: sequential round trips, concurrent tasks and each one's queries."""

    sequential: int = 5000
    tasks: int = 100
    per_task: int = 20
    rounds: int = 5

    @classmethod
    def from_options(cls, options: Options) -> PoolSizes:
        """Defaults, or smoke sizes with ``--smoke``; ``--rounds`` wins over both."""
        base = cls(sequential=100, tasks=10, per_task=5, rounds=1) if options.smoke else cls()
        return cls(base.sequential, base.tasks, base.per_task, options.rounds or base.rounds)


async def _noop_reset(conn: Any) -> None:
    return None


async def _bench(url: str, sizes: PoolSizes, options: Options) -> list[Row]:
    rows: list[Row] = []

    def _tasks(one: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
        async def worker() -> None:
            for _ in range(sizes.per_task):
                await one()

        async def run_all() -> None:
            await asyncio.gather(*(worker() for _ in range(sizes.tasks)))

        return run_all

    def _sequential(one: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
        async def run_all() -> None:
            for _ in range(sizes.sequential):
                await one()

        return run_all

    async def record(
        workload: str, contender: str, fn: Callable[[], Awaitable[None]]
    ) -> None:
        if not options.wants(workload):
            return
        seconds = await best_of(fn, rounds=sizes.rounds)
        ops = sizes.sequential if workload == "acquire_release" else sizes.tasks * sizes.per_task
        rows.append(Row(workload, contender, seconds, ops))

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

            await record("acquire_release", label, _sequential(acq_rel))
            await record("tasks_select1", label, _tasks(select1))
            # asyncpg's pool does not know ORM from raw SQL: the same call for both.
            await record("orm_traffic", label, _tasks(row1))
            await record("raw_sql_traffic", label, _tasks(row1))
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
        await record("acquire_release", "SQLAlchemy AsyncEngine", _sequential(sa_acq_rel))
        await record("tasks_select1", "SQLAlchemy AsyncEngine", _tasks(sa_select1))
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
            await record("acquire_release", "reinhardt Pool", _sequential(r_acq_rel))
            await record("tasks_select1", "reinhardt Pool", _tasks(r_select1))
        finally:
            await pool.close()

        async def d_select1() -> None:
            await db.fetch_rows("SELECT 1")

        await asyncio.gather(*(d_select1() for _ in range(POOL_SIZE)))
        async def d_orm() -> None:
            await db.fetch_row("SELECT 1")

        async def d_raw() -> None:
            await db.fetch_one("SELECT 1")

        await record("tasks_select1", "reinhardt Database.fetch_rows", _tasks(d_select1))
        await record("orm_traffic", "reinhardt Database.fetch_row", _tasks(d_orm))
        await record("raw_sql_traffic", "reinhardt Database.fetch_one", _tasks(d_raw))
    finally:
        await reinhardt_db.close_all()
        reset_settings()
    return rows


def main(options: Options | None = None) -> None:
    """Run the pool benchmark on PostgreSQL and print the table."""
    options = options or Options()
    sizes = PoolSizes.from_options(options)

    async def go() -> None:
        url = await create_pg_database()
        try:
            rows = await _bench(url, sizes, options)
        finally:
            await drop_pg_database()
        print_table(
            f"Pool on PostgreSQL (pool of {POOL_SIZE}; best of {sizes.rounds})",
            rows,
            baseline="asyncpg pool",
        )

    run(go())


if __name__ == "__main__":
    main()
