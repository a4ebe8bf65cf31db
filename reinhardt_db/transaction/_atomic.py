"""``atomic()`` as a context manager and a decorator, and what a block can be asked."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, ParamSpec, TypeVar, overload

from reinhardt_db import exceptions as exc
from reinhardt_db.backends import ConnectionState, Database, connections
from reinhardt_db.backends.atomic import (
    Atomic as _Engine,
)
from reinhardt_db.backends.atomic import (
    AtomicBlock,
    OnCommit,
    TransactionState,
    last_state,
    run_control,
)
from reinhardt_db.backends.base.driver import check_isolation

__all__ = [
    "Atomic",
    "atomic",
    "get_rollback",
    "get_state",
    "in_atomic_block",
    "on_commit",
    "savepoint",
    "savepoint_commit",
    "savepoint_rollback",
    "set_rollback",
]

P = ParamSpec("P")
R = TypeVar("R")

logger = logging.getLogger("reinhardt_db.transaction")

# Callbacks run at once (outside any block) that are coroutines: kept here
# until they finish, so the event loop does not drop them half way.
_background: set[asyncio.Task[Any]] = set()


def _database(using: str | None) -> Database:
    return connections[using or "default"]


class Atomic:
    """What ``atomic(...)`` returns: an async context manager and a decorator.

    As a context manager it opens a block on entry (BEGIN, or a SAVEPOINT when
    the task already has one open on that database) and closes it on exit
    (COMMIT / RELEASE, or ROLLBACK / ROLLBACK TO on an exception, which then
    propagates). The same object may be entered again after it was left, and
    nested in itself (each entry is a block of its own).
    """

    __slots__ = ("_open", "durable", "isolation", "read_only", "savepoint", "using")

    def __init__(
        self,
        using: str | None = None,
        *,
        savepoint: bool = True,
        durable: bool = False,
        isolation: str | None = None,
        read_only: bool = False,
    ) -> None:
        check_isolation(isolation)
        self.using = using
        self.savepoint = savepoint
        self.durable = durable
        self.isolation = isolation
        self.read_only = read_only
        self._open: list[tuple[asyncio.Task[Any] | None, _Engine]] = []

    def _engine(self) -> _Engine:
        return _Engine(
            _database(self.using),
            savepoint=self.savepoint,
            durable=self.durable,
            isolation=self.isolation,
            read_only=self.read_only,
        )

    async def __aenter__(self) -> ConnectionState:
        engine = self._engine()
        state = await engine.__aenter__()
        self._open.append((asyncio.current_task(), engine))
        return state

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # The same object may be open in several tasks at once (a module-level
        # block): leave the current task's innermost entry.
        task = asyncio.current_task()
        opened = self._open
        for index in range(len(opened) - 1, -1, -1):
            if opened[index][0] is task:
                engine = opened.pop(index)[1]
                break
        else:
            raise exc.TransactionManagementError(
                "this atomic() object was not entered by the current task"
            )
        await engine.__aexit__(exc_type, exc_value, traceback)

    def __call__(
        self, func: Callable[P, Awaitable[R]]
    ) -> Callable[P, Coroutine[Any, Any, R]]:
        """Run every call of the async function ``func`` in a block of its own."""
        if not inspect.iscoroutinefunction(func):
            raise TypeError(
                f"atomic() decorates async functions (async def), not {func!r}; for a "
                "block inside a function use 'async with transaction.atomic():'"
            )

        @functools.wraps(func)
        async def in_block(*args: P.args, **kwargs: P.kwargs) -> R:
            async with self._engine():
                return await func(*args, **kwargs)

        return in_block

    def __repr__(self) -> str:
        return f"<atomic using={self.using or 'default'!r}>"


@overload
def atomic(using: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]: ...


@overload
def atomic(
    using: str | None = None,
    *,
    savepoint: bool = True,
    durable: bool = False,
    isolation: str | None = None,
    read_only: bool = False,
) -> Atomic: ...


def atomic(
    using: str | Callable[P, Awaitable[R]] | None = None,
    *,
    savepoint: bool = True,
    durable: bool = False,
    isolation: str | None = None,
    read_only: bool = False,
) -> Atomic | Callable[P, Coroutine[Any, Any, R]]:
    """Make a block atomic: all of its statements on ``using`` commit, or none do.

    ::

        async with transaction.atomic():
            ...

        @transaction.atomic
        async def transfer(...): ...

        @transaction.atomic(using="billing", isolation="serializable")
        async def charge(...): ...

    - Nested blocks are savepoints (``savepoint=False``: no savepoint; an
      error inside then rolls back the enclosing block).
    - An exception rolls back the innermost block and propagates;
      ``set_rollback(True)`` rolls it back without one.
    - ``durable=True``: must be the outermost block (else
      ``TransactionManagementError``), so its work is committed when it ends.
    - ``isolation`` (``"read uncommitted"``, ``"read committed"``,
      ``"repeatable read"``, ``"serializable"``) and ``read_only`` only on the
      outermost block (else ``TransactionManagementError``).

    Inside the block every statement of this task on ``using``, ORM or raw
    (``connections[using]``), runs on the block's connection, as do those of
    tasks created inside it while it is open (one at a time).
    """
    if callable(using):
        return Atomic()(using)
    return Atomic(
        using, savepoint=savepoint, durable=durable, isolation=isolation, read_only=read_only
    )


# -- questions about the current block ----------------------------------------------------
def _innermost(using: str | None, what: str) -> tuple[Database, ConnectionState, AtomicBlock]:
    db = _database(using)
    state = db.bound_connection()
    if state is None or not state.atomic_blocks:
        raise exc.TransactionManagementError(
            f"{what} needs an atomic() block, and this task has none open on database "
            f"{db.alias!r}; call it inside 'async with transaction.atomic(using={db.alias!r}):'"
        )
    return db, state, state.atomic_blocks[-1]


def in_atomic_block(using: str | None = None) -> bool:
    """Return True when the current task runs inside an atomic block on ``using``.

    ``using`` defaults to ``"default"``. A task created inside a block counts as
    inside it until the block ends. Routers use this to send reads inside a
    transaction to the database that holds it (read-your-writes).
    """
    state = _database(using).bound_connection()
    return state is not None and bool(state.atomic_blocks)


def get_rollback(using: str | None = None) -> bool:
    """Return whether the innermost block on ``using`` is marked to roll back."""
    return _innermost(using, "get_rollback()")[2].needs_rollback


def set_rollback(rollback: bool, using: str | None = None) -> None:
    """Mark the innermost block on ``using`` to roll back when it ends (or unmark it).

    The block then ends without an error: its savepoint (or, for the outermost
    block, the transaction) is rolled back instead of committed.
    """
    _innermost(using, "set_rollback()")[2].needs_rollback = rollback


def get_state(using: str | None = None) -> TransactionState:
    """Return where this task's transaction on ``using`` stands.

    ``ACTIVE`` inside a block; after one, how the last one ended
    (``COMMITTED`` or ``ROLLED_BACK``); ``NOT_STARTED`` before any.
    """
    db = _database(using)
    state = db.bound_connection()
    if state is not None and state.atomic_blocks:
        return TransactionState.ACTIVE
    return last_state(db.alias)


def on_commit(func: OnCommit, using: str | None = None, robust: bool = False) -> None:
    """Run ``func()`` (sync or async) after the transaction on ``using`` commits.

    Callbacks run in the order registered, after the outermost block's COMMIT
    (outside the transaction: what they do on the database runs in
    autocommit). They are dropped when the transaction rolls back, and when
    the savepoint (nested block, named savepoint) they were registered in
    rolls back. A failing callback's error propagates from the outermost
    block's exit and the rest do not run; with ``robust=True`` it is logged
    and the next one runs.

    Outside any block there is nothing to wait for: a sync callback runs at
    once, an async one is started as a task (its failure is logged).
    """
    if not callable(func):
        raise TypeError(f"on_commit() needs a callable with no arguments, not {func!r}")
    db = _database(using)
    state = db.bound_connection()
    if state is not None and state.atomic_blocks:
        state.atomic_blocks[-1].transaction.add_callback(func, robust)
        return
    try:
        result = func()
    except Exception:
        if not robust:
            raise
        logger.exception("on_commit callback %r failed (robust=True: going on)", func)
        return
    if inspect.isawaitable(result):
        task = asyncio.ensure_future(result)
        _background.add(task)
        task.add_done_callback(_finished_in_background)


def _finished_in_background(task: asyncio.Task[Any]) -> None:
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error(
            "on_commit callback failed (run outside a transaction)", exc_info=task.exception()
        )


# -- named savepoints ---------------------------------------------------------------------
async def savepoint(using: str | None = None) -> str:
    """Open a savepoint in the current block on ``using``; return its name.

    ``await savepoint_rollback(sid)`` undoes what ran since (and drops the
    on_commit callbacks registered since); ``await savepoint_commit(sid)``
    releases it.
    """
    db, state, block = _innermost(using, "savepoint()")
    transaction = block.transaction
    name = transaction.new_savepoint_name()
    await run_control(db, state, (db.ops.savepoint_create_sql(name),))
    transaction.savepoints.append(name)
    return name


def _open_savepoint(sid: str, using: str | None, what: str) -> tuple[Database, ConnectionState]:
    db, state, block = _innermost(using, what)
    if sid not in block.transaction.savepoints:
        raise exc.TransactionManagementError(
            f"no savepoint {sid!r} is open in this task's transaction on database "
            f"{db.alias!r}: it was released, rolled back past, or made in another "
            "transaction; use the name savepoint() returned in this transaction"
        )
    return db, state


async def savepoint_rollback(sid: str, using: str | None = None) -> None:
    """Roll back to savepoint ``sid`` (it stays open; later ones end)."""
    db, state = _open_savepoint(sid, using, "savepoint_rollback()")
    transaction = state.atomic_blocks[-1].transaction
    await run_control(db, state, (db.ops.savepoint_rollback_sql(sid),))
    transaction.rolled_back_to(sid)


async def savepoint_commit(sid: str, using: str | None = None) -> None:
    """Release savepoint ``sid``: its work stays in the transaction."""
    db, state = _open_savepoint(sid, using, "savepoint_commit()")
    transaction = state.atomic_blocks[-1].transaction
    await run_control(db, state, (db.ops.savepoint_commit_sql(sid),))
    transaction.released(sid)
