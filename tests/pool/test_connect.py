"""Connecting: bounded by connect_timeout, retried with back-off while the
database is down, PoolTimeout once acquire_timeout passes, recovery on its own."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from reinhardt_db.pool import PoolTimeout, _core

from .conftest import MakePool
from .fakes import FakeConn, FakeManager, until


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_core, "retry_delay", lambda failures: 0.01)


async def test_refused_connects_end_in_pool_timeout_with_the_cause(
    make_pool: MakePool, manager: FakeManager
) -> None:
    refused = ConnectionRefusedError("connection refused")
    manager.connect_error = refused
    pool = make_pool()
    with pytest.raises(PoolTimeout, match="last connect attempt failed") as info:
        await pool.acquire(timeout=0.1)
    assert info.value.__cause__ is refused
    stats = pool.stats()
    assert stats.connect_errors >= 1 and stats.timeouts == 1
    assert stats.size == 0 and stats.waiting == 0


async def test_a_hanging_connect_still_times_out(
    make_pool: MakePool, manager: FakeManager
) -> None:
    manager.connect_hangs = True
    pool = make_pool(connect_timeout=10.0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(PoolTimeout) as info:
        await pool.acquire(timeout=0.1)
    assert loop.time() - started < 0.5
    assert info.value.__cause__ is None  # no connect has failed yet: it is still hanging
    assert pool.size == 1  # the opening connection is counted


async def test_connect_is_bounded_by_connect_timeout(
    make_pool: MakePool, manager: FakeManager
) -> None:
    manager.connect_hangs = True
    pool = make_pool(connect_timeout=0.03)
    with pytest.raises(PoolTimeout) as info:
        await pool.acquire(timeout=0.2)
    assert isinstance(info.value.__cause__, TimeoutError)
    assert "connect() did not finish within 0.03s" in str(info.value.__cause__)
    await until(lambda: pool.size == 0)
    assert pool.stats().connect_errors >= 1


async def test_the_first_retry_comes_within_a_second_and_the_pool_recovers(
    make_pool: MakePool, manager: FakeManager
) -> None:
    manager.connect_error = ConnectionRefusedError()
    pool = make_pool()
    task = asyncio.ensure_future(pool.acquire(timeout=3))
    await until(lambda: manager.connect_attempts == 1)
    manager.connect_error = None  # the database comes back
    conn = await asyncio.wait_for(task, 1.5)
    assert manager.connect_attempts == 2
    assert pool.stats().connect_errors == 1
    await pool.release(conn)


async def test_a_new_caller_triggers_an_attempt_at_once(
    make_pool: MakePool, manager: FakeManager
) -> None:
    manager.connect_error = ConnectionRefusedError()
    pool = make_pool()
    with pytest.raises(PoolTimeout):
        await pool.acquire(timeout=0.02)
    assert manager.connect_attempts == 1  # the back-off delay is at least 0.5 s
    with pytest.raises(PoolTimeout):
        await pool.acquire(timeout=0.02)
    assert manager.connect_attempts == 2


async def test_only_one_attempt_at_a_time_while_the_database_is_down(
    make_pool: MakePool, manager: FakeManager
) -> None:
    manager.connect_error = ConnectionRefusedError()
    pool = make_pool()
    with pytest.raises(PoolTimeout):
        await pool.acquire(timeout=0.02)
    manager.connect_error = None
    manager.connect_hangs = True
    callers = [asyncio.ensure_future(pool.acquire(timeout=0.05)) for _ in range(5)]
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(r, PoolTimeout) for r in results)
    assert manager.connect_attempts == 2


async def test_retries_continue_and_stop_once_connected(
    make_pool: MakePool, manager: FakeManager, fast_retries: None
) -> None:
    manager.connect_error = ConnectionRefusedError()
    pool = make_pool()
    task = asyncio.ensure_future(pool.acquire(timeout=2))
    await until(lambda: manager.connect_attempts >= 5)
    manager.connect_error = None
    conn = await asyncio.wait_for(task, 1)
    attempts = manager.connect_attempts
    await asyncio.sleep(0.05)
    assert manager.connect_attempts == attempts
    assert pool.stats().connect_errors == attempts - 1
    await pool.release(conn)


async def test_min_size_refills_with_no_user_action_after_an_outage(
    make_pool: MakePool, manager: FakeManager, fast_retries: None
) -> None:
    manager.connect_error = OSError("network unreachable")
    pool = make_pool(min_size=2, max_size=4)
    with pytest.raises(PoolTimeout):
        await pool.acquire(timeout=0.05)  # first use: the database is down
    attempts = manager.connect_attempts
    await until(lambda: manager.connect_attempts > attempts + 2)  # still retrying
    manager.connect_error = None  # the database comes back; nobody calls acquire
    await until(lambda: pool.num_idle == 2)
    assert pool.size == 2


async def test_after_connect_failure_is_counted_and_retried(
    make_pool: MakePool, manager: FakeManager, fast_retries: None
) -> None:
    calls: list[FakeConn] = []

    def after_connect(conn: FakeConn) -> None:
        calls.append(conn)
        if len(calls) == 1:
            raise RuntimeError("SET search_path failed")

    pool = make_pool(after_connect=after_connect)
    async with pool.acquire() as conn:
        assert conn.raw is calls[1]
    assert calls[0].closed  # the connection whose setup failed is closed
    stats = pool.stats()
    assert stats.connect_errors == 1 and stats.connections_created == 1
    assert stats.size == 1


async def test_an_async_after_connect_that_hangs_is_bounded(
    make_pool: MakePool, manager: FakeManager
) -> None:
    async def after_connect(conn: Any) -> None:
        await asyncio.sleep(3600)

    pool = make_pool(after_connect=after_connect, connect_timeout=0.02)
    with pytest.raises(PoolTimeout) as info:
        await pool.acquire(timeout=0.1)
    assert isinstance(info.value.__cause__, TimeoutError)
    await until(lambda: pool.size == 0 and manager.open_count == 0)


async def test_a_burst_of_failed_connects_counts_as_one_failure(
    make_pool: MakePool, manager: FakeManager
) -> None:
    manager.connect_error = ConnectionRefusedError()
    pool = make_pool(max_size=5)
    callers = [asyncio.ensure_future(pool.acquire(timeout=3)) for _ in range(5)]
    await until(lambda: manager.connect_attempts == 5)  # one connect per caller, at once
    manager.connect_error = None
    conns = await asyncio.wait_for(asyncio.gather(*callers), 1.5)  # first retry within 1 s
    for conn in conns:
        await pool.release(conn)
