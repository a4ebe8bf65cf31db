"""A pool belongs to the event loop it was first used on."""

from __future__ import annotations

import asyncio

import pytest

from reinhardt_db.pool import Pool, PoolConnection, PoolError

from .fakes import FakeConn, FakeManager


def test_using_a_pool_from_another_loop_raises_at_once() -> None:
    pool: Pool[FakeConn] = Pool(FakeManager())

    async def use() -> PoolConnection[FakeConn]:
        async with pool.acquire() as conn:
            pass
        return conn

    first = asyncio.run(use())
    assert first.id

    async def again() -> None:
        await asyncio.wait_for(use(), 1)

    with pytest.raises(PoolError, match=r"belongs to another event loop.*fresh Pool"):
        asyncio.run(again())


def test_release_and_close_from_another_loop_raise() -> None:
    pool: Pool[FakeConn] = Pool(FakeManager())
    loop = asyncio.new_event_loop()
    conn = loop.run_until_complete(pool.acquire())

    async def release() -> None:
        await pool.release(conn)

    async def close() -> None:
        await pool.close()

    with pytest.raises(PoolError, match="another event loop"):
        asyncio.run(release())
    with pytest.raises(PoolError, match="another event loop"):
        asyncio.run(close())
    assert not pool.closed
    loop.run_until_complete(pool.release(conn))
    loop.run_until_complete(pool.close())
    loop.close()


def test_try_acquire_outside_a_running_loop_raises() -> None:
    pool: Pool[FakeConn] = Pool(FakeManager())
    loop = asyncio.new_event_loop()
    conn = loop.run_until_complete(pool.acquire())
    loop.run_until_complete(pool.release(conn))
    with pytest.raises(PoolError, match="coroutine running on its event loop"):
        pool.try_acquire()
    loop.run_until_complete(pool.close())
    loop.close()


def test_an_unused_pool_can_be_used_from_any_loop() -> None:
    pool: Pool[FakeConn] = Pool(FakeManager())

    async def use() -> None:
        async with pool.acquire():
            pass
        await pool.close()

    asyncio.run(use())
    assert pool.closed
