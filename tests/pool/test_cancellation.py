"""Cancellation: an acquire that is cancelled or times out never hands out a
connection, and a task cancelled while holding one leaks nothing."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import pytest

from reinhardt_db.pool import Pool, PoolClosed, PoolConnection, PoolOptions, PoolTimeout, _core

from .conftest import MakePool
from .fakes import FakeConn, FakeManager, until


def assert_settled(pool: Pool[FakeConn], manager: FakeManager) -> None:
    """Check the counts of a pool with nothing checked out, opening or closing."""
    stats = pool.stats()
    assert stats.in_use == 0 and stats.waiting == 0
    assert stats.size == stats.idle == manager.open_count
    assert stats.connections_created == len(manager.created)
    assert stats.connections_closed == len(manager.closed)


async def settle(pool: Pool[FakeConn], manager: FakeManager) -> None:
    await until(lambda: pool.size == pool.num_idle == manager.open_count, what="pool settles")
    assert_settled(pool, manager)


async def test_cancel_while_waiting_leaves_the_queue(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool(max_size=1)
    held = await pool.acquire()
    waiter = asyncio.ensure_future(pool.acquire())
    await until(lambda: pool.stats().waiting == 1)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert pool.stats().waiting == 0
    await pool.release(held)
    await settle(pool, manager)
    assert pool.num_idle == 1 and pool.stats().acquires == 1


async def test_a_connection_assigned_to_a_cancelled_waiter_goes_back_idle(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool(max_size=1)
    held = await pool.acquire()
    waiter = asyncio.ensure_future(pool.acquire())
    await until(lambda: pool.stats().waiting == 1)
    await pool.release(held)  # hands the connection straight to the waiter ...
    assert pool.stats().waiting == 0 and pool.num_idle == 0
    waiter.cancel()  # ... which is cancelled before it could run
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await settle(pool, manager)
    assert pool.num_idle == 1 and pool.stats().acquires == 1


async def test_a_connection_assigned_to_a_cancelled_waiter_goes_to_the_next_one(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool(max_size=1)
    held = await pool.acquire()
    doomed = asyncio.ensure_future(pool.acquire())
    await until(lambda: pool.stats().waiting == 1)
    patient = asyncio.ensure_future(pool.acquire())
    await until(lambda: pool.stats().waiting == 2)
    await pool.release(held)
    doomed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await doomed
    conn: PoolConnection[FakeConn] = await asyncio.wait_for(patient, 1)
    assert conn.id == held.id
    await pool.release(conn)
    await settle(pool, manager)


async def test_a_timed_out_acquire_hands_out_nothing(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool(max_size=1)
    held = await pool.acquire()
    with pytest.raises(PoolTimeout):
        await pool.acquire(timeout=0.02)
    await pool.release(held)
    await settle(pool, manager)
    assert pool.stats().acquires == 1


@pytest.mark.parametrize("how", ["asyncio.timeout", "wait_for"])
async def test_an_outer_timeout_while_waiting_hands_out_nothing(
    make_pool: MakePool, manager: FakeManager, how: str
) -> None:
    pool = make_pool(max_size=1)
    held = await pool.acquire()
    with pytest.raises(TimeoutError):
        if how == "wait_for":
            await asyncio.wait_for(pool.acquire(), 0.02)
        else:
            async with asyncio.timeout(0.02):
                await pool.acquire()
    assert pool.stats().waiting == 0
    await pool.release(held)
    await settle(pool, manager)
    assert pool.stats().acquires == 1


async def test_a_task_cancelled_while_holding_gives_the_connection_back(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool()
    inside = asyncio.Event()

    async def hold() -> None:
        async with pool.acquire():
            inside.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(hold())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await settle(pool, manager)
    assert pool.num_idle == 1 and manager.reset_calls == 1


async def test_an_outer_timeout_while_holding_gives_the_connection_back(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.02), pool.acquire():
            await asyncio.sleep(3600)
    await settle(pool, manager)
    assert pool.num_idle == 1


async def test_cancelled_during_the_release_reset_discards_the_connection(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool()
    manager.reset_hangs = True

    async def use() -> None:
        async with pool.acquire():
            pass

    task = asyncio.create_task(use())
    await until(lambda: manager.reset_calls == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await until(lambda: manager.closed != [])
    await settle(pool, manager)
    assert pool.size == 0


async def test_cancelled_during_the_probe_discards_the_connection(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool()
    async with pool.acquire():
        pass
    manager.is_valid_hangs = True
    task = asyncio.ensure_future(pool.acquire())
    await until(lambda: manager.is_valid_calls == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await until(lambda: manager.closed != [])
    await settle(pool, manager)
    manager.is_valid_hangs = False
    async with pool.acquire():
        pass


async def test_cancelled_during_before_acquire_discards_the_connection(
    make_pool: MakePool, manager: FakeManager
) -> None:
    entered = asyncio.Event()

    async def slow_hook(conn: FakeConn, meta: Any) -> bool:
        entered.set()
        await asyncio.sleep(3600)
        return True

    pool = make_pool(before_acquire=slow_hook)
    task = asyncio.ensure_future(pool.acquire())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await until(lambda: manager.closed != [])
    await settle(pool, manager)


async def test_cancelled_while_its_connection_is_opening(
    make_pool: MakePool, manager: FakeManager
) -> None:
    manager.connect_delay = 0.03
    pool = make_pool()
    task = asyncio.ensure_future(pool.acquire())
    await until(lambda: manager.connect_attempts == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await until(lambda: pool.num_idle == 1)  # the new connection is kept, not leaked
    await settle(pool, manager)


@pytest.mark.parametrize(("seed", "workers"), [(1, 10), (2, 5), (3, 3)])
async def test_500_random_cancellations_leak_nothing(
    manager: FakeManager, seed: int, workers: int
) -> None:
    rng = random.Random(seed)
    manager.yield_points = 1  # every manager call is a cancellation point
    max_size = 4
    pool = Pool(
        manager,
        PoolOptions(max_size=max_size, acquire_timeout=0.5, connect_timeout=0.5,
                    cleanup_interval=0.005, max_lifetime=0.05, idle_timeout=0.02),
    )
    peak = 0

    def on_connect() -> None:
        nonlocal peak
        peak = max(peak, pool.size, manager.open_count + 1)

    manager.on_connect = on_connect
    in_hand: Counter[int] = Counter()
    state: dict[asyncio.Task[None], str] = {}
    landed: Counter[str] = Counter()
    events: Counter[str] = Counter()
    pool.add_listener(lambda event: events.update([event.type]))

    async def worker() -> None:
        me = asyncio.current_task()
        assert me is not None
        while True:
            state[me] = "acquiring"
            try:
                async with pool.acquire(timeout=rng.choice([None, 0.001, 0.01])) as conn:
                    state[me] = "holding"
                    raw = conn.raw
                    assert not raw.closed, "handed out a closed connection"
                    in_hand[raw.number] += 1
                    try:
                        assert in_hand[raw.number] == 1, "one connection handed out twice"
                        roll = rng.random()
                        if roll < 0.03:
                            conn.invalidate()
                        elif roll < 0.06:
                            conn.soft_invalidate()
                        elif roll < 0.09:
                            raw.valid = False  # fails its next probe
                        await asyncio.sleep(rng.choice([0, 0, 0.0002, 0.001]))
                    finally:
                        in_hand[raw.number] -= 1
                    state[me] = "releasing"
            except PoolTimeout:
                pass

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    finished: list[asyncio.Task[None]] = []
    for _ in range(500):
        await asyncio.sleep(rng.choice([0, 0, 0, 0.0001, 0.0005]))
        i = rng.randrange(len(tasks))
        landed[state.get(tasks[i], "starting")] += 1
        tasks[i].cancel()
        finished.append(tasks[i])
        tasks[i] = asyncio.create_task(worker())
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*finished, *tasks, return_exceptions=True)
    unexpected = [r for r in results if not isinstance(r, asyncio.CancelledError)]
    assert unexpected == []
    assert landed["acquiring"] > 50 and landed["holding"] > 50, landed

    await settle(pool, manager)
    assert peak <= max_size
    assert sum(in_hand.values()) == 0
    idle: list[PoolConnection[FakeConn]] = []
    while (conn := pool.try_acquire()) is not None:
        idle.append(conn)
    assert len({c.raw.number for c in idle}) == len(idle) == manager.open_count
    assert not any(c.raw.closed for c in idle)
    for conn in idle:
        await pool.release(conn)
    assert events["ConnectionCreated"] == len(manager.created)

    await asyncio.wait_for(pool.close(), 2)
    assert len(manager.closed) == len(manager.created)
    assert len({c.number for c in manager.closed}) == len(manager.closed)
    assert events["ConnectionClosed"] == len(manager.closed)
    assert pool.size == 0


async def test_closing_under_load_with_flaky_connects_leaks_nothing(
    manager: FakeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_core, "retry_delay", lambda failures: 0.001)
    rng = random.Random(7)
    manager.yield_points = 1

    def flaky_connect() -> None:
        if rng.random() < 0.3:
            raise ConnectionResetError("flaky network")

    manager.on_connect = flaky_connect
    pool = Pool(manager, PoolOptions(max_size=3, acquire_timeout=0.2, connect_timeout=0.1))
    outcomes: Counter[str] = Counter()

    async def worker() -> None:
        while True:
            try:
                async with pool.acquire() as conn:
                    await asyncio.sleep(rng.choice([0, 0.0005]))
                    if rng.random() < 0.05:
                        conn.invalidate()
            except PoolTimeout:
                outcomes["timeout"] += 1
            except PoolClosed:
                outcomes["closed"] += 1
                return

    tasks = [asyncio.create_task(worker()) for _ in range(8)]
    for _ in range(100):
        await asyncio.sleep(0.0005)
        tasks[rng.randrange(len(tasks))].cancel()
        tasks = [t if not t.cancelled() else asyncio.create_task(worker()) for t in tasks]
    await asyncio.wait_for(pool.close(), 2)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(r is None or isinstance(r, asyncio.CancelledError) for r in results)
    assert outcomes["closed"] > 0
    assert pool.size == 0 and pool.stats().in_use == 0
    assert len(manager.closed) == len(manager.created)
    assert pool.stats().connect_errors > 0
