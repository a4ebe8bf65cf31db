"""``acquire(fail_fast=True)``: a failed connect is reported at once, not retried."""

from __future__ import annotations

import asyncio

import pytest

from reinhardt_db.pool import PoolConnectError, PoolTimeout

from .conftest import MakePool
from .fakes import FakeManager


async def test_a_refused_connect_fails_a_fail_fast_acquire_at_once(
    make_pool: MakePool, manager: FakeManager
) -> None:
    refused = ConnectionRefusedError("connection refused")
    manager.connect_error = refused
    pool = make_pool(acquire_timeout=30.0)
    async with asyncio.timeout(1):
        with pytest.raises(PoolConnectError) as info:
            await pool.acquire(fail_fast=True)
    assert info.value.__cause__ is refused
    assert manager.connect_attempts == 1
    stats = pool.stats()
    assert stats.waiting == 0 and stats.size == 0 and stats.timeouts == 0


async def test_callers_without_fail_fast_keep_waiting_for_a_retry(
    make_pool: MakePool, manager: FakeManager
) -> None:
    manager.connect_error = ConnectionRefusedError("connection refused")
    pool = make_pool(acquire_timeout=30.0)
    patient = asyncio.ensure_future(pool.acquire(timeout=0.3))
    await asyncio.sleep(0)
    with pytest.raises(PoolConnectError):
        await pool.acquire(fail_fast=True)
    assert not patient.done()
    with pytest.raises(PoolTimeout):
        await patient


async def test_fail_fast_gets_a_connection_when_the_database_answers(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool()
    conn = await pool.acquire(fail_fast=True)
    await pool.release(conn)
    assert pool.stats().acquires == 1
