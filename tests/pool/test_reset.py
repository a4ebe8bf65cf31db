"""Reset on release only when needed: dirty marks and ``ConnectionManager.needs_reset``."""

from __future__ import annotations

from typing import Any

from reinhardt_db.pool import PoolEvent

from .conftest import MakePool
from .fakes import FakeConn, FakeManager


class CleanManager(FakeManager):
    """A manager whose borrowers mark every session change: reset only those."""

    def __init__(self) -> None:
        super().__init__()
        self.in_transaction: set[int] = set()
        self.needs_reset_calls = 0

    def needs_reset(self, conn: FakeConn) -> bool:
        self.needs_reset_calls += 1
        return conn.number in self.in_transaction


def _resets(pool: Any) -> list[PoolEvent]:
    events: list[PoolEvent] = []
    pool.add_listener(lambda e: events.append(e) if e.type == "ConnectionReset" else None)
    return events


async def test_default_manager_resets_on_every_release(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool(max_size=1)
    events = _resets(pool)
    for _ in range(3):
        conn = await pool.acquire()
        await pool.release(conn)
    assert manager.reset_calls == 3 and len(events) == 3


async def test_clean_connection_is_released_without_reset(make_pool: MakePool) -> None:
    manager = CleanManager()
    pool = make_pool(manager, max_size=1)
    events = _resets(pool)
    for _ in range(3):
        conn = await pool.acquire()
        assert conn.trusted_raw.number == 0  # trusted_raw does not mark the session
        assert not conn.dirty
        await pool.release(conn)
    assert manager.reset_calls == 0 and events == []
    assert manager.needs_reset_calls == 3


async def test_taking_raw_marks_dirty_and_release_resets_once(make_pool: MakePool) -> None:
    manager = CleanManager()
    pool = make_pool(manager, max_size=1)
    events = _resets(pool)
    conn = await pool.acquire()
    raw = conn.raw
    assert conn.dirty
    await pool.release(conn)
    assert manager.reset_calls == 1 and raw.resets == 1 and len(events) == 1
    # The reset cleared the mark: the next clean borrower pays nothing.
    conn = await pool.acquire()
    assert not conn.dirty
    await pool.release(conn)
    assert manager.reset_calls == 1


async def test_attribute_delegation_and_mark_dirty_count_as_dirty(make_pool: MakePool) -> None:
    manager = CleanManager()
    pool = make_pool(manager, max_size=1)
    async with pool.acquire() as conn:
        assert await conn.execute("SELECT 1") == "SELECT 1 on 0"  # through .raw
    assert manager.reset_calls == 1
    async with pool.acquire() as conn:
        conn.mark_dirty()
    assert manager.reset_calls == 2


async def test_needs_reset_answers_for_unmarked_connections(make_pool: MakePool) -> None:
    manager = CleanManager()
    pool = make_pool(manager, max_size=1)
    conn = await pool.acquire()
    manager.in_transaction.add(conn.trusted_raw.number)
    await pool.release(conn)
    assert manager.reset_calls == 1


async def test_explicit_reset_always_runs(make_pool: MakePool) -> None:
    manager = CleanManager()
    pool = make_pool(manager, max_size=1)
    events = _resets(pool)
    async with pool.acquire() as conn:
        await conn.reset()
    assert manager.reset_calls == 1 and len(events) == 1


async def test_failed_reset_of_dirty_connection_closes_it(make_pool: MakePool) -> None:
    manager = CleanManager()
    manager.reset_error = RuntimeError("boom")
    pool = make_pool(manager, max_size=1)
    conn = await pool.acquire()
    conn.mark_dirty()
    first = conn.trusted_raw
    await pool.release(conn)
    async with pool.acquire() as again:
        assert again.trusted_raw is not first
    assert first.closed
