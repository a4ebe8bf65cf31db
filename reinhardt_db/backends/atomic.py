"""Atomic blocks on a task's connection: transactions, savepoints, on_commit callbacks.

The engine under ``reinhardt_db.transaction`` (the public API) and
``Database.atomic()`` / ``Database.transaction()``. It lives with the backends
because the layers below ``transaction`` (the query layer's ``get_or_create``,
the schema editor) need atomic blocks too; it never names a vendor: the SQL
comes from ``db.ops``.

Shape:

- The outermost block binds a connection to the task (a ``Binding`` of its
  own, over the task's ``connection()`` block if one is open) and BEGINs; it
  pushes an :class:`AtomicBlock` on ``ConnectionState.atomic_blocks`` and
  owns the :class:`Transaction` record (savepoints open, on_commit callbacks,
  state). Nested blocks push blocks of their own (a SAVEPOINT each, unless
  ``savepoint=False``).
- Tasks created inside a block share its connection (contextvars), one
  statement at a time; once the outermost block has ended their binding is
  closed and their statements borrow pooled connections in autocommit.
- Cancellation: a statement cancelled mid-flight discards the connection
  (its protocol state is unknown; the server rolls the transaction back when
  the session closes), and the blocks then unwind without further SQL, so
  the ``CancelledError`` (and ``asyncio.timeout()``'s ``TimeoutError``)
  propagates unchanged. A COMMIT, once sent, is awaited to its end even if the
  task is cancelled meanwhile, so whether the data is there is always known
  (and on_commit callbacks run exactly when it is).
"""

from __future__ import annotations

import enum
import functools
import inspect
import logging
from collections.abc import Callable, Coroutine, Sequence
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any

from reinhardt_db import exceptions as exc
from reinhardt_db.backends._logging import DEBUG, run_logged, sql_logger
from reinhardt_db.backends._run_to_end import RunToEnd
from reinhardt_db.backends.base.driver import check_isolation
from reinhardt_db.backends.state import (
    Binding,
    ConnectionState,
    bindings,
    transaction_ended,
)

if TYPE_CHECKING:
    from reinhardt_db.backends._binding import TaskBinding

__all__ = [
    "Atomic",
    "AtomicBlock",
    "OnCommit",
    "Transaction",
    "TransactionState",
    "end_transaction_streams",
    "last_state",
    "run_callbacks",
    "run_control",
]

logger = logging.getLogger("reinhardt_db.transaction")

#: A callback for after the commit: sync or async, no arguments.
OnCommit = Callable[[], Any]


class TransactionState(enum.StrEnum):
    """Where the task's transaction on a database stands (``transaction.get_state``)."""

    NOT_STARTED = "NOT_STARTED"
    ACTIVE = "ACTIVE"
    COMMITTED = "COMMITTED"
    ROLLED_BACK = "ROLLED_BACK"


# alias -> how the task's last outermost block on it ended. A fresh dict per
# change, as for the bindings, so a child task never changes its parent's view.
_last_states: ContextVar[dict[str, TransactionState] | None] = ContextVar(
    "reinhardt_db_transaction_states", default=None
)


def last_state(alias: str) -> TransactionState:
    """How the current task's last transaction on ``alias`` ended (NOT_STARTED: none yet)."""
    states = _last_states.get()
    return TransactionState.NOT_STARTED if states is None else states.get(
        alias, TransactionState.NOT_STARTED
    )


def _set_last_state(alias: str, state: TransactionState) -> None:
    states = _last_states.get()
    if states is None or states.get(alias) is not state:  # most blocks end as the last did
        _last_states.set({**(states or {}), alias: state})


class Transaction:
    """One BEGIN ... COMMIT / ROLLBACK: what the outermost block opened.

    ``savepoints`` are the savepoint names open now, oldest first (atomic
    blocks' and named ones); ``callbacks`` the on_commit callbacks, each with
    the savepoints that were open when it was registered, so that rolling one
    of them back drops it. ``xid``/``branch``: set for a part of a two-phase
    transaction (``transaction.two_phase``).
    """

    __slots__ = (
        "_names",
        "alias",
        "branch",
        "callbacks",
        "finished",
        "isolation",
        "read_only",
        "savepoints",
        "state",
        "xid",
    )

    def __init__(self, alias: str, isolation: str | None, read_only: bool) -> None:
        self.alias = alias
        self.isolation = isolation
        self.read_only = read_only
        self.savepoints: list[str] = []
        self.callbacks: list[tuple[tuple[str, ...], OnCommit, bool]] = []
        self.state = TransactionState.ACTIVE
        self.xid: str | None = None
        self.branch = ""
        #: Ended by its owner (two-phase commit) rather than by the block's exit.
        self.finished = False
        self._names = 0

    def new_savepoint_name(self) -> str:
        """Return a savepoint name not used before in this transaction."""
        self._names += 1
        return f"rdb_sp_{self._names}"

    def add_callback(self, fn: OnCommit, robust: bool) -> None:
        """Register ``fn`` to run after the commit, unless its savepoint rolls back."""
        self.callbacks.append((tuple(self.savepoints), fn, robust))

    def rolled_back_to(self, name: str) -> None:
        """Forget what ``ROLLBACK TO SAVEPOINT name`` undid: later savepoints, their callbacks."""
        if name in self.savepoints:
            del self.savepoints[self.savepoints.index(name) + 1:]
        self.callbacks = [entry for entry in self.callbacks if name not in entry[0]]

    def released(self, name: str) -> None:
        """Forget ``name`` and the savepoints after it (``RELEASE SAVEPOINT`` ends them all)."""
        if name in self.savepoints:
            del self.savepoints[self.savepoints.index(name):]


class AtomicBlock:
    """One ``atomic()`` block open on a connection: an entry of ``state.atomic_blocks``.

    ``savepoint`` is None for the outermost block and for ``savepoint=False``
    blocks. ``needs_rollback``: ``set_rollback(True)``, or an error in a block
    without a savepoint, marked this block to roll back when it ends.
    """

    __slots__ = ("needs_rollback", "savepoint", "transaction")

    def __init__(self, transaction: Transaction, savepoint: str | None) -> None:
        self.transaction = transaction
        self.savepoint = savepoint
        self.needs_rollback = False

    def __repr__(self) -> str:
        where = self.savepoint or "no savepoint"
        return f"<AtomicBlock {self.transaction.alias!r} {where} {self.transaction.state}>"


def _durable_error(alias: str) -> exc.TransactionManagementError:
    return exc.TransactionManagementError(
        f"database {alias!r} already has a transaction open on this task, and a durable block "
        "(atomic(durable=True), Database.transaction()) must be the outermost: its work must "
        "be committed when it ends, which an enclosing block could still roll back. Move it "
        "out of the enclosing atomic() block, or nest a plain transaction.atomic() (a savepoint)"
    )


def _outermost_only_error(alias: str, what: str) -> exc.TransactionManagementError:
    return exc.TransactionManagementError(
        f"{what} can only be set on the outermost atomic() block, and this task already has "
        f"a transaction open on database {alias!r}: a transaction's isolation and access mode "
        f"are fixed when it begins. Pass {what} to the outermost block"
    )


def _overlap_error(alias: str) -> exc.TransactionManagementError:
    return exc.TransactionManagementError(
        f"atomic() blocks on database {alias!r} ended out of order: tasks sharing one "
        "transaction (created inside its block) opened nested blocks at the same time. The "
        "transaction will roll back. Run such tasks one after another, or give each its own "
        "transaction by starting it outside the block"
    )


class Atomic:
    """An atomic block on one database, as an async context manager (reusable once left).

    ``async with`` gives the task's :class:`ConnectionState` (the block is
    ``state.atomic_blocks[-1]``).

    Made by ``Database.atomic()``; ``reinhardt_db.transaction.atomic`` wraps it
    with alias resolution and the decorator form.
    """

    __slots__ = (
        "_binding",
        "_block",
        "_owned",
        "_state",
        "_token",
        "_two_phase",
        "db",
        "durable",
        "isolation",
        "read_only",
        "savepoint",
    )

    def __init__(
        self,
        db: TaskBinding,
        *,
        savepoint: bool = True,
        durable: bool = False,
        isolation: str | None = None,
        read_only: bool = False,
    ) -> None:
        if isolation is not None:
            check_isolation(isolation)
        self.db = db
        self.savepoint = savepoint
        self.durable = durable
        self.isolation = isolation
        self.read_only = read_only
        self._two_phase: tuple[str, str] | None = None
        self._state: ConnectionState | None = None
        self._block: AtomicBlock | None = None
        self._binding: Binding | None = None
        self._owned = False
        self._token: Any = None

    # -- entering -------------------------------------------------------------------------
    def __aenter__(self) -> Coroutine[Any, Any, ConnectionState]:
        # A plain function returning the coroutine that enters: one frame less.
        if self._block is not None:
            raise exc.TransactionManagementError(
                "this atomic() block is already open; make a new one for each use"
            )
        db = self.db
        state = db.bound_connection()
        if state is not None and state.atomic_blocks:
            return self._enter_nested(state)
        return self._enter_outermost(state)

    async def _enter_nested(self, state: ConnectionState) -> ConnectionState:
        alias = self.db.alias
        if self.durable or self._two_phase is not None:
            raise _durable_error(alias)
        if self.isolation is not None:
            raise _outermost_only_error(alias, f"isolation={self.isolation!r}")
        if self.read_only:
            raise _outermost_only_error(alias, "read_only=True")
        transaction = state.atomic_blocks[-1].transaction
        name = None
        if self.savepoint:
            name = transaction.new_savepoint_name()
            await self._execute(state, (self.db.ops.savepoint_create_sql(name),))
            transaction.savepoints.append(name)
        block = AtomicBlock(transaction, name)
        state.atomic_blocks.append(block)
        self._state, self._block = state, block
        return state

    async def _enter_outermost(self, state: ConnectionState | None) -> ConnectionState:
        db = self.db
        if state is not None and state.in_transaction:
            raise exc.TransactionManagementError(
                f"the task's connection to database {db.alias!r} is already in a "
                "transaction that no atomic() block opened; end it before opening a block"
            )
        owned = state is None
        if state is None:
            pool = db.pool
            conn = await db._acquire(pool)
            state = ConnectionState(db.alias, pool, conn)
        transaction = Transaction(db.alias, self.isolation, self.read_only)
        ops = db.ops
        try:
            if self._two_phase is not None:
                transaction.xid, transaction.branch = self._two_phase
                begin = ops.tpc_begin_sql(*self._two_phase)
            else:
                begin = ops.begin_transaction_sql(self.isolation, self.read_only)
            await self._execute(state, begin)
        except BaseException:
            if owned:
                await db._release_state(state)
            raise
        state.in_transaction = True
        block = AtomicBlock(transaction, None)
        state.atomic_blocks.append(block)
        binding = Binding(state)
        self._token = bindings.set({**(bindings.get() or {}), db.alias: binding})
        self._state, self._block, self._binding, self._owned = state, block, binding, owned
        return state

    def _execute(
        self, state: ConnectionState, statements: Sequence[str]
    ) -> Coroutine[Any, Any, None]:
        return run_control(self.db, state, statements)

    # -- leaving ----------------------------------------------------------------------------
    def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> Coroutine[Any, Any, None]:
        # A plain function returning the coroutine that leaves: one frame less.
        state, block, binding, token, owned = (
            self._state, self._block, self._binding, self._token, self._owned)
        if state is None or block is None:
            raise exc.TransactionManagementError("this atomic() block is not open")
        # Left: the object may open a new block.
        self._state = self._block = self._binding = self._token = None
        self._owned = False
        if binding is None:
            return self._exit_nested(state, block, exc_value)
        return self._exit_outermost(state, block, exc_value, binding, token, owned)

    async def _exit_nested(
        self, state: ConnectionState, block: AtomicBlock, error: BaseException | None
    ) -> None:
        blocks = state.atomic_blocks
        transaction = block.transaction
        if not blocks or blocks[-1] is not block:
            # Another task's block is still open above this one: the savepoints
            # can no longer be undone in order. Nothing of it can be trusted.
            if block in blocks:
                blocks.remove(block)
            if blocks:
                blocks[0].needs_rollback = True
            if error is None:
                raise _overlap_error(self.db.alias)
            return
        blocks.pop()
        parent = blocks[-1]
        name = block.savepoint
        if name is None:
            # No savepoint to go back to: the enclosing block must roll back.
            if error is not None or block.needs_rollback:
                parent.needs_rollback = True
            return
        ops = self.db.ops
        if error is None and not block.needs_rollback:
            try:
                await self._execute(state, (ops.savepoint_commit_sql(name),))
            except BaseException:
                parent.needs_rollback = True
                raise
            transaction.released(name)
            return
        transaction.rolled_back_to(name)
        transaction.released(name)
        if state.invalid:
            # The connection is gone (cancelled mid-statement, lost): so is the
            # transaction. Report the error that got us here, not a new one.
            parent.needs_rollback = True
            return
        try:
            await self._execute(
                state, (ops.savepoint_rollback_sql(name), ops.savepoint_commit_sql(name))
            )
        except BaseException as rollback_error:
            parent.needs_rollback = True
            if error is None:
                raise
            if not isinstance(rollback_error, Exception):
                raise  # cancelled while rolling back: that wins
            # The block's own error is the one to report.

    async def _exit_outermost(
        self,
        state: ConnectionState,
        block: AtomicBlock,
        error: BaseException | None,
        binding: Binding,
        token: Any,
        owned: bool,
    ) -> None:
        db = self.db
        transaction = block.transaction
        blocks = state.atomic_blocks
        overlapped = not blocks or blocks[-1] is not block
        blocks.clear()
        state.in_transaction = False
        binding.open = False
        bindings.reset(token)
        interrupted = sent_commit = False
        try:
            if transaction.finished:
                pass  # two_phase() prepared and committed (or rolled back) it already
            elif error is None and not (block.needs_rollback or overlapped or state.invalid):
                sent_commit = True
                ops = db.ops
                # Sent, a COMMIT is awaited to its end (RunToEnd), whatever
                # cancels the task: whether the data is there is then known.
                commit = RunToEnd(self._execute(state, [
                    ops.commit_sql(),
                    *ops.end_transaction_sql(transaction.isolation, transaction.read_only),
                ]))
                try:
                    await commit
                finally:
                    transaction.state = (
                        TransactionState.COMMITTED if commit.finished_ok
                        else TransactionState.ROLLED_BACK
                    )
            else:
                await self._rollback(state, transaction)
        except BaseException:
            interrupted = True
            raise
        finally:
            try:
                end_transaction_streams(state)
                if owned:
                    await db._release_state(state)
            finally:
                _set_last_state(db.alias, transaction.state)
                # Before the on_commit callbacks, so that they read fresh results
                # (the result cache); a COMMIT that failed may still have made
                # the writes visible.
                transaction_ended(
                    state,
                    committed=sent_commit or transaction.state is TransactionState.COMMITTED,
                )
                if transaction.state is TransactionState.COMMITTED and transaction.callbacks:
                    # Committed, then cancelled while the COMMIT finished: the
                    # callbacks still run, and a failing one must not replace
                    # the cancellation on its way out.
                    await run_callbacks(transaction.callbacks, all_robust=interrupted)
        if error is None and overlapped:
            raise _overlap_error(db.alias)
        if error is None and state.invalid and transaction.state is TransactionState.ROLLED_BACK:
            # An error inside was caught there, but it took the connection, and
            # the transaction with it: the block must not look committed.
            raise exc.OperationalError(
                f"the transaction on database {db.alias!r} was rolled back: its connection was "
                "closed after an error or cancellation inside the block (caught there). Run "
                "the block again"
            )

    async def _rollback(self, state: ConnectionState, transaction: Transaction) -> None:
        transaction.state = TransactionState.ROLLED_BACK
        transaction.callbacks.clear()
        db = self.db
        if state.invalid or db.driver.is_broken(state.conn.trusted_raw):
            # Closed with its connection: the server has rolled it back.
            state.discard()
            return
        ops = db.ops
        if transaction.xid is not None:
            statements = ops.tpc_abort_sql(transaction.xid, transaction.branch)
        else:
            statements = [ops.rollback_sql()]
        statements = [*statements, *ops.end_transaction_sql(
            transaction.isolation, transaction.read_only)]
        try:
            await self._execute(state, statements)
        except Exception:
            # The error that started the rollback is the one to report; a
            # connection that cannot roll back is not given to anyone else.
            state.discard()


def run_control(
    db: TaskBinding, state: ConnectionState, statements: Sequence[str]
) -> Coroutine[Any, Any, None]:
    """Run transaction-control statements on a bound connection, logged as any statement.

    Returns the coroutine that runs them (awaitable; no frame of its own).
    """
    driver = db.driver
    alias = db.alias
    if len(statements) == 1 and not sql_logger.isEnabledFor(DEBUG):
        # BEGIN or COMMIT alone, the usual case: the driver's call is the whole
        # work (the result of BEGIN/COMMIT is not read), no coroutine of ours.
        return db._on_state(state, functools.partial(driver.execute_control, sql=statements[0]))

    async def run(raw: Any) -> None:
        for sql in statements:
            if sql_logger.isEnabledFor(DEBUG):
                await run_logged(alias, driver.execute, raw, sql, ())
            else:
                # The driver's shortest way: the result of BEGIN/COMMIT is not read.
                await driver.execute_control(raw, sql)

    return db._on_state(state, run)


def end_transaction_streams(state: ConnectionState) -> None:
    """Forget the streams the server closed with the transaction."""
    if state.streams:
        for entry in state.streams:
            if entry.stream.ends_with_transaction:
                entry.ended = "transaction()"
        state.streams = [entry for entry in state.streams if entry.ended is None]


async def run_callbacks(
    callbacks: list[tuple[tuple[str, ...], OnCommit, bool]], *, all_robust: bool = False
) -> None:
    """Run on_commit callbacks in order; a robust one that fails is logged and skipped."""
    for _, fn, robust in callbacks:
        try:
            result = fn()
            if inspect.isawaitable(result):
                await result
        except Exception:
            if not (robust or all_robust):
                raise
            logger.exception("on_commit callback %r failed (robust=True: going on)", fn)

