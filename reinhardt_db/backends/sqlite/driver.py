"""SQLite through aiosqlite: the embedded default.

Each connection runs on its own thread (aiosqlite). Every operation here is
one function shipped to that thread in a single hop (aiosqlite's
``Connection._execute``), instead of the two or three hops its public cursor
API costs; on small queries the hops dominate. ``_aiosqlite.py`` lists every
private attribute of aiosqlite used here (pinned and tested), and explains why
worker threads are daemons closed by an exit hook.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sqlite3
import statistics
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, ClassVar

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import dialect as sqlite_dialect
from sqlalchemy.engine.interfaces import Dialect

from reinhardt_db import exceptions as exc
from reinhardt_db.backends._params import to_qmark
from reinhardt_db.backends.base.driver import Driver, ExecuteResult, bad_connect_arguments
from reinhardt_db.backends.base.streams import RowStream
from reinhardt_db.backends.sqlite import streams, url_options
from reinhardt_db.backends.sqlite._aiosqlite import close_at_exit, daemonize
from reinhardt_db.backends.sqlite.session import reset_session
from reinhardt_db.pool import ConnectionManager

__all__ = ["SQLiteConnectionManager", "SQLiteDriver"]

BUSY_TIMEOUT_MS = 5000

_PROGRAMMING_MARKERS = (
    "syntax error",
    "no such table",
    "no such column",
    "has no column named",
    "no such function",
    "incomplete input",
    "already exists",
    "unrecognized token",
)


def _fetch(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    return conn.execute(sql, params).fetchall()


def _fetch_described(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any]
) -> tuple[tuple[str, ...], list[Any]]:
    cursor = conn.execute(sql, params)
    rows = cursor.fetchall()
    names = tuple(d[0] for d in cursor.description or ())
    return names, rows


def _fetch_one_described(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any]
) -> tuple[tuple[str, ...], Any | None]:
    cursor = conn.execute(sql, params)
    try:
        row = cursor.fetchone()
        names = tuple(d[0] for d in cursor.description or ())
    finally:
        cursor.close()
    return names, row


def _execute(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> ExecuteResult:
    cursor = conn.execute(sql, params)
    return ExecuteResult(cursor.rowcount, cursor.lastrowid)


def _executemany(conn: sqlite3.Connection, sql: str, seq: Sequence[Sequence[Any]]) -> int:
    return conn.executemany(sql, seq).rowcount


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _regexp(pattern: str | None, value: Any) -> int | None:
    # SQLite has the REGEXP operator but no implementation: "x REGEXP p" calls
    # regexp(p, x). NULL in, NULL out, as the other backends do.
    if pattern is None or value is None:
        return None
    return 1 if _compiled(pattern).search(str(value)) else 0


def jsonb_contains(target: Any, candidate: Any, top: bool = True) -> bool:
    """PostgreSQL's ``jsonb @> jsonb`` on decoded JSON values.

    An object contains an object whose keys it has with contained values; an
    array contains an array each of whose items some item contains; scalars
    contain equal scalars (``true`` is not ``1``). Only at the top may an array
    contain a scalar it has as an item (PostgreSQL's one exception).
    """
    if isinstance(target, dict):
        return isinstance(candidate, dict) and all(
            key in target and jsonb_contains(target[key], value, False)
            for key, value in candidate.items()
        )
    if isinstance(target, list):
        if isinstance(candidate, list):
            return all(any(jsonb_contains(item, c, False) for item in target) for c in candidate)
        if isinstance(candidate, dict) or not top:
            return False
        return any(_same_scalar(item, candidate) for item in target)
    return not isinstance(candidate, (dict, list)) and _same_scalar(target, candidate)


def _same_scalar(a: Any, b: Any) -> bool:
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def _json_contains(document: str | None, candidate: str | None) -> int | None:
    # REINHARDT_JSON_CONTAINS(doc, candidate): the JSON "contains" and
    # "contained_by" lookups, which SQLite's JSON1 has no function for.
    if document is None or candidate is None:
        return None
    try:
        return 1 if jsonb_contains(json.loads(document), json.loads(candidate)) else 0
    except (TypeError, ValueError):
        return None


# Primary result codes (the low byte of sqlite_errorcode) that no retry can
# fix: SQLITE_PERM, READONLY, CORRUPT, CANTOPEN, AUTH, NOTADB. BUSY and LOCKED
# (another connection holds a lock) and I/O errors stay transient.
_PERMANENT_OPEN_ERRORS = frozenset({3, 8, 11, 14, 23, 26})


def _case_mapped(upper: bool) -> Callable[[Any], Any]:
    # Character by character, keeping characters whose mapping is longer ("ß" -> "SS"),
    # as PostgreSQL and MariaDB do: the same answer on every backend.
    def mapped(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        changed = value.upper() if upper else value.lower()
        if len(changed) == len(value):
            return changed
        convert = str.upper if upper else str.lower
        return "".join(c if len(convert(c)) != 1 else convert(c) for c in value)

    return mapped


class _Statistic:
    """STDDEV_POP/STDDEV_SAMP/VAR_POP/VAR_SAMP, which SQLite lacks (as Django's backend adds)."""

    function: Callable[[list[float]], float] = staticmethod(statistics.pvariance)
    minimum = 1

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: Any) -> None:
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        if len(self.values) < self.minimum:
            return None
        return float(type(self).function(self.values))


def _statistic(function: Callable[[list[float]], float], minimum: int) -> Any:
    return type(
        "Statistic", (_Statistic,), {"function": staticmethod(function), "minimum": minimum}
    )


_STATISTICS = {
    "STDDEV_POP": _statistic(statistics.pstdev, 1),
    "STDDEV_SAMP": _statistic(statistics.stdev, 2),
    "VAR_POP": _statistic(statistics.pvariance, 1),
    "VAR_SAMP": _statistic(statistics.variance, 2),
}


def _check_directory(path: str) -> None:
    """Refuse a database path whose directory is missing (SQLite makes the file, not the directory).

    Creating the directories instead would turn a typo in the path into a new,
    empty database.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(directory):
        return
    problem = "is not a directory" if os.path.exists(directory) else "does not exist"
    raise exc.OperationalError(
        f"cannot open SQLite database {path!r}: the directory {directory!r} {problem}; "
        f"create the directory first, or fix the path in the database URL"
    )


def _setup(conn: sqlite3.Connection, on_disk: bool, busy_ms: int = BUSY_TIMEOUT_MS) -> None:
    conn.create_function("REGEXP", 2, _regexp, deterministic=True)
    conn.create_function("UNICODE_LOWER", 1, _case_mapped(False), deterministic=True)
    conn.create_function("UNICODE_UPPER", 1, _case_mapped(True), deterministic=True)
    for name, aggregate in _STATISTICS.items():
        conn.create_aggregate(name, 1, aggregate)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
    if on_disk:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    # The JSON contains/contained_by lookups: PostgreSQL's @> rules, in Python.
    conn.create_function("REINHARDT_JSON_CONTAINS", 2, _json_contains, deterministic=True)


class SQLiteConnectionManager(ConnectionManager[aiosqlite.Connection]):
    """Opens aiosqlite connections in autocommit mode with foreign keys, WAL and a busy timeout."""

    def __init__(self, path: str, options: dict[str, Any]) -> None:
        self.path = path
        options = dict(options)
        # sqlite3's timeout (?timeout=5) is the busy timeout, which the set-up (and
        # the reset after each borrower) sets: it is kept here, in milliseconds.
        timeout = options.pop("timeout", BUSY_TIMEOUT_MS / 1000)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0:
            raise exc.ImproperlyConfigured(
                f"SQLite option timeout={timeout!r}: expected seconds, a number of at least 0"
            )
        self.busy_ms = round(timeout * 1000)
        self.options = options

    async def connect(self) -> aiosqlite.Connection:
        on_disk = self.path != ":memory:" and not self.path.startswith("file::memory:")
        if on_disk and not self.path.startswith("file:"):
            _check_directory(self.path)
        # isolation_level=None: autocommit; transactions are explicit BEGINs.
        conn = daemonize(aiosqlite.connect(self.path, isolation_level=None, **self.options))
        try:
            await conn
            await conn._execute(_setup, conn._conn, on_disk, self.busy_ms)
        except BaseException as error:
            await conn.close()
            if isinstance(error, sqlite3.Error):
                raise exc.OperationalError(
                    f"cannot open SQLite database {self.path!r}: {error}"
                ) from error
            if isinstance(error, TypeError):
                raise bad_connect_arguments("aiosqlite", error) from error
            raise
        close_at_exit(conn)
        return conn

    def is_permanent(self, error: Exception) -> bool:
        if isinstance(error, exc.ImproperlyConfigured):
            return True  # arguments sqlite3.connect() refused
        if not isinstance(error, exc.OperationalError):
            return False
        cause = error.__cause__
        if cause is None:
            return True  # our own check of the path (_check_directory)
        code = getattr(cause, "sqlite_errorcode", None)
        return isinstance(code, int) and code & 0xFF in _PERMANENT_OPEN_ERRORS

    async def is_valid(self, conn: aiosqlite.Connection) -> bool:
        return conn._running and conn._connection is not None

    def is_valid_nowait(self, conn: aiosqlite.Connection) -> bool:
        return bool(conn._running and conn._connection is not None)

    def needs_reset(self, conn: aiosqlite.Connection) -> bool:
        # Sessions changed by raw SQL are marked dirty by the pool; the ORM's
        # statements leave nothing behind but, at worst, an open transaction.
        return conn._connection is None or bool(conn._connection.in_transaction)

    async def reset(self, conn: aiosqlite.Connection) -> None:
        if conn._connection is None:
            raise ValueError("Connection closed")
        on_disk = self.path != ":memory:" and not self.path.startswith("file::memory:")
        setup = functools.partial(_setup, busy_ms=self.busy_ms)
        await conn._execute(reset_session, conn._conn, setup, on_disk)

    async def close(self, conn: aiosqlite.Connection) -> None:
        if not conn._running or not conn._thread.is_alive():
            # stop() was already called: the worker thread closes the sqlite3
            # connection and exits on its own, and aiosqlite's close() would
            # wait forever for an answer from a thread that is gone.
            return
        raw = conn._connection
        if raw is not None:
            # A statement whose task was cancelled is still running on the worker
            # thread (the pool closes such connections): stop it, or the close
            # waits for it, and its result would reach a future whose loop may be
            # closed by then. With no statement running this does nothing.
            raw.interrupt()
        await conn.close()


class SQLiteDriver(Driver):
    """Driver calls for aiosqlite."""

    vendor: ClassVar[str] = "sqlite"
    # OverflowError: sqlite3 cannot bind an int beyond 64 bits.
    driver_errors: ClassVar[tuple[type[BaseException], ...]] = (
        sqlite3.Error, ValueError, OverflowError,
    )

    def connection_manager(self) -> SQLiteConnectionManager:
        url = self.settings.parsed
        options = {**url_options.parse(url.query), **self.settings.options}
        return SQLiteConnectionManager(url.database, options)

    def dialect(self) -> Dialect:
        return sqlite_dialect(paramstyle="qmark")

    def native_sql(self, sql: str) -> str:
        return to_qmark(sql)

    async def fetch_rows(self, raw: Any, sql: str, params: Sequence[Any]) -> list[Any]:
        result: list[Any] = await raw._execute(_fetch, raw._conn, sql, params)
        return result

    async def fetch_described(
        self, raw: Any, sql: str, params: Sequence[Any]
    ) -> tuple[Sequence[str], list[Any]]:
        result: tuple[Sequence[str], list[Any]] = await raw._execute(
            _fetch_described, raw._conn, sql, params
        )
        return result

    async def fetch_one_described(
        self, raw: Any, sql: str, params: Sequence[Any]
    ) -> tuple[Sequence[str], Any | None]:
        result: tuple[Sequence[str], Any | None] = await raw._execute(
            _fetch_one_described, raw._conn, sql, params
        )
        return result

    async def execute(self, raw: Any, sql: str, params: Sequence[Any]) -> ExecuteResult:
        result: ExecuteResult = await raw._execute(_execute, raw._conn, sql, params)
        return result

    async def executemany(self, raw: Any, sql: str, seq: Sequence[Sequence[Any]]) -> int:
        result: int = await raw._execute(_executemany, raw._conn, sql, seq)
        return result

    async def open_stream(
        self, raw: Any, sql: str, params: Sequence[Any], chunk_size: int, *, shared: bool, slot: int
    ) -> RowStream:
        return await streams.open_stream(raw, sql, params, chunk_size)

    async def server_version(self, raw: Any) -> str:
        return sqlite3.sqlite_version

    def is_broken(self, raw: Any) -> bool:
        return not raw._running or raw._connection is None

    def is_fatal(self, error: BaseException) -> bool:
        # aiosqlite raises ValueError once the connection is closed.
        return isinstance(error, ValueError) and not isinstance(error, UnicodeError)

    def map_error(self, error: BaseException) -> exc.DatabaseError:
        message = str(error)
        if isinstance(error, (OverflowError, UnicodeError)):
            # A parameter sqlite3 cannot bind (an int beyond 64 bits, a lone surrogate).
            return exc.DataError(message)
        if isinstance(error, ValueError):
            # aiosqlite says "Connection closed" / "no active connection": the
            # connection is gone, as a dropped server connection would be.
            return exc.OperationalError(f"SQLite connection lost: {message}")
        if isinstance(error, sqlite3.IntegrityError):
            return exc.IntegrityError(message)
        if isinstance(error, sqlite3.DataError):
            return exc.DataError(message)
        if isinstance(error, sqlite3.NotSupportedError):
            return exc.NotSupportedError(message)
        if isinstance(error, sqlite3.ProgrammingError):
            return exc.ProgrammingError(message)
        if isinstance(error, sqlite3.OperationalError):
            lowered = message.lower()
            if lowered == "integer overflow":
                # 64-bit arithmetic overflow, or a computed UPDATE value out of range.
                return exc.DataError(f"{message}: a value is out of the column's range")
            if any(marker in lowered for marker in _PROGRAMMING_MARKERS):
                return exc.ProgrammingError(message)
            return exc.OperationalError(message)
        if isinstance(error, sqlite3.InterfaceError):
            return exc.InterfaceError(message)
        if isinstance(error, sqlite3.InternalError):
            return exc.InternalError(message)
        return exc.DatabaseError(message)
