"""min_size kept warm; the background task closes idle connections past
idle_timeout (never below min_size) or max_lifetime, never checked-out ones."""

from __future__ import annotations

import asyncio

from reinhardt_db.pool import ConnectionClosed, PoolEvent

from .conftest import MakePool
from .fakes import FakeManager, until


async def test_min_size_is_opened_on_first_use(make_pool: MakePool, manager: FakeManager) -> None:
    pool = make_pool(min_size=3, max_size=5)
    assert pool.size == 0  # nothing opens before the pool is used
    async with pool.acquire():
        pass
    await until(lambda: pool.num_idle == 3)
    assert pool.size == 3 and len(manager.created) == 3


async def test_a_lost_min_size_connection_is_replaced(make_pool: MakePool) -> None:
    pool = make_pool(min_size=2, max_size=2)
    async with pool.acquire() as conn:
        conn.invalidate()
    await until(lambda: pool.num_idle == 2)


async def test_idle_timeout_closes_idle_connections_down_to_min_size(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool(min_size=1, max_size=5, idle_timeout=0.03, cleanup_interval=0.01)
    conns = [await pool.acquire() for _ in range(4)]
    for conn in conns:
        await pool.release(conn)
    assert pool.num_idle == 4
    await until(lambda: pool.size == 1)
    await asyncio.sleep(0.06)  # several more sweeps: never below min_size
    assert pool.size == pool.num_idle == 1
    assert len(manager.closed) == 3


async def test_idle_timeout_spares_recently_used_connections(make_pool: MakePool) -> None:
    pool = make_pool(max_size=2, idle_timeout=0.3, cleanup_interval=0.01)
    async with pool.acquire():
        pass
    for _ in range(12):  # the connection outlives idle_timeout, but is never idle that long
        await asyncio.sleep(0.03)
        async with pool.acquire():
            pass
    assert pool.stats().connections_closed == 0


async def test_max_lifetime_closes_idle_connections_and_min_size_refills(
    make_pool: MakePool, manager: FakeManager
) -> None:
    closed: list[PoolEvent] = []
    pool = make_pool(min_size=2, max_size=2, max_lifetime=0.05, cleanup_interval=0.01)
    pool.add_listener(lambda e: closed.append(e) if isinstance(e, ConnectionClosed) else None)
    async with pool.acquire():
        pass
    await until(lambda: len(manager.closed) >= 2)
    assert {e.detail["reason"] for e in closed} == {"max_lifetime"}
    await until(lambda: pool.num_idle == 2)


async def test_a_checked_out_connection_is_closed_on_return_not_while_held(
    make_pool: MakePool, manager: FakeManager
) -> None:
    reasons: list[str] = []
    pool = make_pool(max_lifetime=0.03, cleanup_interval=0.01)
    pool.add_listener(
        lambda e: reasons.append(e.detail["reason"]) if isinstance(e, ConnectionClosed) else None
    )
    conn = await pool.acquire()
    raw = conn.raw
    await asyncio.sleep(0.08)  # past max_lifetime, several sweeps
    assert not raw.closed
    assert await conn.execute("still mine")
    await pool.release(conn)
    assert raw.closed and reasons == ["max_lifetime"]
    assert pool.size == 0 and pool.num_idle == 0


async def test_disabled_timeouts_close_nothing(make_pool: MakePool) -> None:
    pool = make_pool(idle_timeout=None, max_lifetime=None, cleanup_interval=0.01)
    async with pool.acquire():
        pass
    await asyncio.sleep(0.05)
    assert pool.num_idle == 1 and pool.stats().connections_closed == 0


async def test_the_cleanup_task_stops_on_close(make_pool: MakePool) -> None:
    pool = make_pool(cleanup_interval=0.01)
    async with pool.acquire():
        pass
    task = pool._maintenance
    assert task is not None and not task.done()
    await pool.close()
    assert task.done()
