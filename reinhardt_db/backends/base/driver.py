"""The driver half of a backend: calls on a raw connection, and error mapping.

Each vendor package (``sqlite``, ``postgresql``, ``mysql``) subclasses
:class:`Driver` and provides a :class:`~reinhardt_db.pool.ConnectionManager`.
Vendor SQL lives beside it in ``operations.py``, capabilities in ``features.py``
and DDL in ``schema.py``; :class:`~reinhardt_db.backends.database.Database`
holds the logic common to all of them (pools per loop, task-bound connections,
logging, error wrapping).
"""

from __future__ import annotations

import socket
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from reinhardt_db import exceptions as exc
from reinhardt_db.backends.base.streams import RowStream

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import Dialect

    from reinhardt_db.conf import DatabaseSettings
    from reinhardt_db.pool import ConnectionManager

__all__ = [
    "ISOLATION_LEVELS",
    "Driver",
    "ExecuteResult",
    "causes",
    "check_isolation",
    "unresolvable_host",
]

ISOLATION_LEVELS = ("read uncommitted", "read committed", "repeatable read", "serializable")

# getaddrinfo's answers that a retry will not change: the name does not exist,
# or has no address. EAI_AGAIN (the resolver could not answer now) is transient.
_NO_SUCH_HOST = frozenset(
    code
    for code in (getattr(socket, "EAI_NONAME", None), getattr(socket, "EAI_NODATA", None))
    if code is not None
)


def causes(error: BaseException) -> Iterator[BaseException]:
    """Yield ``error`` and the errors it was raised from (``__cause__``), a few deep."""
    seen: BaseException | None = error
    for _ in range(4):
        if seen is None:
            return
        yield seen
        seen = seen.__cause__


def unresolvable_host(error: BaseException) -> bool:
    """True when ``error`` (or what it was raised from) says the host name does not resolve."""
    return any(
        isinstance(e, socket.gaierror) and e.errno in _NO_SUCH_HOST for e in causes(error)
    )


def bad_connect_arguments(vendor: str, error: TypeError) -> exc.ImproperlyConfigured:
    """The error for a driver ``connect()`` refusing its arguments (an unknown name, a
    value of the wrong type): a settings mistake, raised at once, never retried."""
    return exc.ImproperlyConfigured(
        f"the {vendor} driver refused its connect() arguments ({error}); check the "
        "names and Python types in the database's 'options' (URL options are "
        "checked when the settings load)"
    )


def check_isolation(isolation: str | None) -> None:
    """Refuse an isolation level name that no backend knows."""
    if isolation is not None and isolation not in ISOLATION_LEVELS:
        raise exc.TransactionManagementError(
            f"unknown isolation level {isolation!r}; use one of {', '.join(ISOLATION_LEVELS)}"
        )


@dataclass(frozen=True, slots=True)
class ExecuteResult:
    """What a write statement reports: rows touched and, where known, the new row id."""

    rowcount: int
    lastrowid: int | None = None


class Driver(ABC):
    """Driver calls for one vendor. Methods take the driver's raw connection."""

    vendor: ClassVar[str]
    #: Driver exception classes that :meth:`map_error` understands.
    driver_errors: ClassVar[tuple[type[BaseException], ...]]

    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings

    # -- set-up -------------------------------------------------------------------
    @abstractmethod
    def connection_manager(self) -> ConnectionManager[Any]:
        """The pool's connection manager for this database."""

    @abstractmethod
    def dialect(self) -> Dialect:
        """An SQLAlchemy dialect compiling to this driver's native paramstyle."""

    # -- statements (native paramstyle, positional params) ------------------------
    # fetch_rows/fetch_row return an awaitable: a driver whose own call already
    # gives the result (asyncpg) returns that call's awaitable, no frame between.
    @abstractmethod
    def fetch_rows(self, raw: Any, sql: str, params: Sequence[Any]) -> Awaitable[list[Any]]:
        """Run a query and return every row as the driver gives it (awaitable)."""

    def fetch_row(self, raw: Any, sql: str, params: Sequence[Any]) -> Awaitable[Any | None]:
        """Run a query and return its first row, or None (awaitable)."""
        return self._first_row(raw, sql, params)

    async def _first_row(self, raw: Any, sql: str, params: Sequence[Any]) -> Any | None:
        rows = await self.fetch_rows(raw, sql, params)
        return rows[0] if rows else None

    @abstractmethod
    async def fetch_described(
        self, raw: Any, sql: str, params: Sequence[Any]
    ) -> tuple[Sequence[str], list[Any]]:
        """Run a query and return (column names, rows)."""

    async def fetch_one_described(
        self, raw: Any, sql: str, params: Sequence[Any]
    ) -> tuple[Sequence[str], Any | None]:
        """Run a query and return (column names, its first row or None)."""
        names, rows = await self.fetch_described(raw, sql, params)
        return names, rows[0] if rows else None

    @abstractmethod
    async def execute(self, raw: Any, sql: str, params: Sequence[Any]) -> ExecuteResult:
        """Run a statement and report the rows it touched."""

    def execute_control(self, raw: Any, sql: str) -> Awaitable[Any]:
        """Run a parameterless statement whose result is not read (BEGIN, COMMIT ...).

        A driver may return its own call's awaitable here (no ``ExecuteResult``
        to build); the default runs :meth:`execute`.
        """
        return self.execute(raw, sql, ())

    @abstractmethod
    async def executemany(self, raw: Any, sql: str, seq: Sequence[Sequence[Any]]) -> int:
        """Run a statement once per parameter set; return the rows touched (or sets run)."""

    @abstractmethod
    async def open_stream(
        self, raw: Any, sql: str, params: Sequence[Any], chunk_size: int, *, shared: bool, slot: int
    ) -> RowStream:
        """Start reading a query's result in chunks of ``chunk_size`` rows.

        ``shared``: the connection is a task's bound connection, so other
        statements may run between two chunks and the session must stay the
        caller's (no transaction of the stream's own). Otherwise the stream has
        the connection to itself. ``slot`` is a number no other stream open on
        this connection uses (for cursor names).
        """

    # -- raw-SQL API placeholder translation ----------------------------------------
    @abstractmethod
    def native_sql(self, sql: str) -> str:
        """Translate ``%s``-style SQL into this driver's paramstyle."""

    # -- transactions ---------------------------------------------------------------
    async def begin(self, raw: Any) -> None:
        """Open a plain transaction on ``raw`` (``atomic()`` asks ``ops`` for its BEGIN)."""
        await self.execute(raw, "BEGIN", ())

    async def commit(self, raw: Any) -> None:
        """Commit the open transaction."""
        await self.execute(raw, "COMMIT", ())

    async def rollback(self, raw: Any) -> None:
        """Roll back the open transaction."""
        await self.execute(raw, "ROLLBACK", ())

    # -- facts ------------------------------------------------------------------------
    @abstractmethod
    async def server_version(self, raw: Any) -> str:
        """The server's version string."""

    @abstractmethod
    def is_broken(self, raw: Any) -> bool:
        """True when the driver knows this connection is unusable (no I/O)."""

    def is_fatal(self, error: BaseException) -> bool:
        """True when ``error`` means the connection is finished, whatever its socket says.

        A server that ends a session (shutdown, terminate, KILL) sends its error
        before closing the socket, so the driver may not know yet.
        """
        return isinstance(error, OSError)

    def is_permanent_connect_error(self, error: BaseException) -> bool:
        """True when a connect failed for a reason no retry can fix.

        ``error`` is what the connection manager's ``connect()`` raised (its
        ``__cause__`` is the driver's error). The base knows two such reasons:
        a host name that does not resolve, and arguments the driver refused
        (:func:`bad_connect_arguments`). Vendors add wrong credentials and
        unknown databases or roles.
        """
        return isinstance(error, exc.ImproperlyConfigured) or unresolvable_host(error)

    def discard_after(self, raw: Any, error: BaseException) -> bool:
        """True when a connection that raised ``error`` must not be reused."""
        return self.is_fatal(error) or self.is_broken(raw)

    @abstractmethod
    def map_error(self, error: BaseException) -> exc.DatabaseError:
        """Translate a driver error into the reinhardt_db hierarchy."""
