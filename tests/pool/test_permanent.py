"""Permanent connect errors (the manager's ``is_permanent``) fail callers at once;
transient ones keep the back-off, logged once at WARNING and then at DEBUG."""

from __future__ import annotations

import asyncio
import logging

import pytest

from reinhardt_db.pool import PoolTimeout, _core

from .conftest import MakePool
from .fakes import FakeConn, FakeManager, until


class AuthFailed(Exception):
    """What a driver raises for a wrong password."""


def auth_is_permanent(error: Exception) -> bool:
    return isinstance(error, AuthFailed)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_core, "retry_delay", lambda failures: 0.01)


async def test_a_permanent_connect_error_is_raised_at_once(
    make_pool: MakePool, manager: FakeManager
) -> None:
    error = AuthFailed('password authentication failed for user "app"')
    manager.connect_error = error
    manager.permanent = auth_is_permanent
    pool = make_pool(acquire_timeout=30.0)
    async with asyncio.timeout(2):  # bounds a hang: retrying would last 30 s
        with pytest.raises(AuthFailed) as info:
            await pool.acquire()
    assert info.value is error
    assert manager.connect_attempts == 1
    stats = pool.stats()
    assert stats.connect_errors == 1 and stats.timeouts == 0
    assert stats.size == 0 and stats.waiting == 0


async def test_every_queued_caller_gets_the_permanent_error(
    make_pool: MakePool, manager: FakeManager
) -> None:
    error = AuthFailed("access denied")
    manager.connect_error = error
    manager.connect_delay = 0.02  # the callers queue up while the one connect runs
    manager.permanent = auth_is_permanent
    pool = make_pool(max_size=1, acquire_timeout=30.0)
    async with asyncio.timeout(2):
        results = await asyncio.gather(
            *(pool.acquire() for _ in range(5)), return_exceptions=True
        )
    assert all(r is error for r in results)
    assert manager.connect_attempts == 1
    assert pool.stats().waiting == 0 and pool.size == 0


async def test_the_next_caller_tries_again_at_once(
    make_pool: MakePool, manager: FakeManager
) -> None:
    manager.connect_error = AuthFailed("access denied")
    manager.permanent = auth_is_permanent
    pool = make_pool(acquire_timeout=30.0)
    with pytest.raises(AuthFailed):
        await pool.acquire()
    manager.connect_error = None  # the password was fixed on the server
    async with asyncio.timeout(2):
        async with pool.acquire() as conn:
            assert isinstance(conn.raw, FakeConn)
    assert manager.connect_attempts == 2


async def test_refilling_min_size_backs_off_after_a_permanent_error(
    make_pool: MakePool, manager: FakeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    delays: list[int] = []

    def retry_delay(failures: int) -> float:
        delays.append(failures)
        return 3600.0

    monkeypatch.setattr(_core, "retry_delay", retry_delay)
    manager.connect_error = AuthFailed("access denied")
    manager.permanent = auth_is_permanent
    pool = make_pool(min_size=2, acquire_timeout=30.0)
    with pytest.raises(AuthFailed):
        await pool.acquire()
    for _ in range(20):
        await asyncio.sleep(0)
    assert delays  # the refill waits for a back-off instead of reconnecting at once
    assert manager.connect_attempts == 2  # the two min_size connects, nothing more
    assert pool.size == 0


async def test_transient_errors_are_retried_until_acquire_timeout(
    make_pool: MakePool, manager: FakeManager, fast_retries: None
) -> None:
    refused = ConnectionRefusedError("connection refused")
    manager.connect_error = refused
    manager.permanent = auth_is_permanent
    pool = make_pool()
    with pytest.raises(PoolTimeout) as info:
        await pool.acquire(timeout=0.2)
    assert info.value.__cause__ is refused
    assert manager.connect_attempts > 1
    assert refused in manager.is_permanent_calls


async def test_after_connect_failures_are_never_permanent(
    make_pool: MakePool, manager: FakeManager, fast_retries: None
) -> None:
    calls: list[FakeConn] = []

    def after_connect(conn: FakeConn) -> None:
        calls.append(conn)
        if len(calls) == 1:
            raise AuthFailed("SET ROLE reporting: permission denied")

    manager.permanent = lambda error: True
    pool = make_pool(after_connect=after_connect)
    async with pool.acquire() as conn:
        assert conn.raw is calls[1]
    assert manager.is_permanent_calls == []


async def test_is_permanent_that_raises_counts_as_transient(
    make_pool: MakePool, manager: FakeManager, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(error: Exception) -> bool:
        raise RuntimeError("bug in is_permanent")

    manager.connect_error = AuthFailed("access denied")
    manager.permanent = broken
    pool = make_pool()
    with caplog.at_level(logging.ERROR, logger="reinhardt_db.pool"):
        with pytest.raises(PoolTimeout):
            await pool.acquire(timeout=0.1)
    assert any("is_permanent() failed" in r.getMessage() for r in caplog.records)


async def test_back_off_warns_once_then_logs_at_debug_until_a_connect_succeeds(
    make_pool: MakePool,
    manager: FakeManager,
    fast_retries: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    manager.connect_error = ConnectionRefusedError("connection refused")
    pool = make_pool()
    with caplog.at_level(logging.DEBUG, logger="reinhardt_db.pool"):
        task = asyncio.ensure_future(pool.acquire(timeout=5))
        await until(lambda: manager.connect_attempts >= 5)
        manager.connect_error = None
        conn = await task
        conn.invalidate()  # closed: the next acquire has to connect
        failures = [r for r in caplog.records if "connect failed" in r.getMessage()]
        assert [r.levelno for r in failures[:1]] == [logging.WARNING]
        assert len(failures) >= 4
        assert all(r.levelno == logging.DEBUG for r in failures[1:])
        assert all("retrying with back-off" in r.getMessage() for r in failures)

        # A connect succeeded: the next outage is announced at WARNING again.
        caplog.clear()
        manager.connect_error = ConnectionRefusedError("connection refused")
        with pytest.raises(PoolTimeout):
            await pool.acquire(timeout=0.1)
    failures = [r for r in caplog.records if "connect failed" in r.getMessage()]
    assert failures and failures[0].levelno == logging.WARNING
    assert all(r.levelno == logging.DEBUG for r in failures[1:])
