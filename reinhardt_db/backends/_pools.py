"""A database's pools: one per event loop, opened on first use in that loop."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import replace
from types import ModuleType
from typing import TYPE_CHECKING, Any

from reinhardt_db import exceptions as exc
from reinhardt_db.pool import Pool, PoolConnectError, PoolConnection, PoolOptions, PoolTimeout

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import Dialect

    from reinhardt_db.backends.base import (
        DatabaseFeatures,
        DatabaseOperations,
        Driver,
        SchemaEditor,
    )
    from reinhardt_db.conf import DatabaseSettings

__all__ = ["DatabasePools", "failing_fast"]

#: True inside :func:`failing_fast`: connects are not retried for this task.
_fail_fast: ContextVar[bool] = ContextVar("reinhardt_db_fail_fast", default=False)


@contextlib.contextmanager
def failing_fast() -> Iterator[None]:
    """Inside the block, a database of this task that cannot be connected to fails at once.

    A connect that fails (a refused port, a reset, a connect_timeout) raises
    ``DatabaseUnavailable`` at once instead of being retried until
    ``acquire_timeout``: for callers with another database to go to, such as a
    router reading from replicas. Waiting for a busy pool is not affected.
    """
    token = _fail_fast.set(True)
    try:
        yield
    finally:
        _fail_fast.reset(token)


class DatabasePools:
    """The pool part of :class:`~reinhardt_db.backends.database.Database`.

    Declares the attributes every part of ``Database`` shares; ``Database``
    sets them.
    """

    alias: str
    settings: DatabaseSettings
    driver: Driver
    ops: DatabaseOperations
    features: DatabaseFeatures
    vendor: str
    dialect: Dialect
    _schema_editor_class: type[SchemaEditor]
    _backend: ModuleType
    _driver_errors: tuple[type[BaseException], ...]
    _pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Pool[Any]]
    _last_loop: asyncio.AbstractEventLoop | None
    _last_pool: Pool[Any] | None
    _refusal: str | None

    async def _read_features(self, raw: Any) -> None:
        raise NotImplementedError  # Database defines it

    def _init_pools(self) -> None:
        self._pools = weakref.WeakKeyDictionary()
        self._last_loop = None
        self._last_pool = None
        self._refusal = None

    def refuse_connections(self, reason: str | None) -> None:
        """Make whatever needs a connection from a pool raise ``TransactionManagementError``.

        The error's message is ``reason``; ``None`` lifts the refusal. Connections
        already bound to a task (``connection()``, ``atomic()``) keep working. The
        pytest plugin's ``db`` fixture holds its test transaction on one and
        refuses the rest, so that a statement that lost the binding fails
        instead of committing outside the transaction the test rolls back.
        """
        self._refusal = reason
        # The next `pool` lookup takes the slow path, which checks the refusal.
        self._last_loop = self._last_pool = None

    @property
    def pool(self) -> Pool[Any]:
        """The pool of the running event loop (opened on first use)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise exc.InterfaceError(
                f"database {self.alias!r}: the pool belongs to an event loop; "
                "use it from async code (inside asyncio.run(...))"
            ) from None
        pool = self._last_pool
        if loop is self._last_loop and pool is not None and not pool.closed:
            return pool
        return self._open_pool(loop)

    def _open_pool(self, loop: asyncio.AbstractEventLoop) -> Pool[Any]:
        # Synchronous on purpose: no await between the lookup and the store, so
        # concurrent first uses in one loop can only ever open one pool.
        if self._refusal is not None:
            raise exc.TransactionManagementError(self._refusal)
        pool = self._pools.get(loop)
        if pool is None or pool.closed:
            pool = Pool(
                self.driver.connection_manager(),
                self._pool_options(),
                name=self.alias,
                after_connect=self._read_features,
            )
            self._pools[loop] = pool
        self._last_loop, self._last_pool = loop, pool
        return pool

    def _pool_options(self) -> PoolOptions:
        options = self.settings.pool.to_options()
        if self.vendor == "sqlite" and self.settings.parsed.database == ":memory:":
            # Each SQLite connection to ":memory:" is its own empty database, and
            # closing the last one loses it: keep exactly one, forever.
            options = replace(
                options, max_size=1, min_size=min(options.min_size, 1),
                idle_timeout=None, max_lifetime=None,
            )
        return options

    def _unavailable(self, error: PoolTimeout) -> exc.DatabaseUnavailable | None:
        """The error for a timeout caused by connect failures; None when all were busy."""
        if error.__cause__ is None:
            return None
        url = self.settings.parsed
        where = url.database if self.vendor == "sqlite" else f"{url.host}:{url.port}"
        return exc.DatabaseUnavailable(
            f"database {self.alias!r} ({self.vendor} at {where}) could not be reached "
            f"within acquire_timeout={self.settings.pool.acquire_timeout}s: {error.__cause__}"
        )

    def _unreachable(self, error: BaseException) -> exc.DatabaseUnavailable:
        """The error for a connect that failed while the task was :func:`failing_fast`."""
        url = self.settings.parsed
        where = url.database if self.vendor == "sqlite" else f"{url.host}:{url.port}"
        unavailable = exc.DatabaseUnavailable(
            f"database {self.alias!r} ({self.vendor} at {where}) could not be reached: {error}"
        )
        unavailable.connect_failed = True
        return unavailable

    async def _acquire(self, pool: Pool[Any]) -> PoolConnection[Any]:
        """Acquire from ``pool``; a database that cannot be reached is DatabaseUnavailable."""
        conn = pool.acquire_nowait()
        if conn is not None:
            return conn
        fail_fast = _fail_fast.get()
        try:
            return await pool.acquire(fail_fast=fail_fast)
        except PoolConnectError as error:
            raise self._unreachable(error.__cause__ or error) from error
        except exc.OperationalError as error:
            # A permanent connect error (wrong password, missing SQLite folder).
            if fail_fast and not isinstance(error, exc.DatabaseUnavailable):
                raise self._unreachable(error) from error
            raise
        except PoolTimeout as error:
            unavailable = self._unavailable(error)
            if unavailable is None:
                raise
            raise unavailable from error

    async def close(self) -> None:
        """Close this database's pool for the running loop (others are dropped)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        pools = list(self._pools.items())
        self._pools.clear()
        self._last_loop = self._last_pool = None
        for pool_loop, pool in pools:
            if pool_loop is loop:
                await pool.close()
