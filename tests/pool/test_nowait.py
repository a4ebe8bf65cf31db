"""``acquire_nowait()`` / ``release_nowait()``: the synchronous fast path keeps the pool's rules."""

from __future__ import annotations

import asyncio

from reinhardt_db.pool import PoolEvent

from .conftest import MakePool
from .fakes import FakeConn, FakeManager, until


class SyncProbeManager(FakeManager):
    """Knows without I/O whether a connection is usable, and when it needs a reset."""

    def __init__(self) -> None:
        super().__init__()
        self.needs = False

    def is_valid_nowait(self, conn: FakeConn) -> bool:
        return self.valid and conn.valid and not conn.closed

    def needs_reset(self, conn: FakeConn) -> bool:
        return self.needs


async def _warm(pool: object, n: int = 1) -> None:
    """Open ``n`` connections through the awaited path and leave them idle."""
    conns = [await pool.acquire() for _ in range(n)]  # type: ignore[attr-defined]
    for conn in conns:
        await pool.release(conn)  # type: ignore[attr-defined]


async def test_round_trip_without_awaiting(make_pool: MakePool) -> None:
    manager = SyncProbeManager()
    pool = make_pool(manager, max_size=2)
    await _warm(pool)
    events: list[PoolEvent] = []
    pool.add_listener(events.append)
    conn = pool.acquire_nowait()
    assert conn is not None and conn.trusted_raw.number == 0
    assert pool.stats().in_use == 1 and pool.stats().acquires == 2
    assert pool.release_nowait(conn)
    assert pool.stats().in_use == 0 and pool.num_idle == 1
    assert [e.type for e in events] == ["ConnectionAcquired", "ConnectionReturned"]
    assert manager.is_valid_calls == 0 and manager.reset_calls == 0


async def test_nothing_idle_or_first_use_takes_the_awaited_path(make_pool: MakePool) -> None:
    pool = make_pool(SyncProbeManager(), max_size=1)
    assert pool.acquire_nowait() is None  # never used in this loop yet
    conn = await pool.acquire()
    assert pool.acquire_nowait() is None  # nothing idle
    assert pool.release_nowait(conn)


async def test_queued_callers_keep_their_turn(make_pool: MakePool) -> None:
    pool = make_pool(SyncProbeManager(), max_size=1)
    held = await pool.acquire()
    waiter = asyncio.ensure_future(pool.acquire())
    await until(lambda: pool.stats().waiting == 1)
    assert pool.release_nowait(held)  # handed straight to the waiter...
    assert pool.acquire_nowait() is None  # ...so a newcomer cannot barge in
    conn = await asyncio.wait_for(waiter, 1)
    assert pool.release_nowait(conn)


async def test_manager_without_sync_probe_takes_the_awaited_path(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool(manager, max_size=1)
    await _warm(pool)
    assert pool.acquire_nowait() is None
    conn = await pool.acquire()
    assert manager.is_valid_calls == 1
    assert not pool.release_nowait(conn)  # FakeManager resets on every release
    await pool.release(conn)
    pool_without_probe = make_pool(manager, max_size=1, test_before_acquire=False)
    await _warm(pool_without_probe)
    conn = pool_without_probe.acquire_nowait()
    assert conn is not None
    await pool_without_probe.release(conn)


async def test_failed_probe_and_max_lifetime_discard(make_pool: MakePool) -> None:
    manager = SyncProbeManager()
    pool = make_pool(manager, max_size=2)
    good, bad = await pool.acquire(), await pool.acquire()
    broken = bad.trusted_raw
    broken.valid = False
    await pool.release(good)
    await pool.release(bad)  # the most recently returned: handed out first
    events: list[PoolEvent] = []
    pool.add_listener(events.append)
    conn = pool.acquire_nowait()
    assert conn is not None and conn.trusted_raw is not broken
    assert "ConnectionTestFailed" in [e.type for e in events]
    await until(lambda: broken.closed, what="the broken connection is closed")
    assert pool.stats().connections_lost == 1
    assert pool.release_nowait(conn)

    old = make_pool(manager, max_size=1, max_lifetime=0.05)
    await _warm(old)
    await asyncio.sleep(0.06)
    assert old.acquire_nowait() is None  # expired: closed, nothing else idle
    fresh = await old.acquire()
    assert old.stats().connections_closed == 1
    await old.release(fresh)


async def test_hooks_and_dirty_connections_take_the_awaited_path(make_pool: MakePool) -> None:
    manager = SyncProbeManager()
    hooked = make_pool(manager, max_size=1, before_acquire=lambda conn, meta: True)
    await _warm(hooked)
    assert hooked.acquire_nowait() is None

    released = make_pool(manager, max_size=1, after_release=lambda conn, meta: True)
    conn = await released.acquire()
    assert not released.release_nowait(conn)
    await released.release(conn)

    pool = make_pool(manager, max_size=1)
    conn = await pool.acquire()
    conn.mark_dirty()
    assert not pool.release_nowait(conn)
    await pool.release(conn)
    manager.needs = True
    conn = await pool.acquire()
    assert not pool.release_nowait(conn)
    await pool.release(conn)
    assert manager.reset_calls == 2  # the dirty one, and the one needs_reset flagged
    conn = await pool.acquire()
    conn.soft_invalidate()
    assert not pool.release_nowait(conn)
    await pool.release(conn)


async def test_release_nowait_refuses_what_release_would_refuse(make_pool: MakePool) -> None:
    manager = SyncProbeManager()
    pool = make_pool(manager, max_size=1)
    other = make_pool(manager, max_size=1)
    conn = await pool.acquire()
    assert not other.release_nowait(conn)
    assert pool.release_nowait(conn)
    assert not pool.release_nowait(conn)  # already released
    conn = await pool.acquire()
    conn.invalidate()
    assert not pool.release_nowait(conn)
