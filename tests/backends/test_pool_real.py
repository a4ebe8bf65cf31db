"""The pool under load, faults and cancellation, against the real servers.

The server's own view (pg_stat_activity, the MariaDB processlist) is the
judge of how many connections are open; the pool's events are the judge of
what it created and closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiomysql
import asyncpg

import reinhardt_db
from reinhardt_db import exceptions as exc
from reinhardt_db.backends import Database, connections
from reinhardt_db.conf import parse_database_url, reset_settings
from reinhardt_db.pool import ConnectionClosed, ConnectionCreated, PoolEvent

SLEEP_SQL = {
    "postgresql": "SELECT pg_sleep(%s)",
    "mysql": "SELECT SLEEP(%s)",
    # SQLite has no sleep; a short recursive count holds the connection briefly.
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < %s * 2000000)"
    " SELECT count(*) FROM c",
}


class ServerView:
    """Count and kill this test's sessions from a separate admin connection."""

    def __init__(self, vendor: str, url: str, tag: str) -> None:
        self.vendor, self.url, self.tag = vendor, url, tag
        self.raw: Any = None
        self.sqlite_conns: list[Any] = []

    async def open(self) -> None:
        parsed = parse_database_url(self.url)
        if self.vendor == "postgresql":
            self.raw = await asyncpg.connect(
                host=parsed.host, port=parsed.port, user=parsed.user, database=parsed.database
            )
        elif self.vendor == "mysql":
            # No default database: the admin connection is not one of the counted ones.
            self.raw = await aiomysql.connect(
                host=parsed.host, port=parsed.port, user=parsed.user,
                password=parsed.password or "", autocommit=True,
            )

    async def close(self) -> None:
        if self.vendor == "postgresql":
            await self.raw.close()
        elif self.vendor == "mysql":
            self.raw.close()

    async def count(self) -> int | None:
        if self.vendor == "postgresql":
            return int(await self.raw.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", self.tag
            ))
        if self.vendor == "mysql":
            async with self.raw.cursor() as cur:
                await cur.execute(
                    "SELECT count(*) FROM information_schema.processlist WHERE db = %s",
                    (parse_database_url(self.url).database,),
                )
                (n,) = await cur.fetchone()
                return int(n)
        return None

    async def kill_all(self) -> int:
        if self.vendor == "postgresql":
            rows = await self.raw.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                self.tag,
            )
            return len(rows)
        if self.vendor == "mysql":
            async with self.raw.cursor() as cur:
                await cur.execute(
                    "SELECT id FROM information_schema.processlist WHERE db = %s",
                    (parse_database_url(self.url).database,),
                )
                ids = [row[0] for row in await cur.fetchall()]
                for session in ids:
                    with contextlib.suppress(Exception):
                        await cur.execute(f"KILL {int(session)}")
            return len(ids)
        # SQLite has no server: abort each connection's running statement and
        # stop its worker thread, under the pool's feet.
        for conn in self.sqlite_conns:
            if conn._connection is not None:
                conn._connection.interrupt()
            conn.stop()
        return len(self.sqlite_conns)

    async def settled_count(self, expected: int) -> int | None:
        """The count once closing sessions have gone (server-side exit is asynchronous)."""
        n = await self.count()
        for _ in range(40):
            if n is None or n == expected:
                return n
            await asyncio.sleep(0.05)
            n = await self.count()
        return n


@contextlib.asynccontextmanager
async def configured(
    vendor: str, url: str, **pool: Any
) -> AsyncIterator[tuple[Database, ServerView, list[PoolEvent]]]:
    tag = "rt_" + uuid.uuid4().hex[:12]
    options: dict[str, Any] = {}
    if vendor == "postgresql":
        options["server_settings"] = {"application_name": tag}
    reinhardt_db.configure(databases={"default": {"url": url, "pool": pool, "options": options}})
    db = connections["default"]
    view = ServerView(vendor, url, tag)
    await view.open()
    events: list[PoolEvent] = []
    db.pool.add_listener(events.append)
    if vendor == "sqlite":
        manager = db.pool.manager
        original: Callable[[], Awaitable[Any]] = manager.connect

        async def recording_connect() -> Any:
            conn = await original()
            view.sqlite_conns.append(conn)
            return conn

        manager.connect = recording_connect  # type: ignore[method-assign]
    try:
        yield db, view, events
    finally:
        await reinhardt_db.close_all()
        await view.close()
        reset_settings()


async def test_200_tasks_on_max_size_5(backend_name: str, backend_url: str) -> None:
    async with configured(backend_name, backend_url, max_size=5, acquire_timeout=60) as (
        db, view, _events,
    ):
        served: list[int] = []
        peak_server = 0
        peak_open = 0
        open_now = 0

        def track(event: PoolEvent) -> None:
            nonlocal open_now, peak_open
            if isinstance(event, ConnectionCreated):
                open_now += 1
                peak_open = max(peak_open, open_now)
            elif isinstance(event, ConnectionClosed):
                open_now -= 1

        db.pool.add_listener(track)
        stop = asyncio.Event()

        async def monitor() -> None:
            nonlocal peak_server
            while not stop.is_set():
                n = await view.count()
                if n is not None:
                    peak_server = max(peak_server, n)
                await asyncio.sleep(0.002)

        async def worker(i: int) -> None:
            async with db.connection():
                served.append(i)
                await db.fetch_all(SLEEP_SQL[backend_name], [0.005])

        watcher = asyncio.create_task(monitor())
        await asyncio.gather(*(worker(i) for i in range(200)))
        stop.set()
        await watcher

        assert served == list(range(200)), "waiters were not served in arrival order"
        assert peak_open <= 5
        if backend_name != "sqlite":
            assert 1 <= peak_server <= 5, f"server saw {peak_server} sessions"
        stats = db.pool.stats()
        assert stats.timeouts == 0 and stats.in_use == 0 and stats.size <= 5
        assert stats.acquires >= 200


async def test_sessions_killed_mid_load(backend_name: str, backend_url: str) -> None:
    async with configured(backend_name, backend_url, max_size=5, acquire_timeout=20) as (
        db, view, _events,
    ):
        failures: list[BaseException] = []
        successes = 0
        stop = asyncio.Event()

        async def load() -> None:
            nonlocal successes
            while not stop.is_set():
                try:
                    await db.fetch_all(SLEEP_SQL[backend_name], [0.01])
                    successes += 1
                except Exception as error:
                    failures.append(error)

        workers = [asyncio.create_task(load()) for _ in range(10)]
        await asyncio.sleep(0.3)
        killed = await view.kill_all()
        assert killed >= 1
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*workers)

        assert failures, "killing every session under load broke no call in flight"
        wrong = [f for f in failures if not isinstance(f, exc.OperationalError)]
        assert not wrong, f"in-flight calls raised {wrong[:3]!r}, not OperationalError"
        assert all(f.__cause__ is not None for f in failures)

        # Later calls succeed with no user action, sequential and concurrent.
        for _ in range(20):
            assert await db.fetch_val("SELECT 1") == 1
        values = await asyncio.gather(*(db.fetch_val("SELECT 2") for _ in range(20)))
        assert values == [2] * 20

        stats = db.pool.stats()
        assert stats.in_use == 0 and stats.waiting == 0
        assert stats.size == stats.idle <= 5
        assert stats.connections_created - stats.connections_closed == stats.size
        assert await view.settled_count(stats.size) in (None, stats.size)


async def test_500_random_cancellations(backend_name: str, backend_url: str) -> None:
    async with configured(backend_name, backend_url, max_size=4, acquire_timeout=30) as (
        db, view, events,
    ):
        rng = random.Random(20261121)
        cancelled = 0

        async def job(kind: int) -> None:
            if kind == 0:
                await db.fetch_all(SLEEP_SQL[backend_name], [0.004])
            elif kind == 1:
                async with db.connection():
                    await db.fetch_all("SELECT 1")
                    await db.fetch_all(SLEEP_SQL[backend_name], [0.003])
            else:
                async with db.transaction():
                    await db.fetch_all(SLEEP_SQL[backend_name], [0.003])

        while cancelled < 500:
            tasks = [asyncio.create_task(job(rng.randrange(3))) for _ in range(12)]
            await asyncio.sleep(rng.uniform(0, 0.006))
            victims = rng.sample(tasks, rng.randrange(1, 8))
            for task in victims:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            cancelled += sum(isinstance(r, asyncio.CancelledError) for r in results)
            unexpected = [
                r for r in results
                if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)
            ]
            assert not unexpected, unexpected[:3]

        pool = db.pool
        # Closes of discarded connections finish in the background (shielded from
        # the cancellation); judge once they are done, within a bound.
        for _ in range(100):
            if pool.size == pool.num_idle:
                break
            await asyncio.sleep(0.02)
        stats = pool.stats()
        assert stats.in_use == 0 and stats.waiting == 0

        # Every connection the manager created is closed, or idle in the pool exactly once.
        created = [e.connection_id for e in events if isinstance(e, ConnectionCreated)]
        closed = [e.connection_id for e in events if isinstance(e, ConnectionClosed)]
        idle = []
        while (conn := pool.try_acquire()) is not None:
            idle.append(conn)
        idle_ids = [c.id for c in idle]
        for conn in idle:
            await pool.release(conn)
        assert len(created) == len(set(created))
        assert len(closed) == len(set(closed)), "a connection was closed twice"
        assert len(idle_ids) == len(set(idle_ids)), "a connection is idle twice"
        assert set(closed).isdisjoint(idle_ids)
        assert set(created) == set(closed) | set(idle_ids)
        assert stats.size == len(idle_ids) <= 4
        # Nothing leaked on the server either.
        assert await view.settled_count(len(idle_ids)) in (None, len(idle_ids))
        # And the pool still works.
        assert await db.fetch_val("SELECT 3") == 3
