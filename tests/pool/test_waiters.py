"""WaitQueue: arrival order, one timer for every deadline, early leavers."""

from __future__ import annotations

import asyncio
import time

import pytest

from reinhardt_db.pool._waiters import WaitExpired, WaitQueue


async def test_serve_goes_to_the_first_waiter_still_waiting() -> None:
    loop = asyncio.get_running_loop()
    queue: WaitQueue[str] = WaitQueue()
    far = time.monotonic() + 60
    a, b, c = (queue.join(loop, far) for _ in range(3))
    a.future.cancel()
    assert queue.live() == 2
    assert queue.serve("conn")
    assert b.future.result() == "conn" and not c.future.done()
    queue.leave(c)
    queue.leave(c)  # already gone: nothing happens
    assert not queue.serve("other")
    queue.stop()


async def test_join_at_the_front_keeps_an_earlier_turn() -> None:
    loop = asyncio.get_running_loop()
    queue: WaitQueue[str] = WaitQueue()
    far = time.monotonic() + 60
    late = queue.join(loop, far)
    early = queue.join(loop, far, front=True)
    queue.serve("x")
    assert early.future.done() and not late.future.done()
    queue.stop()


async def test_deadlines_expire_in_turn_with_one_timer() -> None:
    loop = asyncio.get_running_loop()
    queue: WaitQueue[str] = WaitQueue()
    now = time.monotonic()
    slow = queue.join(loop, now + 0.06)
    fast = queue.join(loop, now + 0.02)
    served = queue.join(loop, now + 0.01)
    served.future.set_result("x")
    queue.remove(served)
    with pytest.raises(WaitExpired):
        await fast.future
    assert time.monotonic() - now >= 0.02
    assert not slow.future.done()
    with pytest.raises(WaitExpired):
        await slow.future
    assert time.monotonic() - now >= 0.06


async def test_fail_all_empties_the_queue() -> None:
    loop = asyncio.get_running_loop()
    queue: WaitQueue[str] = WaitQueue()
    waiters = [queue.join(loop, time.monotonic() + 0.01) for _ in range(3)]
    queue.fail_all(lambda: RuntimeError("closed"))
    assert len(queue) == 0
    for waiter in waiters:
        with pytest.raises(RuntimeError, match="closed"):
            await waiter.future
    await asyncio.sleep(0.02)  # the timer was stopped: nothing else happens
