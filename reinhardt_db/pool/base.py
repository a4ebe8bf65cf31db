"""The seam between the pool and a driver: :class:`ConnectionManager`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Generic, TypeVar

__all__ = ["C", "ConnectionManager"]

C = TypeVar("C")


class ConnectionManager(ABC, Generic[C]):
    """Open, probe, reset and close connections of one driver for a :class:`Pool`.

    Each backend brings one; the pool never talks to the driver any other way.
    The pool bounds every call with ``PoolOptions.connect_timeout``. A connect
    error is retried with back-off until ``acquire_timeout``, unless
    :meth:`is_permanent` says retrying cannot help: then every caller waiting
    for a connection gets that error at once::

        class PostgresManager(ConnectionManager[asyncpg.Connection]):
            async def connect(self) -> asyncpg.Connection:
                return await asyncpg.connect(self.dsn)

            async def is_valid(self, conn: asyncpg.Connection) -> bool:
                return not conn.is_closed()

            async def reset(self, conn: asyncpg.Connection) -> None:
                if conn.is_in_transaction():
                    await conn.execute("ROLLBACK")

            async def close(self, conn: asyncpg.Connection) -> None:
                await conn.close()

            def is_permanent(self, error: Exception) -> bool:
                return isinstance(error, asyncpg.InvalidCatalogNameError)
    """

    __slots__ = ()

    @abstractmethod
    async def connect(self) -> C:
        """Open and return a new connection; raise on failure."""

    @abstractmethod
    async def is_valid(self, conn: C) -> bool:
        """Return whether ``conn`` is still usable; keep it cheap (no round trip if possible)."""

    @abstractmethod
    async def reset(self, conn: C) -> None:
        """Return ``conn`` to a clean session state before another task may use it."""

    def is_valid_nowait(self, conn: C) -> bool | None:
        """Return whether ``conn`` is usable when that is known without I/O, else None.

        Lets ``Pool.acquire_nowait()`` hand out an idle connection without
        awaiting ``is_valid``. The default, None, always takes the awaited path.
        """
        return None

    def needs_reset(self, conn: C) -> bool:
        """Return whether a release of ``conn`` not marked dirty must still run ``reset``.

        The pool calls this (synchronously, no I/O) on every release of a
        connection nobody marked dirty; ``False`` skips ``reset`` entirely. The
        default, ``True``, resets on every release. A manager whose borrowers mark
        every session change (``PoolConnection.mark_dirty``, or taking ``.raw``)
        answers from what it can see without a round trip, e.g. an open
        transaction.
        """
        return True

    @abstractmethod
    async def close(self, conn: C) -> None:
        """Close ``conn``; the pool never uses it again."""

    def is_permanent(self, error: Exception) -> bool:
        """Return True when ``error``, raised by :meth:`connect`, cannot go away by retrying.

        Wrong credentials, an unknown database, a host name that does not resolve:
        the pool raises such an error from ``acquire()`` at once instead of
        retrying until ``acquire_timeout``. The default says no to everything, so
        every connect error is retried (a refused or reset connection, a timeout,
        a server starting up). Keep it cheap and free of I/O.
        """
        return False
