"""What ``pool.acquire()`` returns: awaitable and an async context manager."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Generic

from reinhardt_db.pool.base import C
from reinhardt_db.pool.connection import PoolConnection
from reinhardt_db.pool.errors import PoolError

if TYPE_CHECKING:
    from reinhardt_db.pool.pool import Pool

__all__ = ["PoolAcquireContext"]


class PoolAcquireContext(Generic[C]):
    """Acquire a connection: ``conn = await pool.acquire()`` or ``async with pool.acquire()``.

    ``async with`` releases the connection on the way out, whatever happened
    (unless it was already released or invalidated inside the block).
    To run an acquire as a task, wrap it: ``asyncio.ensure_future(pool.acquire())``.
    """

    __slots__ = ("_conn", "_fail_fast", "_pool", "_timeout")

    def __init__(self, pool: Pool[C], timeout: float | None, fail_fast: bool = False) -> None:
        """Prepare to acquire from ``pool`` within ``timeout`` seconds (None: the default)."""
        self._pool = pool
        self._timeout = timeout
        self._fail_fast = fail_fast
        self._conn: PoolConnection[C] | None = None

    def __await__(self) -> Generator[Any, None, PoolConnection[C]]:
        return self._pool._acquire(self._timeout, self._fail_fast).__await__()

    async def __aenter__(self) -> PoolConnection[C]:
        if self._conn is not None:
            raise PoolError("this pool.acquire() is already entered; call pool.acquire() again")
        self._conn = await self._pool._acquire(self._timeout, self._fail_fast)
        return self._conn

    async def __aexit__(self, *exc_info: object) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn._released:
            await self._pool.release(conn)
