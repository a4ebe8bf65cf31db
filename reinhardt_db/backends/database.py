"""``Database``: one configured alias, its pools (one per event loop) and its API.

Every call either runs on the connection bound to the current task (inside
``connection()``/``transaction()``, later ``atomic()``) or borrows a pooled
connection in autocommit mode and gives it back at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from reinhardt_db import exceptions as exc
from reinhardt_db.backends._params import check_params
from reinhardt_db.backends.base import (
    DatabaseFeatures,
    DatabaseOperations,
    Driver,
    ExecuteResult,
    SchemaEditor,
)
from reinhardt_db.backends.records import Record, make_records
from reinhardt_db.pool import Pool, PoolConnection, PoolTimeout

if TYPE_CHECKING:
    from types import ModuleType

    from sqlalchemy.engine.interfaces import Dialect

    from reinhardt_db.conf import DatabaseSettings

__all__ = ["BoundConnection", "Database", "sql_logger"]

sql_logger = logging.getLogger("reinhardt_db.sql")
_DEBUG = logging.DEBUG

T = TypeVar("T")


class BoundConnection:
    """A pooled connection bound to one task's context for a block of work."""

    __slots__ = ("busy", "conn", "depth", "in_transaction", "invalid", "pool", "raw")

    def __init__(self, pool: Pool[Any], conn: PoolConnection[Any]) -> None:
        self.pool = pool
        self.conn = conn
        self.raw = conn.raw
        self.depth = 1
        self.busy = False
        self.in_transaction = False
        self.invalid = False

    def discard(self) -> None:
        """Close the connection: its state is unknown (cancelled mid-statement, lost)."""
        if not self.invalid:
            self.invalid = True
            self.conn.invalidate()


# alias -> BoundConnection. A fresh dict is set on every change so that tasks
# spawned inside a block see the binding (and are refused while it is busy)
# without ever mutating their parent's view.
_bound: ContextVar[dict[str, BoundConnection] | None] = ContextVar(
    "reinhardt_db_bound_connections", default=None
)


def _discarded_error(alias: str) -> exc.OperationalError:
    return exc.OperationalError(
        f"the connection bound to database {alias!r} was closed after an earlier error or "
        "cancellation in this block, and its transaction is gone; leave the block and "
        "start the work again"
    )


def _busy_error(alias: str) -> exc.TransactionManagementError:
    return exc.TransactionManagementError(
        f"the connection bound to database {alias!r} is busy with another statement: "
        "a task spawned inside connection()/atomic() shares its parent's connection, and "
        "statements on one connection cannot overlap. Await the statements one after "
        "another, or run the concurrent tasks outside the block."
    )


class Database:
    """One configured database (``reinhardt_db.connections[alias]``).

    Raw SQL uses ``%s`` placeholders on every backend::

        db = reinhardt_db.connections["default"]
        rows = await db.fetch_all("SELECT id, name FROM t WHERE id > %s", [10])
        rows[0]["name"]
    """

    def __init__(self, alias: str, settings: DatabaseSettings, backend: ModuleType) -> None:
        self.alias = alias
        self.settings = settings
        #: Driver calls on raw connections (``backends/<vendor>/driver.py``).
        self.driver: Driver = backend.driver_class(settings)
        #: Vendor SQL for the layers above (``backends/<vendor>/operations.py``).
        self.ops: DatabaseOperations = backend.operations_class()
        self.features: DatabaseFeatures = backend.features
        self._schema_editor_class: type[SchemaEditor] = backend.schema_editor_class
        self._backend = backend
        self.vendor: str = self.driver.vendor
        self.dialect: Dialect = self.driver.dialect()
        self._driver_errors = self.driver.driver_errors
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Pool[Any]] = (
            weakref.WeakKeyDictionary()
        )
        self._last_loop: asyncio.AbstractEventLoop | None = None
        self._last_pool: Pool[Any] | None = None

    def __repr__(self) -> str:
        return f"<Database {self.alias!r} {self.vendor}>"

    # -- pools --------------------------------------------------------------------------
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

    def _pool_options(self) -> Any:
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

    def _failed(
        self, error: BaseException, raw: Any, discard: Callable[[], None]
    ) -> exc.DatabaseError:
        """Discard the connection if ``error`` finished it; return the error to raise."""
        if self.driver.discard_after(raw, error):
            discard()
        return self.driver.map_error(error)

    async def _acquire(self, pool: Pool[Any]) -> PoolConnection[Any]:
        """Acquire from ``pool``; a database that cannot be reached is DatabaseUnavailable."""
        try:
            return await pool.acquire()
        except PoolTimeout as error:
            unavailable = self._unavailable(error)
            if unavailable is None:
                raise
            raise unavailable from error

    # -- running statements -------------------------------------------------------------
    async def _run(
        self, op: Callable[[Any, str, Any], Awaitable[T]], sql: str, params: Any
    ) -> T:
        bound_map = _bound.get()
        if bound_map is not None:
            bound = bound_map.get(self.alias)
            if bound is not None:
                return await self._run_bound(bound, op, sql, params)
        pool = self.pool
        try:
            conn = await pool.acquire()
        except PoolTimeout as error:
            unavailable = self._unavailable(error)
            if unavailable is None:
                raise
            raise unavailable from error
        try:
            if sql_logger.isEnabledFor(_DEBUG):
                return await self._logged(op, conn.raw, sql, params)
            return await op(conn.raw, sql, params)
        except self._driver_errors as error:
            raise self._failed(error, conn.raw, conn.invalidate) from error
        except BaseException:
            # Cancelled or interrupted mid-statement: the protocol state is unknown.
            conn.invalidate()
            raise
        finally:
            await pool.release(conn)

    async def _run_bound(
        self,
        bound: BoundConnection,
        op: Callable[[Any, str, Any], Awaitable[T]],
        sql: str,
        params: Any,
    ) -> T:
        if bound.busy:
            raise _busy_error(self.alias)
        if bound.invalid:
            raise _discarded_error(self.alias)
        bound.busy = True
        try:
            if sql_logger.isEnabledFor(_DEBUG):
                return await self._logged(op, bound.raw, sql, params)
            return await op(bound.raw, sql, params)
        except self._driver_errors as error:
            raise self._failed(error, bound.raw, bound.discard) from error
        except BaseException:
            bound.discard()
            raise
        finally:
            bound.busy = False

    async def _logged(
        self, op: Callable[[Any, str, Any], Awaitable[T]], raw: Any, sql: str, params: Any
    ) -> T:
        start = time.perf_counter()
        try:
            return await op(raw, sql, params)
        finally:
            elapsed = (time.perf_counter() - start) * 1000
            sql_logger.debug(
                "(%.3f ms) %s; params=%r; alias=%s",
                elapsed, sql, params, self.alias,
                extra={"duration_ms": elapsed, "sql": sql, "params": params, "alias": self.alias},
            )

    # -- ORM fast path (native paramstyle) ----------------------------------------------
    async def fetch_rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run native-paramstyle SQL and return the driver's rows."""
        return await self._run(self.driver.fetch_rows, sql, params)

    async def fetch_row(self, sql: str, params: Sequence[Any] = ()) -> Any | None:
        """Run native-paramstyle SQL and return the first row, or None."""
        return await self._run(self.driver.fetch_row, sql, params)

    async def execute_native(self, sql: str, params: Sequence[Any] = ()) -> ExecuteResult:
        """Run a native-paramstyle statement; report rows touched and the new row id."""
        return await self._run(self.driver.execute, sql, params)

    async def executemany_native(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> int:
        """Run a native-paramstyle statement once per parameter set."""
        return await self._run(self.driver.executemany, sql, seq_of_params)

    async def stream_rows(
        self, sql: str, params: Sequence[Any] = (), chunk_size: int = 2000
    ) -> AsyncIterator[list[Any]]:
        """Yield the result of native-paramstyle SQL in chunks of up to ``chunk_size`` rows.

        PostgreSQL and MySQL read through a server-side cursor, so memory stays
        flat however large the result. Close the iterator (``contextlib.aclosing``)
        if you stop early.
        """
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        if sql_logger.isEnabledFor(_DEBUG):  # logged when started (its duration is the caller's)
            sql_logger.debug(
                "(stream) %s; params=%r; alias=%s", sql, params, self.alias,
                extra={"duration_ms": 0.0, "sql": sql, "params": params, "alias": self.alias},
            )
        # No ContextVar binding here: an async generator runs in its consumer's
        # context, so a binding made inside it would leak into the consumer.
        bound = self.bound_connection()
        pool: Pool[Any] | None = None
        if bound is not None:
            if self.driver.stream_holds_connection:
                if bound.busy:
                    raise _busy_error(self.alias)
                bound.busy = True
            conn, raw = bound.conn, bound.raw
        else:
            pool = self.pool
            conn = await self._acquire(pool)
            raw = conn.raw
        stream = self.driver.stream(raw, sql, params, chunk_size)
        finished = False
        try:
            while True:
                try:
                    chunk = await stream.__anext__()
                except StopAsyncIteration:
                    finished = True
                    break
                except self._driver_errors as error:
                    discard = bound.discard if bound is not None else conn.invalidate
                    raise self._failed(error, raw, discard) from error
                yield chunk
        finally:
            if not finished:
                # An abandoned server-side cursor would have to be drained;
                # dropping a pooled connection is cheaper and always safe.
                if pool is not None:
                    conn.invalidate()
                with contextlib.suppress(BaseException):
                    await stream.aclose()  # type: ignore[attr-defined]
            if bound is not None and self.driver.stream_holds_connection:
                bound.busy = False
            if pool is not None:
                await pool.release(conn)

    # -- user-facing raw SQL ("%s" placeholders) ----------------------------------------
    async def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        """Run a statement with ``%s`` placeholders; return the rows it touched."""
        result = await self._run(
            self.driver.execute, self.driver.native_sql(sql), _params(sql, params)
        )
        return result.rowcount

    async def executemany(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> int:
        """Run a statement with ``%s`` placeholders once per parameter set."""
        native = self.driver.native_sql(sql)
        seq = [_params(sql, p) for p in seq_of_params]
        return await self._run(self.driver.executemany, native, seq)

    async def fetch_all(self, sql: str, params: Sequence[Any] | None = None) -> list[Record]:
        """Run a query with ``%s`` placeholders; return its rows as ``Record`` objects."""
        names, rows = await self._run(
            self.driver.fetch_described, self.driver.native_sql(sql), _params(sql, params)
        )
        return make_records(names, rows)

    async def fetch_one(self, sql: str, params: Sequence[Any] | None = None) -> Record | None:
        """Run a query with ``%s`` placeholders; return the first row or None."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_val(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """Run a query with ``%s`` placeholders; return the first column of the first row."""
        row = await self._run(
            self.driver.fetch_row, self.driver.native_sql(sql), _params(sql, params)
        )
        return None if row is None else row[0]

    async def server_version(self) -> str:
        """The server's version string (for SQLite, the library's)."""
        async with self.connection() as bound:
            try:
                return await self.driver.server_version(bound.raw)
            except self._driver_errors as error:
                raise self._failed(error, bound.raw, bound.discard) from error

    # -- server features and the schema editor ------------------------------------------
    async def _read_features(self, raw: Any) -> None:
        """On the first connect, make ``features`` and ``dialect`` the server's.

        Once per Database, not per pool or loop (connects racing the first one
        read too, so every connection handed out has the server's features,
        but only the first result is kept). The dialect is replaced, not
        changed in place: statements compiled before (the first query compiles
        before its connection opens) are cached under the old dialect object,
        so none of them is served once the server's version is known.
        """
        if self.features.server_version:
            return
        try:
            version = await self.driver.server_version(raw)
        except self._driver_errors as error:
            raise self.driver.map_error(error) from error
        if self.features.server_version:
            return
        features = self._backend.server_features(version)
        dialect = self.driver.dialect()
        self._backend.initialize_dialect(dialect, features)
        self.features, self.dialect = features, dialect

    def schema_editor(self, *, collect_sql: bool = False, atomic: bool = True) -> SchemaEditor:
        """Return this backend's schema editor: ``async with db.schema_editor() as editor:``.

        The block runs on one connection, in a transaction where the server has
        transactional DDL (and ``atomic``); ``collect_sql=True`` records the
        statements in ``editor.collected_sql`` instead of running them.
        """
        return self._schema_editor_class(self, collect_sql=collect_sql, atomic=atomic)

    # -- task-bound connections and transactions ----------------------------------------
    def bound_connection(self) -> BoundConnection | None:
        """The connection bound to the current task for this alias, if any."""
        bound_map = _bound.get()
        return None if bound_map is None else bound_map.get(self.alias)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[BoundConnection]:
        """Bind one pooled connection to the current task for the block.

        Every statement this task (and tasks it spawns) runs on this database
        inside the block uses that connection. Nested blocks reuse it.
        """
        bound_map = _bound.get()
        existing = None if bound_map is None else bound_map.get(self.alias)
        if existing is not None:
            existing.depth += 1
            try:
                yield existing
            finally:
                existing.depth -= 1
            return
        pool = self.pool
        conn = await self._acquire(pool)
        bound = BoundConnection(pool, conn)
        token = _bound.set({**(bound_map or {}), self.alias: bound})
        try:
            yield bound
        except BaseException:
            if bound.in_transaction or bound.busy:
                bound.discard()
            raise
        finally:
            _bound.reset(token)
            await pool.release(conn)

    @contextlib.asynccontextmanager
    async def transaction(
        self, *, isolation: str | None = None, read_only: bool = False
    ) -> AsyncIterator[BoundConnection]:
        """Run the block in a transaction on the task's connection: BEGIN ... COMMIT.

        An exception rolls back and propagates. Nested transactions (savepoints)
        come from ``reinhardt_db.transaction.atomic()``.
        """
        async with self.connection() as bound:
            if bound.in_transaction:
                raise exc.TransactionManagementError(
                    f"database {self.alias!r} already has a transaction open on this task; "
                    "nest with transaction.atomic() (savepoints) instead"
                )
            await self._tx_step(bound, self.driver.begin(bound.raw, isolation, read_only))
            bound.in_transaction = True
            try:
                yield bound
            except BaseException:
                bound.in_transaction = False
                if not bound.invalid and not self.driver.is_broken(bound.raw):
                    try:
                        await self._tx_step(bound, self.driver.rollback(bound.raw))
                    except BaseException:
                        # The error that started the rollback is the one to report.
                        bound.discard()
                raise
            bound.in_transaction = False
            await self._tx_step(bound, self.driver.commit(bound.raw))

    async def _tx_step(self, bound: BoundConnection, step: Awaitable[None]) -> None:
        if bound.busy:
            step.close()  # type: ignore[attr-defined]
            raise _busy_error(self.alias)
        if bound.invalid:
            step.close()  # type: ignore[attr-defined]
            raise _discarded_error(self.alias)
        # Busy while the step runs, so a cancellation mid-BEGIN/COMMIT discards
        # the connection instead of pooling one whose transaction state is unknown.
        bound.busy = True
        try:
            await step
        except self._driver_errors as error:
            raise self._failed(error, bound.raw, bound.discard) from error
        except BaseException:
            bound.discard()
            raise
        finally:
            bound.busy = False


def _params(sql: str, params: Sequence[Any] | None) -> tuple[Any, ...]:
    if params is None:
        values: tuple[Any, ...] = ()
    elif isinstance(params, (str, bytes)) or not isinstance(params, Sequence):
        raise TypeError(
            f"params must be a list or tuple of values for the %s placeholders, "
            f"got {type(params).__name__}"
        )
    else:
        values = tuple(params)
    check_params(sql, values)
    return values
