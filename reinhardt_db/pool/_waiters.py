"""The queue of callers waiting for a connection, first come first served."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["WaitExpired", "WaitQueue", "Waiter"]

T = TypeVar("T")


class WaitExpired(Exception):
    """Set on a waiter's future when its deadline passes."""


class Waiter(Generic[T]):
    """One queued caller: the future that will carry its connection, and its deadline.

    ``fail_fast``: the caller wants a failed connect reported at once
    (:meth:`WaitQueue.fail_fast`) rather than waiting for the pool's retries.
    """

    __slots__ = ("deadline", "fail_fast", "future")

    def __init__(self, future: asyncio.Future[T], deadline: float, fail_fast: bool = False) -> None:
        """Wait on ``future`` until monotonic time ``deadline``."""
        self.future = future
        self.deadline = deadline
        self.fail_fast = fail_fast


class WaitQueue(deque[Waiter[T]]):
    """Queue waiters in arrival order, with one timer for all their deadlines.

    A timer per waiter would cost a heap push and a cancel on every wait; one
    timer armed at the earliest deadline fires rarely, expires every waiter
    that is due and re-arms itself for the next. A waiter that was served or
    left early may stay queued with a done future until it is passed over.
    """

    __slots__ = ("_timer", "_timer_at")

    def __init__(self) -> None:
        """Start empty, with no timer."""
        super().__init__()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf

    def join(
        self,
        loop: asyncio.AbstractEventLoop,
        deadline: float,
        *,
        front: bool = False,
        fail_fast: bool = False,
    ) -> Waiter[T]:
        """Queue a new waiter (at the back, or the front to keep an earlier turn)."""
        waiter: Waiter[T] = Waiter(loop.create_future(), deadline, fail_fast)
        if front:
            self.appendleft(waiter)
        else:
            self.append(waiter)
        if deadline < self._timer_at:
            self._arm(loop, deadline)
        return waiter

    def serve(self, item: T) -> bool:
        """Give ``item`` to the first waiter still waiting; return False if there is none."""
        while self:
            future = self.popleft().future
            if not future.done():
                future.set_result(item)
                return True
        return False

    def leave(self, waiter: Waiter[T]) -> None:
        """Take ``waiter`` out of the queue if it is still there."""
        try:
            self.remove(waiter)
        except ValueError:
            pass

    def live(self) -> int:
        """Return how many queued waiters are still waiting."""
        return sum(1 for waiter in self if not waiter.future.done())

    def fail_all(self, error: Callable[[], BaseException]) -> None:
        """Empty the queue, failing every waiter still waiting with ``error()``."""
        self.stop()
        while self:
            future = self.popleft().future
            if not future.done():
                future.set_exception(error())

    def fail_fast(self, error: Callable[[], BaseException]) -> None:
        """Fail, with ``error()``, the waiters that asked to hear of a failed connect at once."""
        for waiter in [w for w in self if w.fail_fast and not w.future.done()]:
            self.remove(waiter)
            waiter.future.set_exception(error())

    def stop(self) -> None:
        """Cancel the deadline timer."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = math.inf

    def _arm(self, loop: asyncio.AbstractEventLoop, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_later(max(0.0, at - time.monotonic()), self._expire, loop)
        self._timer_at = at

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        self._timer_at = math.inf
        now = time.monotonic()
        upcoming = math.inf
        for waiter in self:
            if waiter.future.done():
                continue
            if waiter.deadline <= now:
                waiter.future.set_exception(WaitExpired())
            elif waiter.deadline < upcoming:
                upcoming = waiter.deadline
        if upcoming < math.inf:
            self._arm(loop, upcoming)
