"""Acquire is first come, first served, and newcomers never barge."""

from __future__ import annotations

import asyncio

from reinhardt_db.pool import PoolConnection

from .conftest import MakePool
from .fakes import FakeConn, FakeManager, until


async def test_200_tasks_on_5_connections_are_served_in_arrival_order(
    make_pool: MakePool, manager: FakeManager
) -> None:
    manager.connect_delay = 0.001
    pool = make_pool(max_size=5)
    arrived: list[int] = []
    served: list[int] = []
    busy = peak = 0

    async def job(i: int) -> None:
        nonlocal busy, peak
        arrived.append(i)
        async with pool.acquire() as conn:
            served.append(i)
            busy += 1
            peak = max(peak, busy)
            await asyncio.sleep(0)
            await conn.execute("x")
            busy -= 1

    await asyncio.gather(*(job(i) for i in range(200)))
    assert served == arrived
    assert peak == 5
    assert pool.size == 5 and len(manager.created) == 5


async def test_a_newcomer_does_not_barge_past_a_waiter(make_pool: MakePool) -> None:
    pool = make_pool(max_size=1)
    held = await pool.acquire()
    waiter = asyncio.ensure_future(pool.acquire())
    await until(lambda: pool.stats().waiting == 1)
    await pool.release(held)
    # The waiter has not run yet; a newcomer arriving now must queue behind it.
    assert pool.try_acquire() is None
    newcomer = asyncio.ensure_future(pool.acquire())
    first: PoolConnection[FakeConn] = await waiter
    await asyncio.sleep(0.01)
    assert not newcomer.done()
    await pool.release(first)
    await pool.release(await newcomer)


async def test_a_waiter_whose_connection_is_rejected_keeps_its_turn(
    make_pool: MakePool, manager: FakeManager
) -> None:
    reject = False
    rejected: list[int] = []

    def before_acquire(conn: FakeConn, meta: object) -> bool:
        nonlocal reject
        if reject:
            reject = False
            rejected.append(conn.number)
            return False
        return True

    pool = make_pool(max_size=2, before_acquire=before_acquire)
    a = await pool.acquire()
    b = await pool.acquire()
    order: list[str] = []

    async def wait(name: str) -> None:
        async with pool.acquire():
            order.append(name)

    first = asyncio.ensure_future(wait("first"))
    await until(lambda: pool.stats().waiting == 1)
    second = asyncio.ensure_future(wait("second"))
    await until(lambda: pool.stats().waiting == 2)
    manager.connect_delay = 0.2  # the replacement arrives after b is released
    reject = True
    await pool.release(a)  # handed to "first", which rejects it and queues again
    await until(lambda: rejected == [0] and pool.stats().waiting == 2)
    await pool.release(b)
    await asyncio.gather(first, second)
    assert order == ["first", "second"]
