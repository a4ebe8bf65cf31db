"""close(): closed at once, waiters woken with PoolClosed, idle closed,
checked-out ones closed when returned, then close()/wait_closed() return."""

from __future__ import annotations

import asyncio

import pytest

from reinhardt_db.pool import Pool, PoolClosed

from .conftest import MakePool
from .fakes import FakeConn, FakeManager, until


async def test_close_closes_idle_connections(make_pool: MakePool, manager: FakeManager) -> None:
    pool = make_pool()
    a, b = await pool.acquire(), await pool.acquire()
    await pool.release(a)
    await pool.release(b)
    await pool.close()
    assert pool.closed and pool.size == 0
    assert len(manager.closed) == 2


async def test_close_waits_for_checked_out_connections(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool(max_size=1)
    held = await pool.acquire()
    waiter = asyncio.ensure_future(pool.acquire())
    await until(lambda: pool.stats().waiting == 1)
    closing = asyncio.create_task(pool.close())
    await asyncio.sleep(0)
    assert pool.closed  # from the moment close() is called
    with pytest.raises(PoolClosed, match="is closed"):
        await waiter
    waiting_for_close = asyncio.create_task(pool.wait_closed())
    await asyncio.sleep(0.02)
    assert not closing.done() and not waiting_for_close.done()
    raw = held.raw
    assert not raw.closed
    await pool.release(held)  # closed on return, not reset
    assert raw.closed and manager.reset_calls == 0
    await asyncio.wait_for(asyncio.gather(closing, waiting_for_close), 1)
    assert pool.size == 0


async def test_acquire_on_a_closed_pool_raises(make_pool: MakePool) -> None:
    pool = make_pool()
    await pool.close()
    with pytest.raises(PoolClosed):
        await pool.acquire()
    with pytest.raises(PoolClosed):
        async with pool.acquire():
            pass
    with pytest.raises(PoolClosed):
        pool.try_acquire()


async def test_close_is_idempotent_and_works_on_an_unused_pool(manager: FakeManager) -> None:
    pool: Pool[FakeConn] = Pool(manager)
    await asyncio.wait_for(pool.close(), 1)
    await asyncio.wait_for(pool.close(), 1)
    await asyncio.wait_for(pool.wait_closed(), 1)
    assert pool.closed


async def test_close_cancels_a_connect_in_flight(
    make_pool: MakePool, manager: FakeManager
) -> None:
    manager.connect_hangs = True
    pool = make_pool(connect_timeout=10)
    waiter = asyncio.ensure_future(pool.acquire())
    await until(lambda: manager.connect_attempts == 1)
    await asyncio.wait_for(pool.close(), 1)
    with pytest.raises(PoolClosed):
        await waiter
    assert pool.size == 0 and manager.created == []


async def test_close_right_after_a_connect_was_started(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool(min_size=3, max_size=3)
    waiter = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0)  # connect tasks created, not yet started
    await asyncio.wait_for(pool.close(), 1)
    with pytest.raises(PoolClosed):
        await waiter
    assert pool.size == 0 and manager.open_count == 0


async def test_wait_closed_waits_for_close(make_pool: MakePool) -> None:
    pool = make_pool()
    async with pool.acquire():
        pass
    waiting = asyncio.create_task(pool.wait_closed())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    await pool.close()
    await asyncio.wait_for(waiting, 1)
