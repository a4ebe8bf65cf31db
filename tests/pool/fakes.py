"""An in-memory ConnectionManager that can be told to fail, hang or go bad."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

from reinhardt_db.pool import ConnectionManager

HANG = 3600.0


class FakeConn:
    """A pretend driver connection that records what the pool did to it."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False
        self.valid = True
        self.resets = 0
        self.users = 0  # tasks holding it right now, per the tests' own bookkeeping

    async def execute(self, sql: str) -> str:
        assert not self.closed, "query on a closed connection"
        await asyncio.sleep(0)
        return f"{sql} on {self.number}"

    def __repr__(self) -> str:
        return f"<FakeConn {self.number}>"


class FakeManager(ConnectionManager[FakeConn]):
    """Count connects and closes; fail, hang or delay on demand."""

    def __init__(self) -> None:
        self._numbers = itertools.count()
        self.created: list[FakeConn] = []
        self.closed: list[FakeConn] = []
        self.connect_attempts = 0
        self.connect_error: BaseException | None = None
        self.connect_hangs = False
        self.connect_delay = 0.0
        self.valid = True
        self.is_valid_calls = 0
        self.is_valid_hangs = False
        self.is_valid_error: BaseException | None = None
        self.reset_calls = 0
        self.reset_hangs = False
        self.reset_error: BaseException | None = None
        self.close_hangs = False
        self.close_error: BaseException | None = None
        self.yield_points = 0  # extra sleep(0)s in every call, to widen race windows
        self.on_connect: Callable[[], None] | None = None
        self.permanent: Callable[[Exception], bool] | None = None  # is_permanent's answer
        self.is_permanent_calls: list[Exception] = []

    async def _pause(self, hang: bool, delay: float = 0.0) -> None:
        for _ in range(self.yield_points):
            await asyncio.sleep(0)
        if delay:
            await asyncio.sleep(delay)
        if hang:
            await asyncio.sleep(HANG)

    async def connect(self) -> FakeConn:
        self.connect_attempts += 1
        if self.on_connect is not None:
            self.on_connect()
        await self._pause(self.connect_hangs, self.connect_delay)
        if self.connect_error is not None:
            raise self.connect_error
        conn = FakeConn(next(self._numbers))
        self.created.append(conn)
        return conn

    async def is_valid(self, conn: FakeConn) -> bool:
        self.is_valid_calls += 1
        await self._pause(self.is_valid_hangs)
        if self.is_valid_error is not None:
            raise self.is_valid_error
        return self.valid and conn.valid and not conn.closed

    async def reset(self, conn: FakeConn) -> None:
        self.reset_calls += 1
        await self._pause(self.reset_hangs)
        if self.reset_error is not None:
            raise self.reset_error
        conn.resets += 1

    async def close(self, conn: FakeConn) -> None:
        assert not conn.closed, f"{conn!r} closed twice"
        await self._pause(self.close_hangs)
        conn.closed = True
        self.closed.append(conn)
        if self.close_error is not None:
            raise self.close_error

    def is_permanent(self, error: Exception) -> bool:
        self.is_permanent_calls.append(error)
        if self.permanent is None:
            return super().is_permanent(error)
        return self.permanent(error)

    @property
    def open_count(self) -> int:
        return len(self.created) - len(self.closed)


async def until(predicate: Callable[[], bool], within: float = 1.0, what: str = "") -> None:
    """Wait until ``predicate()`` holds, failing the test after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within}s: {what or predicate}")
        await asyncio.sleep(0.001)
