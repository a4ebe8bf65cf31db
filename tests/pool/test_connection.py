"""PoolConnection: the proxy handed out, its guards, invalidate and reset."""

from __future__ import annotations

import uuid

import pytest

from reinhardt_db.pool import InvalidConnection, PoolConnection

from .conftest import MakePool
from .fakes import FakeConn, FakeManager, until


async def test_raw_id_and_delegation(make_pool: MakePool) -> None:
    pool = make_pool()
    async with pool.acquire() as conn:
        assert isinstance(conn.raw, FakeConn)
        assert uuid.UUID(conn.id).version == 4
        assert conn.number == 0  # looked up on the driver connection
        assert await conn.execute("SELECT 1") == "SELECT 1 on 0"
        assert conn.pool is pool
        assert conn.id in repr(conn)
        with pytest.raises(AttributeError):
            _ = conn.no_such_attribute


async def test_one_id_per_connection(make_pool: MakePool) -> None:
    pool = make_pool()
    a = await pool.acquire()
    b = await pool.acquire()
    assert a.id != b.id
    a_id = a.id
    await pool.release(a)
    await pool.release(b)
    again = await pool.acquire()
    assert again.id in {a_id, b.id}
    await pool.release(again)


async def test_a_new_proxy_per_hand_out_and_a_released_one_refuses_use(
    make_pool: MakePool,
) -> None:
    pool = make_pool()
    first = await pool.acquire()
    await pool.release(first)
    with pytest.raises(InvalidConnection, match="already released"):
        _ = first.raw
    with pytest.raises(InvalidConnection):
        await first.execute("SELECT 1")
    second = await pool.acquire()
    assert second is not first and second.id == first.id  # same connection, new proxy
    assert "released" in repr(first)
    await pool.release(second)


async def test_double_release_raises(make_pool: MakePool) -> None:
    pool = make_pool()
    conn = await pool.acquire()
    await pool.release(conn)
    with pytest.raises(InvalidConnection, match="already released"):
        await pool.release(conn)
    assert pool.num_idle == 1 and pool.stats().in_use == 0


async def test_release_into_another_pool_raises(make_pool: MakePool) -> None:
    one = make_pool(name="one")
    two = make_pool(mgr=FakeManager(), name="two")
    conn = await one.acquire()
    with pytest.raises(InvalidConnection, match="from pool 'one', not 'two'"):
        await two.release(conn)
    assert two.num_idle == 0
    await one.release(conn)  # still releasable where it came from
    assert one.num_idle == 1


async def test_release_of_something_else_raises(make_pool: MakePool) -> None:
    pool = make_pool()
    async with pool.acquire() as conn:
        with pytest.raises(InvalidConnection, match="got FakeConn"):
            await pool.release(conn.raw)  # type: ignore[arg-type]


async def test_leaving_async_with_after_an_explicit_release_is_fine(make_pool: MakePool) -> None:
    pool = make_pool()
    async with pool.acquire() as conn:
        await pool.release(conn)
    assert pool.num_idle == 1


async def test_invalidate_closes_now_and_never_returns(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool()
    async with pool.acquire() as conn:
        raw = conn.raw
        conn.invalidate()
        await until(lambda: raw.closed)
        with pytest.raises(InvalidConnection, match="invalidated"):
            _ = conn.raw
        with pytest.raises(InvalidConnection):
            conn.invalidate()
        assert pool.size == 0
    # leaving the block released nothing and raised nothing
    assert pool.num_idle == 0 and pool.stats().connections_closed == 1
    async with pool.acquire() as conn:
        assert conn.raw is not raw
    with pytest.raises(InvalidConnection):
        await pool.release(conn)


async def test_soft_invalidate_closes_on_release(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool()
    conn = await pool.acquire()
    raw = conn.raw
    conn.soft_invalidate()
    conn.soft_invalidate()  # idempotent
    assert not raw.closed
    assert await conn.execute("still usable")
    await pool.release(conn)
    assert raw.closed
    assert pool.size == 0 and pool.num_idle == 0


async def test_reset_runs_the_managers_reset(make_pool: MakePool, manager: FakeManager) -> None:
    pool = make_pool()
    async with pool.acquire() as conn:
        await conn.reset()
        assert conn.raw.resets == 1
    assert manager.reset_calls == 2  # ours, then the release's


async def test_a_failed_reset_invalidates_and_reraises(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool()
    async with pool.acquire() as conn:
        raw = conn.raw
        manager.reset_error = RuntimeError("boom")
        with pytest.raises(RuntimeError, match="boom"):
            await conn.reset()
        with pytest.raises(InvalidConnection):
            _ = conn.raw
    await until(lambda: raw.closed)
    assert pool.size == 0


async def test_reset_after_release_raises(make_pool: MakePool) -> None:
    pool = make_pool()
    conn = await pool.acquire()
    await pool.release(conn)
    with pytest.raises(InvalidConnection):
        await conn.reset()
    with pytest.raises(InvalidConnection):
        conn.soft_invalidate()


def test_pool_connection_is_slotted() -> None:
    assert "__dict__" not in dir(PoolConnection)
    assert PoolConnection.__slots__
