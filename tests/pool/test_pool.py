"""Pool basics: acquire shapes, reuse, sizes, limits, stats, validation, timeouts."""

from __future__ import annotations

import asyncio

import pytest

from reinhardt_db.pool import (
    Pool,
    PoolAcquireContext,
    PoolConnection,
    PoolExhausted,
    PoolStats,
    PoolTimeout,
)

from .conftest import MakePool
from .fakes import FakeConn, FakeManager, until


async def test_acquire_is_awaitable(make_pool: MakePool, manager: FakeManager) -> None:
    pool = make_pool()
    ctx = pool.acquire()
    assert isinstance(ctx, PoolAcquireContext)
    conn = await ctx
    assert isinstance(conn, PoolConnection)
    assert isinstance(conn.raw, FakeConn)
    assert await conn.execute("SELECT 1") == "SELECT 1 on 0"
    await pool.release(conn)
    assert pool.num_idle == 1


async def test_acquire_is_an_async_context_manager(make_pool: MakePool) -> None:
    pool = make_pool()
    async with pool.acquire() as conn:
        assert isinstance(conn.raw, FakeConn)
        assert pool.stats().in_use == 1
    assert pool.stats().in_use == 0
    assert pool.num_idle == 1


async def test_a_released_connection_is_reused(make_pool: MakePool, manager: FakeManager) -> None:
    pool = make_pool()
    async with pool.acquire() as first:
        first_id = first.id
    async with pool.acquire() as second:
        assert second.id == first_id
        assert second is not first
    assert len(manager.created) == 1


async def test_size_counts_connections_that_are_opening(
    make_pool: MakePool, manager: FakeManager
) -> None:
    manager.connect_delay = 0.05
    pool = make_pool()
    task = asyncio.ensure_future(pool.acquire())
    await until(lambda: manager.connect_attempts == 1)
    assert pool.size == 1
    assert pool.stats().in_use == 0
    conn = await task
    assert pool.size == 1 and pool.stats().in_use == 1
    await pool.release(conn)


async def test_pool_never_exceeds_max_size(make_pool: MakePool, manager: FakeManager) -> None:
    manager.connect_delay = 0.002
    pool = make_pool(max_size=4)
    peak_size = peak_open = 0

    async def job() -> None:
        nonlocal peak_size, peak_open
        async with pool.acquire() as conn:
            peak_size = max(peak_size, pool.size)
            peak_open = max(peak_open, manager.open_count)
            await conn.execute("x")

    await asyncio.gather(*(job() for _ in range(100)))
    assert peak_size == 4 and peak_open <= 4
    assert len(manager.created) == 4
    assert pool.stats().acquires == 100


async def test_try_acquire(make_pool: MakePool, manager: FakeManager) -> None:
    calls: list[object] = []
    pool = make_pool(before_acquire=lambda conn, meta: calls.append(conn))
    assert pool.try_acquire() is None
    async with pool.acquire():
        assert pool.try_acquire() is None
    validations, hooks = manager.is_valid_calls, len(calls)
    conn = pool.try_acquire()
    assert conn is not None and isinstance(conn.raw, FakeConn)
    assert manager.is_valid_calls == validations and len(calls) == hooks
    assert pool.try_acquire() is None
    await pool.release(conn)
    assert pool.num_idle == 1


async def test_acquire_times_out_when_every_connection_is_taken(make_pool: MakePool) -> None:
    pool = make_pool(max_size=1, acquire_timeout=0.05)
    async with pool.acquire():
        with pytest.raises(PoolTimeout, match=r"within 0\.05s") as info:
            await pool.acquire()
        assert info.value.__cause__ is None
        with pytest.raises(PoolTimeout, match=r"within 0\.02s"):
            await pool.acquire(timeout=0.02)
    assert pool.stats().timeouts == 2
    assert pool.stats().waiting == 0
    async with pool.acquire(timeout=0.05):
        pass


async def test_max_waiting_refuses_the_next_caller_at_once(make_pool: MakePool) -> None:
    pool = make_pool(max_size=1, max_waiting=2)
    held = await pool.acquire()
    waiters = [asyncio.ensure_future(pool.acquire()) for _ in range(2)]
    await until(lambda: pool.stats().waiting == 2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(PoolExhausted, match="max_waiting=2"):
        await pool.acquire()
    assert loop.time() - started < 0.5
    await pool.release(held)
    for task in waiters:
        await pool.release(await task)


async def test_stats(make_pool: MakePool) -> None:
    pool = make_pool(max_size=2, min_size=0)
    stats = pool.stats()
    assert isinstance(stats, PoolStats)
    assert list(stats.to_dict()) == [
        "size", "idle", "in_use", "waiting", "max_size", "min_size", "acquires", "timeouts",
        "connect_errors", "connections_created", "connections_closed", "connections_lost",
        "total_wait_seconds",
    ]
    a = await pool.acquire()
    b = await pool.acquire()
    waiter = asyncio.ensure_future(pool.acquire())
    await until(lambda: pool.stats().waiting == 1)
    stats = pool.stats()
    assert (stats.size, stats.idle, stats.in_use, stats.waiting) == (2, 0, 2, 1)
    assert (stats.max_size, stats.min_size) == (2, 0)
    await asyncio.sleep(0.01)
    await pool.release(a)
    c = await waiter
    await pool.release(b)
    await pool.release(c)
    stats = pool.stats()
    assert (stats.size, stats.idle, stats.in_use, stats.waiting) == (2, 2, 0, 0)
    assert stats.acquires == 3
    assert stats.connections_created == 2 and stats.connections_closed == 0
    assert stats.total_wait_seconds >= 0.01
    assert stats.to_dict()["acquires"] == 3


async def test_an_invalid_idle_connection_is_replaced(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool()
    async with pool.acquire() as conn:
        old = conn.raw
    old.valid = False
    async with pool.acquire() as conn:
        assert conn.raw is not old
    await until(lambda: old.closed)
    stats = pool.stats()
    assert stats.connections_lost == 1 and stats.connections_closed == 1
    assert stats.size == 1


async def test_new_connections_are_not_probed(make_pool: MakePool, manager: FakeManager) -> None:
    pool = make_pool()
    async with pool.acquire():
        pass
    assert manager.is_valid_calls == 0
    async with pool.acquire():
        pass
    assert manager.is_valid_calls == 1


async def test_test_before_acquire_false_never_probes(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool(test_before_acquire=False)
    for _ in range(3):
        async with pool.acquire():
            pass
    assert manager.is_valid_calls == 0


@pytest.mark.parametrize("failure", ["hang", "error"])
async def test_a_failing_probe_discards_the_connection(
    make_pool: MakePool, manager: FakeManager, failure: str
) -> None:
    pool = make_pool(connect_timeout=0.05)
    async with pool.acquire() as conn:
        old = conn.raw
    if failure == "hang":
        manager.is_valid_hangs = True
    else:
        manager.is_valid_error = OSError("socket gone")
    async with pool.acquire() as conn:
        assert conn.raw is not old
    await until(lambda: old.closed)
    assert pool.stats().connections_lost == 1


async def test_reset_runs_on_every_release(make_pool: MakePool, manager: FakeManager) -> None:
    pool = make_pool()
    for _ in range(3):
        async with pool.acquire() as conn:
            raw = conn.raw
    assert manager.reset_calls == 3 and raw.resets == 3


@pytest.mark.parametrize("failure", ["hang", "error"])
async def test_a_failing_reset_discards_the_connection(
    make_pool: MakePool, manager: FakeManager, failure: str
) -> None:
    pool = make_pool(connect_timeout=0.05)
    if failure == "hang":
        manager.reset_hangs = True
    else:
        manager.reset_error = RuntimeError("reset failed")
    async with asyncio.timeout(1):
        async with pool.acquire() as conn:
            raw = conn.raw
    assert raw.closed
    stats = pool.stats()
    assert (stats.size, stats.idle, stats.connections_lost, stats.connections_closed) == (
        0, 0, 1, 1,
    )


async def test_a_hanging_close_is_bounded(make_pool: MakePool, manager: FakeManager) -> None:
    pool = make_pool(connect_timeout=0.05)
    async with pool.acquire():
        pass
    manager.close_hangs = True
    async with asyncio.timeout(1):
        await pool.close()
    assert pool.size == 0 and pool.stats().connections_closed == 1


async def test_an_idle_connection_past_max_lifetime_is_not_handed_out(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool(max_lifetime=0.05, cleanup_interval=60)
    async with pool.acquire() as conn:
        old = conn.raw
    await asyncio.sleep(0.06)
    async with pool.acquire() as conn:
        assert conn.raw is not old
    await until(lambda: old.closed)


async def test_repr_and_properties(manager: FakeManager) -> None:
    pool: Pool[FakeConn] = Pool(manager, name="default")
    assert pool.name == "default" and pool.manager is manager
    assert pool.options.max_size == 10
    assert "default" in repr(pool)
    await pool.close()
    assert "closed" in repr(pool)
