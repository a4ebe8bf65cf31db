"""The connection pool: fair, bounded and safe under cancellation.

This module is the lending side: acquire (a flat fast path when a connection is
idle, a fair queue otherwise), release, and the public API. The supply side and
the invariants both sides keep are in ``_core.py``.
"""

from __future__ import annotations

import asyncio
import inspect
import time

from reinhardt_db.pool._core import ConnectionHook, Listener, PoolCore, logger
from reinhardt_db.pool._timeouts import bounded
from reinhardt_db.pool._waiters import Waiter, WaitExpired
from reinhardt_db.pool.acquire import PoolAcquireContext
from reinhardt_db.pool.base import C, ConnectionManager
from reinhardt_db.pool.connection import ConnectionHolder, ConnectionMetadata, PoolConnection
from reinhardt_db.pool.errors import (
    InvalidConnection,
    PoolClosed,
    PoolConfigError,
    PoolExhausted,
    PoolTimeout,
)
from reinhardt_db.pool.events import (
    ConnectionAcquired,
    ConnectionInvalidated,
    ConnectionReset,
    ConnectionSoftInvalidated,
    ConnectionTestFailed,
)
from reinhardt_db.pool.options import PoolOptions, check_timeout
from reinhardt_db.pool.stats import PoolStats

__all__ = ["Pool"]

_monotonic = time.monotonic


class Pool(PoolCore[C]):
    """Lend connections made by a :class:`ConnectionManager` to tasks, fairly.

    ::

        pool = Pool(MyManager(), PoolOptions(max_size=10), name="default")
        async with pool.acquire() as conn:
            await conn.raw.execute("SELECT 1")
        await pool.close()

    The pool belongs to the event loop it is first used on. ``after_connect(conn)``
    runs on every new connection; ``before_acquire(conn, meta)`` on every hand-out
    and ``after_release(conn, meta)`` on every return; hooks get the driver
    connection, may be sync or async, and returning False discards the connection.
    """

    __slots__ = ()

    @property
    def name(self) -> str | None:
        """Return the pool's name (shown in events, logs and errors)."""
        return self._name

    @property
    def options(self) -> PoolOptions:
        """Return the pool's options."""
        return self._options

    @property
    def manager(self) -> ConnectionManager[C]:
        """Return the connection manager the pool opens connections with."""
        return self._manager

    @property
    def size(self) -> int:
        """Return the number of connections open or opening."""
        return self._size

    @property
    def num_idle(self) -> int:
        """Return the number of idle connections ready to hand out."""
        return len(self._idle)

    @property
    def closed(self) -> bool:
        """Return True from the moment ``close()`` is called."""
        return self._closed

    def acquire(
        self, *, timeout: float | None = None, fail_fast: bool = False
    ) -> PoolAcquireContext[C]:
        """Acquire a connection: ``conn = await pool.acquire()`` or ``async with``.

        Wait at most ``timeout`` seconds (default ``acquire_timeout``), connecting
        included; raise ``PoolTimeout`` then, ``PoolExhausted`` at once when
        ``max_waiting`` callers are queued, ``PoolClosed`` on a closed pool, and
        the connect error itself at once when the manager's ``is_permanent``
        says retrying cannot help (wrong password, unknown database).
        With ``fail_fast=True`` any failed connect made while this caller waits
        raises ``PoolConnectError`` at once (its cause the connect error) instead
        of being retried: for callers that have another database to go to.
        """
        if timeout is not None:
            timeout = check_timeout("timeout", timeout)
        return PoolAcquireContext(self, timeout, fail_fast)

    def try_acquire(self) -> PoolConnection[C] | None:
        """Return an idle connection at once, or None (no validation, no hooks)."""
        if self._closed:
            raise PoolClosed(self._closed_message())
        if not self._idle or self._waiters:
            return None
        self._check_loop()
        return self._hand_out(self._idle.pop(), 0.0)

    def acquire_nowait(self) -> PoolConnection[C] | None:
        """Hand out an idle connection without awaiting, or return None.

        The synchronous fast path of ``acquire()``, with its rules: only while
        nobody is queued (fair), past-``max_lifetime`` connections are closed,
        and with ``test_before_acquire`` each is probed by the manager's
        ``is_valid_nowait``. Return None whenever that is not enough (nothing
        idle, callers queued, a ``before_acquire`` hook, a probe that needs I/O,
        a closed pool, first use in this loop): then ``await acquire()``.
        """
        idle = self._idle
        if (
            not idle
            or self._waiters
            or self._closed
            or self._before_acquire is not None
            or self._loop is not asyncio.get_running_loop()
        ):
            return None
        options = self._options
        probe = self._manager.is_valid_nowait if options.test_before_acquire else None
        max_lifetime = options.max_lifetime
        now = _monotonic() if max_lifetime is not None else 0.0
        while idle:
            holder = idle[-1]
            if max_lifetime is not None and now - holder.created >= max_lifetime:
                idle.pop()
                self._discard(holder, "max_lifetime")
                continue
            if probe is not None:
                ok = probe(holder.conn)
                if ok is None:
                    return None
                if not ok:
                    idle.pop()
                    self._lost += 1
                    if self._listeners:
                        reason = "is_valid_nowait() returned False"
                        self._emit(ConnectionTestFailed, holder.id, {"reason": reason})
                    self._discard(holder, "test_failed")
                    continue
            idle.pop()
            return self._hand_out(holder, 0.0)
        return None

    def release_nowait(self, conn: PoolConnection[C]) -> bool:
        """Give back a connection that needs no reset, without awaiting; True when done.

        Return False, doing nothing, when the release has work to await (a
        dirty connection or one the manager's ``needs_reset`` flags, an
        ``after_release`` hook, ``max_lifetime`` reached, a soft-invalidated or
        already released connection, a closed pool): then ``await release(conn)``.
        """
        holder = conn._holder
        if (
            holder is None
            or conn._pool is not self
            or holder.dirty
            or holder.soft_invalid
            or self._closed
            or self._after_release is not None
            or self._loop is not asyncio.get_running_loop()
        ):
            return False
        now = _monotonic()
        max_lifetime = self._options.max_lifetime
        if max_lifetime is not None and now - holder.created >= max_lifetime:
            return False
        if self._manager.needs_reset(holder.conn):
            return False
        conn._released = True
        conn._holder = None
        if self._waiters or self._listeners:
            self._dispatch(holder, now, returned=True)
        else:  # _dispatch's usual outcome, without the call
            holder.idle_since = now
            self._idle.append(holder)
        return True

    async def release(self, conn: PoolConnection[C]) -> None:
        """Give ``conn`` back: reset it if needed, then hand it to the next waiter or keep it idle.

        The manager's ``reset`` runs when the connection was marked dirty (its
        ``.raw`` was taken, or ``mark_dirty()``) or ``manager.needs_reset(conn)``
        says so.

        Raise ``InvalidConnection`` if it was already released or came from
        another pool. A connection that is soft-invalidated, past
        ``max_lifetime``, fails ``reset``/``after_release``, or comes back to a
        closed pool is closed instead. Releasing an invalidated one does nothing.
        """
        holder = self._detach(conn)
        if holder is None:
            return
        now = _monotonic()
        max_lifetime = self._options.max_lifetime
        if self._closed:
            reason: str | None = "pool_closed"
        elif holder.soft_invalid:
            reason = "soft_invalidated"
        elif max_lifetime is not None and now - holder.created >= max_lifetime:
            reason = "max_lifetime"
        else:
            reason = None
        if reason is None:
            try:
                if holder.dirty or self._manager.needs_reset(holder.conn):
                    await self._run_reset(holder)
                hook = self._after_release
                if hook is not None and not await self._run_hook(
                    "after_release", hook, holder, ConnectionMetadata(now - holder.created, 0.0)
                ):
                    reason = "after_release"
            except Exception:
                self._lost += 1
                logger.warning("pool %s: reset of connection %s failed; closing it",
                               self._name, holder.id, exc_info=True)
                reason = "reset_failed"
            except BaseException:
                self._discard(holder, "cancelled")
                raise
        if reason is None:
            self._dispatch(holder, now, returned=True)
        else:
            # Shielded: a release cancelled here still closes the connection.
            await asyncio.shield(self._discard(holder, reason))

    def stats(self) -> PoolStats:
        """Return a snapshot of the pool's counts and totals."""
        opts = self._options
        return PoolStats(
            size=self._size,
            idle=len(self._idle),
            in_use=self._in_use(),
            waiting=self._waiters.live(),
            max_size=opts.max_size,
            min_size=opts.min_size,
            acquires=self._acquires,
            timeouts=self._timeouts,
            connect_errors=self._connect_errors,
            connections_created=self._created,
            connections_closed=self._closed_count,
            connections_lost=self._lost,
            total_wait_seconds=self._total_wait,
        )

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(event)`` (sync or async) for every pool event."""
        if not callable(listener):
            raise PoolConfigError(f"a listener must be callable, got {listener!r}")
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener``; do nothing if it was not added."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    async def close(self) -> None:
        """Close the pool and wait until every connection is closed.

        Waiters get ``PoolClosed`` at once, idle connections are closed, and
        checked-out ones are closed when they are released.
        """
        if not self._closed:
            if self._loop is not None:
                self._check_loop()
            self._closed = True
            self._shut_down()
        await self.wait_closed()
        task = self._maintenance
        if task is not None and not task.done():
            await asyncio.wait([task])

    async def wait_closed(self) -> None:
        """Wait until ``close()`` has closed every connection."""
        await self._all_closed.wait()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"size={self._size}/{self._options.max_size}"
        return f"<Pool {self._name!r} {state} idle={len(self._idle)}>"

    async def _acquire(self, limit: float | None, fail_fast: bool = False) -> PoolConnection[C]:
        if self._loop is not asyncio.get_running_loop():
            self._check_loop()
        if self._closed:
            raise PoolClosed(self._closed_message())
        if limit is None:
            limit = self._options.acquire_timeout
        now = _monotonic()
        deadline = now + limit
        idle = self._idle
        max_lifetime = self._options.max_lifetime
        # Fast path: nobody queued and a connection idle right now; no timer, no task.
        while idle and not self._waiters:
            holder = idle.pop()
            if max_lifetime is not None and now - holder.created >= max_lifetime:
                self._discard(holder, "max_lifetime")
                continue
            if self._prepare_idle and not await self._prepare(
                holder, now, deadline, now - holder.idle_since, from_idle=True
            ):
                now = _monotonic()
                if now >= deadline:
                    raise self._timed_out(limit) from self._last_connect_error
                continue
            return self._hand_out(holder, 0.0)
        return await self._wait(now, deadline, limit, fail_fast)

    async def _wait(
        self, start: float, deadline: float, limit: float, fail_fast: bool = False
    ) -> PoolConnection[C]:
        """Queue for a connection: released, newly opened, or given back by a leaver."""
        max_waiting = self._options.max_waiting
        if max_waiting and len(self._waiters) >= max_waiting:
            if self._waiters.live() >= max_waiting:
                raise PoolExhausted(
                    f"pool {self._name!r} already has {max_waiting} callers waiting "
                    f"(max_waiting={max_waiting}); raise max_waiting or max_size, "
                    f"or retry later"
                )
        loop = self._loop
        assert loop is not None
        first = True
        while True:
            if _monotonic() >= deadline:
                raise self._timed_out(limit) from self._last_connect_error
            # A waiter whose connection failed before_acquire keeps its turn.
            waiter = self._waiters.join(loop, deadline, front=not first, fail_fast=fail_fast)
            self._grow(force=first)
            try:
                holder = await waiter.future
            except BaseException as exc:
                self._abandon(waiter)
                if isinstance(exc, WaitExpired):
                    raise self._timed_out(limit) from self._last_connect_error
                raise
            first = False
            now = _monotonic()
            if self._closed:
                self._discard(holder, "pool_closed")
                raise PoolClosed(self._closed_message())
            if self._before_acquire is None or await self._prepare(
                holder, now, deadline, 0.0, from_idle=False
            ):
                waited = now - start
                self._total_wait += waited
                return self._hand_out(holder, waited)

    def _abandon(self, waiter: Waiter[ConnectionHolder[C]]) -> None:
        """Stop waiting; give back a connection assigned just before we stopped."""
        future = waiter.future
        if future.done() and not future.cancelled() and future.exception() is None:
            self._dispatch(future.result(), _monotonic(), returned=False)
        else:
            self._waiters.leave(waiter)

    async def _prepare(
        self,
        holder: ConnectionHolder[C],
        now: float,
        deadline: float,
        idle_for: float,
        *,
        from_idle: bool,
    ) -> bool:
        """Probe an idle connection and run before_acquire; discard it on failure."""
        try:
            if from_idle and self._options.test_before_acquire:
                limit = min(self._options.connect_timeout, deadline - now)
                error = await self._probe(holder, limit)
                if error is not None:
                    self._lost += 1
                    if self._listeners:
                        self._emit(ConnectionTestFailed, holder.id, {"reason": error})
                    self._discard(holder, "test_failed")
                    return False
            hook = self._before_acquire
            if hook is not None and not await self._run_hook(
                "before_acquire", hook, holder, ConnectionMetadata(now - holder.created, idle_for)
            ):
                self._discard(holder, "before_acquire")
                return False
        except BaseException:
            self._discard(holder, "cancelled")
            raise
        if self._closed:
            self._discard(holder, "pool_closed")
            raise PoolClosed(self._closed_message())
        return True

    async def _probe(self, holder: ConnectionHolder[C], limit: float) -> str | None:
        """Return None if ``is_valid`` passes, else why it failed."""
        try:
            ok = await bounded(self._manager.is_valid(holder.conn), limit, "is_valid()")
        except Exception as exc:
            return str(exc) if isinstance(exc, TimeoutError) else f"is_valid() raised {exc!r}"
        return None if ok else "is_valid() returned False"

    async def _run_hook(
        self,
        hook_name: str,
        hook: ConnectionHook,
        holder: ConnectionHolder[C],
        meta: ConnectionMetadata,
    ) -> bool:
        """Return False when the hook rejects the connection or raises (logged)."""
        try:
            result = hook(holder.conn, meta)
            if inspect.isawaitable(result):
                result = await result
        except Exception:
            logger.exception("pool %s: %s hook failed; discarding connection %s",
                             self._name, hook_name, holder.id)
            return False
        return result is not False

    def _hand_out(self, holder: ConnectionHolder[C], waited: float) -> PoolConnection[C]:
        self._acquires += 1
        if self._listeners:
            self._emit(ConnectionAcquired, holder.id, {"wait_seconds": waited})
        return PoolConnection(holder, self)

    def _timed_out(self, limit: float) -> PoolTimeout:
        self._timeouts += 1
        msg = (
            f"no connection from pool {self._name!r} within {limit:g}s "
            f"({self._size}/{self._options.max_size} open, {self._in_use()} in use, "
            f"{self._waiters.live()} waiting)"
        )
        cause = self._last_connect_error
        if cause is not None:
            msg += f"; the last connect attempt failed: {cause!r} (is the database up?)"
        else:
            msg += "; raise max_size or acquire_timeout, or release connections sooner"
        return PoolTimeout(msg)

    def _detach(self, conn: PoolConnection[C]) -> ConnectionHolder[C] | None:
        """Take the holder out of a proxy being released (None if it was invalidated)."""
        if not isinstance(conn, PoolConnection):
            raise InvalidConnection(
                f"release() takes a connection from pool.acquire(), got {type(conn).__name__}"
            )
        if conn._pool is not self:
            raise InvalidConnection(
                f"connection {conn._id} was acquired from pool {conn._pool._name!r}, not "
                f"{self._name!r}; release it into the pool it came from"
            )
        if self._loop is not asyncio.get_running_loop():
            self._check_loop()
        if conn._released:
            raise InvalidConnection(conn._gone())
        conn._released = True
        holder = conn._holder
        conn._holder = None
        return holder

    async def _run_reset(self, holder: ConnectionHolder[C]) -> None:
        """Run the manager's reset bounded by connect_timeout; fire ConnectionReset."""
        try:
            await bounded(
                self._manager.reset(holder.conn), self._options.connect_timeout, "reset()"
            )
        except Exception as exc:
            if self._listeners:
                self._emit(ConnectionReset, holder.id, {"error": repr(exc)})
            raise
        holder.dirty = False
        if self._listeners:
            self._emit(ConnectionReset, holder.id, {"error": None})

    def _invalidate(self, holder: ConnectionHolder[C]) -> None:
        if self._listeners:
            self._emit(ConnectionInvalidated, holder.id, {})
        self._discard(holder, "invalidated")

    def _soft_invalidated(self, holder: ConnectionHolder[C]) -> None:
        if self._listeners:
            self._emit(ConnectionSoftInvalidated, holder.id, {})
