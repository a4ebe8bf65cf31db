"""The connection a task holds: :class:`ConnectionState`, and how tasks find it.

``db.connection()`` acquires one pooled connection and binds a
:class:`ConnectionState` for it to the current task's context; tasks created
inside the block copy that context (``asyncio.create_task``, ``gather``) and so
share the connection, one statement at a time. The outermost ``atomic()``
block (``backends/atomic.py``; ``db.transaction()`` is one) adds a binding of
its own on the same state, so a task created inside the transaction can tell
when the transaction has ended.

A binding whose block has ended is never used: a task that outlives its block
runs its statements on pooled connections of its own, in autocommit (as
outside any block), and never touches the released connection nor a later
transaction on it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from reinhardt_db import exceptions as exc

if TYPE_CHECKING:
    from reinhardt_db.backends.base.streams import RowStream
    from reinhardt_db.pool import Pool, PoolConnection

__all__ = [
    "Binding",
    "BoundConnection",
    "ConnectionState",
    "OpenStream",
    "TransactionListener",
    "add_transaction_listener",
    "bindings",
    "note_tables_written",
    "transaction_ended",
]


class ConnectionState:
    """The pooled connection bound to a task (and the tasks it spawns) for a block.

    - ``conn``: the pool's connection itself (``PoolConnection``); it refuses use
      once released, so nothing can reach the driver connection after the block.
    - ``released``: True once the block ended and the connection went back.
    - ``busy``: a statement (or a stream's fetch) is in flight; another one
      started meanwhile raises ``TransactionManagementError``.
    - ``streams``: the streams (``iterator()``, ``stream_rows``) open on the
      connection; ``streaming`` is True while there is one.
    - ``in_transaction``: an ``atomic()`` block (``db.transaction()``) has
      BEGUN and not yet ended.
    - ``atomic_blocks``: the stack of ``atomic()`` blocks open on this
      connection, innermost last (``backends/atomic.py`` ``AtomicBlock``);
      pushed and popped by the atomic engine only.
    - ``invalid``: the connection was closed after an error or a cancellation.
    - ``written_tables``: the tables the ORM wrote in the open transaction
      (:func:`note_tables_written`); emptied by :func:`transaction_ended`. The
      query-result cache reads it (reads of these tables bypass the cache until
      the transaction ends).
    """

    __slots__ = (
        "alias",
        "atomic_blocks",
        "busy",
        "conn",
        "depth",
        "in_transaction",
        "invalid",
        "pool",
        "released",
        "streams",
        "written_tables",
    )

    def __init__(self, alias: str, pool: Pool[Any], conn: PoolConnection[Any]) -> None:
        self.alias = alias
        self.pool = pool
        self.conn = conn
        self.depth = 1
        self.busy = False
        self.released = False
        self.in_transaction = False
        self.invalid = False
        self.streams: list[OpenStream] = []
        self.atomic_blocks: list[Any] = []
        self.written_tables: set[str] = set()

    @property
    def streaming(self) -> bool:
        """Return True while a stream is open on the connection."""
        return bool(self.streams)

    @property
    def raw(self) -> Any:
        """Return the driver connection, for calls the ORM has no API for.

        The session counts as changed from then on: when the block ends, the
        pool resets it (``RESET ALL``, ``DISCARD TEMP``, ... on PostgreSQL) before
        anyone else gets it. Raise ``InvalidConnection`` once the block ended.
        """
        return self.conn.raw

    def discard(self) -> None:
        """Close the connection: its state is unknown (cancelled mid-statement, lost)."""
        if not self.invalid:
            self.invalid = True
            if not self.released:
                self.conn.invalidate()

    def __repr__(self) -> str:
        flags = [
            name
            for name, on in (
                ("released", self.released),
                ("busy", self.busy),
                ("streaming", self.streaming),
                ("in_transaction", self.in_transaction),
                ("invalid", self.invalid),
            )
            if on
        ]
        return f"<ConnectionState {self.alias!r} {' '.join(flags) or 'idle'}>"


#: Called as ``listener(state, tables, committed)`` when a transaction on ``state`` ended.
TransactionListener = Callable[["ConnectionState", frozenset[str], bool], None]

_transaction_listeners: list[TransactionListener] = []


def add_transaction_listener(listener: TransactionListener) -> None:
    """Call ``listener(state, tables, committed)`` whenever an outermost transaction ends.

    ``tables`` are the tables the ORM wrote in it; ``committed`` is False after a
    rollback (nothing it wrote is visible to anyone), True once a COMMIT was sent
    (also when the COMMIT itself failed: its writes may be visible). The models
    layer's query-result cache registers here; lower layers never import it.
    """
    if listener not in _transaction_listeners:
        _transaction_listeners.append(listener)


def in_transaction(state: ConnectionState) -> bool:
    """True while ``state`` has a transaction open (``db.transaction()`` or ``atomic()``)."""
    return state.in_transaction or bool(state.atomic_blocks)


def note_tables_written(state: ConnectionState | None, tables: frozenset[str]) -> bool:
    """Record that the ORM wrote ``tables`` in ``state``'s open transaction.

    Return False (recording nothing) when there is no transaction open on
    ``state``: the write is already committed.
    """
    if state is None or not in_transaction(state):
        return False
    state.written_tables.update(tables)
    return True


_NO_TABLES: frozenset[str] = frozenset()


def transaction_ended(state: ConnectionState, committed: bool) -> None:
    """Tell the listeners the outermost transaction on ``state`` ended; forget its tables.

    ``db.transaction()`` calls this after its COMMIT or ROLLBACK; the
    transactions layer (``atomic()``) calls it at the end of its outermost block.
    """
    written = state.written_tables
    tables = frozenset(written) if written else _NO_TABLES
    written.clear()
    for listener in tuple(_transaction_listeners):
        listener(state, tables, committed)


#: The name this object had before it carried the whole connection state.
BoundConnection = ConnectionState


class OpenStream:
    """A stream open on a :class:`ConnectionState`, and what became of it.

    ``abandoned``: its reader let go before the end (``aclose()``, ``break``);
    the stream is closed before the connection's next statement, by the task
    that runs it, never by the garbage collector's task. ``ended``: the block
    it was read in is over (``"connection()"`` or ``"transaction()"``), so it
    can no longer be read.
    """

    __slots__ = ("abandoned", "ended", "slot", "stream")

    def __init__(self, stream: RowStream, slot: int) -> None:
        self.stream = stream
        self.slot = slot
        self.abandoned = False
        self.ended: str | None = None


class Binding:
    """One block's claim on a :class:`ConnectionState`, as seen from a task's context.

    ``open`` turns False when the block that made the binding ends; tasks that
    copied the context keep the object and so see it end.
    """

    __slots__ = ("open", "state")

    def __init__(self, state: ConnectionState) -> None:
        self.state = state
        self.open = True


# alias -> Binding. A fresh dict is set on every change so that tasks spawned
# inside a block see the binding without ever mutating their parent's view.
bindings: ContextVar[dict[str, Binding] | None] = ContextVar(
    "reinhardt_db_bound_connections", default=None
)


def discarded_error(alias: str) -> exc.OperationalError:
    """The error for a statement on a connection closed earlier in the block."""
    return exc.OperationalError(
        f"the connection bound to database {alias!r} was closed after an earlier error or "
        "cancellation in this block, and its transaction is gone; leave the block and "
        "start the work again"
    )


def busy_error(alias: str) -> exc.TransactionManagementError:
    """The error for a statement started while another runs on the same connection."""
    return exc.TransactionManagementError(
        f"the connection bound to database {alias!r} is busy with another statement: "
        "a task spawned inside connection()/atomic() shares its parent's connection, and "
        "statements on one connection cannot overlap. Await the statements one after "
        "another, or run the concurrent tasks outside the block."
    )
