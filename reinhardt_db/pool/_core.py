"""The pool's machinery: its state, the supply of connections, and events.

:class:`PoolCore` opens connections for queued callers and ``min_size`` (backing
off while connects fail; failing the queued callers at once when the manager
calls a connect error permanent), closes the ones the pool no longer lends, expires idle
ones, hands free ones to the first waiter, and tells listeners. ``Pool`` adds the
lending side on top: acquire, release and the public API.

Invariants the code keeps (and the tests check):

- ``_size`` counts every connection the pool owns: opening, idle, checked out or
  closing. It never exceeds ``max_size``; ``in_use`` is what is left once the
  opening, closing and idle ones are taken away.
- Idle connections exist only while nobody is queued: a connection that comes
  back is handed straight to the first waiter, so newcomers cannot barge.
- A waiter's future carries the connection; whoever stops waiting (cancelled,
  timed out, pool closed) and finds one already assigned gives it back.
- Any await on a connection that is interrupted (cancelled, timed out) leaves it
  in an unknown state, so the connection is closed, never handed out again.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic

from reinhardt_db.pool._backoff import retry_delay
from reinhardt_db.pool._timeouts import bounded
from reinhardt_db.pool._waiters import WaitQueue
from reinhardt_db.pool.base import C, ConnectionManager
from reinhardt_db.pool.connection import ConnectionHolder, ConnectionMetadata
from reinhardt_db.pool.errors import PoolClosed, PoolConfigError, PoolConnectError, PoolError
from reinhardt_db.pool.events import (
    ConnectionClosed,
    ConnectionCreated,
    ConnectionReturned,
    PoolEvent,
)
from reinhardt_db.pool.options import PoolOptions

__all__ = ["AfterConnect", "ConnectionHook", "Listener", "PoolCore"]

logger = logging.getLogger("reinhardt_db.pool")

AfterConnect = Callable[[Any], Any]
"""``after_connect(conn)``: sync or async; raising fails the connect."""
ConnectionHook = Callable[[Any, ConnectionMetadata], Any]
"""``before_acquire``/``after_release(conn, meta)``: returning False discards ``conn``."""
Listener = Callable[[PoolEvent], Any]
"""``listener(event)``: sync or async."""

_monotonic = time.monotonic
_NO_CONN: Any = object()


def _connect_error(error: BaseException) -> PoolConnectError:
    """The error a ``fail_fast`` waiter gets when a connect fails: the cause attached."""
    failed = PoolConnectError(f"connect failed: {error!r}")
    failed.__cause__ = error
    return failed


class _PermanentConnectError(Exception):
    """Carry a connect error the manager called permanent from a connect task to its callback."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


class PoolCore(Generic[C]):
    """Keep a pool's state and its supply of connections (the base of :class:`Pool`)."""

    __slots__ = (
        "_acquires",
        "_after_connect",
        "_after_release",
        "_all_closed",
        "_before_acquire",
        "_closed",
        "_closed_count",
        "_closing",
        "_connect_errors",
        "_connect_tasks",
        "_created",
        "_failures",
        "_idle",
        "_last_connect_error",
        "_listeners",
        "_loop",
        "_lost",
        "_maintenance",
        "_manager",
        "_name",
        "_opening",
        "_options",
        "_prepare_idle",
        "_retry_handle",
        "_size",
        "_tasks",
        "_timeouts",
        "_total_wait",
        "_waiters",
        "_warned",
    )

    def __init__(
        self,
        manager: ConnectionManager[C],
        options: PoolOptions | None = None,
        *,
        after_connect: AfterConnect | None = None,
        before_acquire: ConnectionHook | None = None,
        after_release: ConnectionHook | None = None,
        name: str | None = None,
    ) -> None:
        """Make a pool; no connection is opened until it is first used."""
        if options is None:
            options = PoolOptions()
        elif not isinstance(options, PoolOptions):
            raise PoolConfigError(
                f"options must be a PoolOptions, got {type(options).__name__}; "
                f"build one with PoolOptions(max_size=..., ...)"
            )
        for hook_name, hook in (
            ("after_connect", after_connect),
            ("before_acquire", before_acquire),
            ("after_release", after_release),
        ):
            if hook is not None and not callable(hook):
                raise PoolConfigError(f"{hook_name} must be callable, got {hook!r}")
        self._manager = manager
        self._options = options
        self._name = name
        self._after_connect = after_connect
        self._before_acquire = before_acquire
        self._after_release = after_release
        self._prepare_idle = options.test_before_acquire or before_acquire is not None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: collections.deque[ConnectionHolder[C]] = collections.deque()
        self._waiters: WaitQueue[ConnectionHolder[C]] = WaitQueue()
        self._size = 0
        self._opening = 0
        self._closing = 0
        self._closed = False
        self._all_closed = asyncio.Event()
        self._maintenance: asyncio.Task[None] | None = None
        self._retry_handle: asyncio.TimerHandle | None = None
        # Each connect task, and whether it was a probe made while connects fail.
        self._connect_tasks: dict[asyncio.Task[C], bool] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._listeners: list[Listener] = []
        self._failures = 0
        self._warned = False  # a failed connect was logged at WARNING; the next at DEBUG
        self._last_connect_error: Exception | None = None
        self._acquires = 0
        self._timeouts = 0
        self._connect_errors = 0
        self._created = 0
        self._closed_count = 0
        self._lost = 0
        self._total_wait = 0.0

    def _dispatch(self, holder: ConnectionHolder[C], now: float, *, returned: bool) -> None:
        """Hand a free connection to the first waiter, or put it in the idle set."""
        if self._closed:
            self._discard(holder, "pool_closed")
        elif not self._waiters.serve(holder):
            holder.idle_since = now
            self._idle.append(holder)
            if returned and self._listeners:
                self._emit(ConnectionReturned, holder.id, {})

    def _grow(self, *, force: bool = False) -> None:
        """Open connections for queued callers and min_size, within max_size.

        While connects fail, probe with one attempt at a time after a back-off;
        ``force`` (a new caller) probes at once if nothing is connecting.
        """
        if self._closed:
            return
        room = self._options.max_size - self._size
        if room <= 0:
            return
        demand = max(
            len(self._waiters) - self._opening,
            self._options.min_size - (self._size - self._closing),
        )
        if demand <= 0:
            return
        if self._failures:
            if self._opening:
                return
            if not force:
                if self._retry_handle is None:
                    assert self._loop is not None
                    self._retry_handle = self._loop.call_later(
                        retry_delay(self._failures), self._retry
                    )
                return
            demand = 1
        for _ in range(min(demand, room)):
            self._start_connect()

    def _retry(self) -> None:
        self._retry_handle = None
        self._grow(force=True)

    def _start_connect(self) -> None:
        assert self._loop is not None
        self._size += 1
        self._opening += 1
        task = self._loop.create_task(self._connect())
        self._connect_tasks[task] = self._failures > 0
        # Bookkeeping lives in the callback: it runs even for a task cancelled
        # before its first step (at close), when the coroutine body never runs.
        task.add_done_callback(self._connect_done)

    async def _connect(self) -> C:
        """Open one connection and run after_connect, within connect_timeout."""
        conn: Any = _NO_CONN
        limit = self._options.connect_timeout
        try:
            async with asyncio.timeout(limit) as cm:
                conn = await self._manager.connect()
                hook = self._after_connect
                if hook is not None:
                    result = hook(conn)
                    if inspect.isawaitable(result):
                        await result
        except BaseException as exc:
            if conn is not _NO_CONN:
                await self._close_raw(conn)
            if isinstance(exc, Exception):
                if isinstance(exc, TimeoutError) and cm.expired():
                    exc = TimeoutError(f"connect() did not finish within {limit:g}s")
                # Only the manager's own connect errors can be permanent: an
                # after_connect hook that fails is retried as it always was.
                if conn is _NO_CONN and self._is_permanent(exc):
                    self._log_connect_failure("connect", exc, "not retrying: it is permanent")
                    raise _PermanentConnectError(exc) from None
                what = "connect" if conn is _NO_CONN else "after_connect hook"
                self._log_connect_failure(what, exc, "retrying with back-off")
            raise exc
        return conn

    def _is_permanent(self, error: Exception) -> bool:
        try:
            return bool(self._manager.is_permanent(error))
        except Exception:
            logger.exception("pool %s: is_permanent() failed; treating the error as transient",
                             self._name)
            return False

    def _log_connect_failure(self, what: str, error: Exception, outcome: str) -> None:
        """Log a failed connect: at WARNING the first time, then at DEBUG until one succeeds.

        While the database is down every retry fails; a warning each time would
        bury the logs, so one warning says it and the rest only show in debug.
        """
        if self._warned:
            logger.debug("pool %s: %s failed again (%r); %s", self._name, what, error, outcome)
            return
        self._warned = True
        logger.warning(
            "pool %s: %s failed (%r); %s (further failures are logged at DEBUG "
            "until a connect succeeds)", self._name, what, error, outcome,
        )

    def _connect_done(self, task: asyncio.Task[C]) -> None:
        probe = self._connect_tasks.pop(task)
        self._opening -= 1
        error = None if task.cancelled() else task.exception()
        if task.cancelled() or error is not None:
            self._size -= 1
            if isinstance(error, Exception):
                permanent = isinstance(error, _PermanentConnectError)
                if isinstance(error, _PermanentConnectError):
                    error = error.error
                self._connect_errors += 1
                # Only a failed probe lengthens the back-off: the connects of one
                # burst failing together count as one failure. A permanent error
                # counts too, so that refilling min_size backs off as well.
                self._failures = self._failures + 1 if probe else max(self._failures, 1)
                self._last_connect_error = error
                failed = error
                if permanent:
                    # Any connect would fail the same way: tell every caller now.
                    self._waiters.fail_all(lambda: failed)
                elif self._waiters:
                    self._waiters.fail_fast(lambda: _connect_error(failed))
            self._size_dropped()
            return
        now = _monotonic()
        holder = ConnectionHolder(task.result(), now)
        self._created += 1
        self._failures = 0
        self._warned = False
        self._last_connect_error = None
        if self._retry_handle is not None:
            self._retry_handle.cancel()
            self._retry_handle = None
        if self._listeners:
            self._emit(ConnectionCreated, holder.id, {})
        self._dispatch(holder, now, returned=False)
        self._grow()

    def _discard(self, holder: ConnectionHolder[C], reason: str) -> asyncio.Task[None]:
        """Close a connection the pool no longer lends, in the background."""
        assert self._loop is not None
        self._closing += 1
        task = self._loop.create_task(self._close_holder(holder, reason))
        self._track(task)
        return task

    async def _close_holder(self, holder: ConnectionHolder[C], reason: str) -> None:
        try:
            await self._close_raw(holder.conn)
        finally:
            self._closing -= 1
            self._size -= 1
            self._closed_count += 1
            if self._listeners:
                self._emit(ConnectionClosed, holder.id, {"reason": reason})
            self._size_dropped()

    async def _close_raw(self, conn: C) -> None:
        try:
            await bounded(self._manager.close(conn), self._options.connect_timeout, "close()")
        except Exception:
            logger.warning("pool %s: closing a connection failed", self._name, exc_info=True)

    def _size_dropped(self) -> None:
        if self._closed:
            if self._size == 0:
                self._all_closed.set()
        else:
            self._grow()

    def _check_loop(self) -> None:
        """Bind the pool to the running loop on first use; refuse any other loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise PoolError(
                f"pool {self._name!r} must be used from a coroutine running on its event loop"
            ) from None
        if self._loop is None:
            self._loop = loop
            if not self._closed:
                self._maintenance = loop.create_task(self._maintain())
                self._grow()
        elif loop is not self._loop:
            raise PoolError(
                f"pool {self._name!r} belongs to another event loop; open a fresh Pool "
                f"for each event loop (e.g. after a new asyncio.run())"
            )

    async def _maintain(self) -> None:
        interval = self._options.cleanup_interval
        while True:
            await asyncio.sleep(interval)
            try:
                self._expire_idle(_monotonic())
            except Exception:
                logger.exception("pool %s: maintenance failed", self._name)

    def _expire_idle(self, now: float) -> None:
        """Close idle connections past idle_timeout (above min_size) or max_lifetime."""
        opts = self._options
        live = self._size - self._closing
        keep: list[ConnectionHolder[C]] = []
        for holder in self._idle:  # least recently returned first
            if opts.max_lifetime is not None and now - holder.created >= opts.max_lifetime:
                reason: str | None = "max_lifetime"
            elif (
                opts.idle_timeout is not None
                and now - holder.idle_since >= opts.idle_timeout
                and live > opts.min_size
            ):
                reason = "idle_timeout"
            else:
                reason = None
            if reason is None:
                keep.append(holder)
            else:
                live -= 1
                self._discard(holder, reason)
        if len(keep) != len(self._idle):
            self._idle.clear()
            self._idle.extend(keep)
        self._grow()

    def _shut_down(self) -> None:
        if self._retry_handle is not None:
            self._retry_handle.cancel()
            self._retry_handle = None
        if self._maintenance is not None:
            self._maintenance.cancel()
        for task in list(self._connect_tasks):
            task.cancel()
        self._waiters.fail_all(lambda: PoolClosed(self._closed_message()))
        while self._idle:
            self._discard(self._idle.pop(), "pool_closed")
        if self._size == 0:
            self._all_closed.set()

    def _emit(self, cls: type[PoolEvent], connection_id: str, detail: dict[str, Any]) -> None:
        event = cls(connection_id, self._name, detail)
        for listener in tuple(self._listeners):
            try:
                result = listener(event)
            except Exception:
                logger.exception("pool %s: listener %r failed on %s",
                                 self._name, listener, event.type)
                continue
            if inspect.isawaitable(result):
                assert self._loop is not None
                self._track(self._loop.create_task(self._await_listener(listener, result)))

    async def _await_listener(self, listener: Listener, result: Awaitable[Any]) -> None:
        try:
            await result
        except Exception:
            logger.exception("pool %s: listener %r failed", self._name, listener)

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _in_use(self) -> int:
        return self._size - self._opening - self._closing - len(self._idle)

    def _closed_message(self) -> str:
        return f"pool {self._name!r} is closed; make a new Pool to keep going"
