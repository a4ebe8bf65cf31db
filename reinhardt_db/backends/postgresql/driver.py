"""PostgreSQL through asyncpg."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any, ClassVar, cast
from urllib.parse import urlencode

import asyncpg
import asyncpg.exceptions as asyncpg_exc
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine.interfaces import Dialect

from reinhardt_db import exceptions as exc
from reinhardt_db.backends._params import to_dollar
from reinhardt_db.backends.base.driver import (
    Driver,
    ExecuteResult,
    bad_connect_arguments,
    causes,
    unresolvable_host,
)
from reinhardt_db.backends.base.streams import RowStream
from reinhardt_db.backends.postgresql import LIBPQ_OPTIONS, streams, url_options
from reinhardt_db.backends.postgresql.session import SessionResettingConnection
from reinhardt_db.pool import ConnectionManager

__all__ = ["PostgreSQLConnectionManager", "PostgreSQLDriver"]

# SQLSTATE class (first two characters) -> our error class.
_SQLSTATE_CLASSES: dict[str, type[exc.DatabaseError]] = {
    "23": exc.IntegrityError,
    "22": exc.DataError,
    "42": exc.ProgrammingError,
    "0A": exc.NotSupportedError,
    "08": exc.OperationalError,
    "57": exc.OperationalError,
    "53": exc.OperationalError,
    "40": exc.OperationalError,
    "55": exc.OperationalError,
    "58": exc.OperationalError,
    "28": exc.OperationalError,
    "3D": exc.OperationalError,
    "25": exc.ProgrammingError,
    "XX": exc.InternalError,
}


# Connect errors no retry can fix, by SQLSTATE, with how to fix each. Others
# (57P03 the database system is starting up, 53300 too many connections, 08xxx)
# are retried with back-off.
_PERMANENT_CONNECT_ERRORS: dict[str, str] = {
    "28P01": "check the user name and password in the database settings",
    "28000": "check the user name in the database settings (and pg_hba.conf on the server)",
    "3D000": "create the database, or fix its name in the database settings",
    "42501": "grant the user CONNECT on the database",
    "42704": "fix the server_settings in the database options",
    "22023": "fix the server_settings in the database options",
}


def _rowcount(status: str) -> int:
    # asyncpg returns the command tag: "UPDATE 3", "INSERT 0 1", "DELETE 0", "BEGIN".
    tail = status.rpartition(" ")[2]
    return int(tail) if tail.isdigit() else 0


class PostgreSQLConnectionManager(ConnectionManager[asyncpg.Connection]):
    """Opens asyncpg connections with the session time zone set to UTC."""

    def __init__(self, params: dict[str, Any], driver: PostgreSQLDriver) -> None:
        self.params = params
        self.driver = driver

    async def connect(self) -> asyncpg.Connection:
        try:
            conn: asyncpg.Connection = await asyncpg.connect(**self.params)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
            raise self._connect_error(error) from error
        except TypeError as error:
            raise bad_connect_arguments("asyncpg", error) from error
        return conn

    def is_permanent(self, error: Exception) -> bool:
        return self.driver.is_permanent_connect_error(error)

    def _connect_error(self, error: BaseException) -> exc.OperationalError:
        """The error a failed connect raises: the server's message, where, and the fix."""
        where = f"PostgreSQL at {self.params.get('host')}:{self.params.get('port')}"
        user = self.params.get("user")
        if user is not None:
            where += f" as user {user!r}"
        if isinstance(error, asyncpg.PostgresError):
            sqlstate = getattr(error, "sqlstate", None) or ""
            hint = _PERMANENT_CONNECT_ERRORS.get(sqlstate)
            message = f"{error} ({where})" + (f"; {hint}" if hint else "")
            mapped = exc.OperationalError(message)
            mapped.sqlstate = sqlstate  # type: ignore[attr-defined]
            return mapped
        if unresolvable_host(error):
            return exc.OperationalError(
                f"cannot reach {where}: the host name does not resolve ({error}); "
                f"check the host in the database settings"
            )
        # A timeout has no message of its own.
        return exc.OperationalError(f"cannot reach {where}: {str(error) or repr(error)}")

    async def is_valid(self, conn: asyncpg.Connection) -> bool:
        # The protocol notices a server-side close (terminate, restart) on its
        # own, so this costs no round trip.
        return not conn.is_closed()

    def is_valid_nowait(self, conn: asyncpg.Connection) -> bool:
        return not conn.is_closed()

    def needs_reset(self, conn: asyncpg.Connection) -> bool:
        # Sessions changed by raw SQL are marked dirty by the pool; the ORM's
        # statements leave nothing behind but, at worst, an open transaction.
        return bool(conn.is_in_transaction())

    async def reset(self, conn: asyncpg.Connection) -> None:
        if conn.is_in_transaction():
            # Ours, before asyncpg's reset reports a transaction left open as
            # an error to the event loop: a raw "BEGIN" left open is not one.
            await conn.execute("ROLLBACK")
        # asyncpg's reset forgets add_listener() callbacks, then sends
        # SessionResettingConnection.get_reset_query(): one round trip.
        await conn.reset()

    async def close(self, conn: asyncpg.Connection) -> None:
        await conn.close(timeout=5)


class PostgreSQLDriver(Driver):
    """Driver calls for asyncpg."""

    vendor: ClassVar[str] = "postgresql"
    driver_errors: ClassVar[tuple[type[BaseException], ...]] = (
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        asyncpg.exceptions.InternalClientError,
        OSError,
    )

    def connection_manager(self) -> PostgreSQLConnectionManager:
        url = self.settings.parsed
        query = url_options.parse(url.query)
        timeout = query.pop("connect_timeout", self.settings.pool.connect_timeout)
        libpq = {key: query.pop(key) for key in list(query) if key in LIBPQ_OPTIONS}
        # The rest are server settings; the URL's win over the defaults
        # (?application_name=web), the checked URL never names TimeZone.
        server_settings = {"TimeZone": "UTC", "application_name": "reinhardt_db", **query}
        params: dict[str, Any] = {
            "host": url.host or "localhost",
            "port": url.port or 5432,
            "user": url.user,
            "password": url.password,
            "database": url.database,
            "timeout": timeout,
        }
        if libpq:
            # asyncpg reads libpq options (sslmode, ...) from a DSN's query string.
            params["dsn"] = "postgresql://?" + urlencode(libpq)
        options = dict(self.settings.options)
        server_settings.update(options.pop("server_settings", {}))
        params["server_settings"] = server_settings
        params["connection_class"] = SessionResettingConnection
        params.update(options)
        return PostgreSQLConnectionManager({k: v for k, v in params.items() if v is not None}, self)

    def dialect(self) -> Dialect:
        return asyncpg_dialect(paramstyle="numeric_dollar")

    def native_sql(self, sql: str) -> str:
        return to_dollar(sql)

    def fetch_rows(self, raw: Any, sql: str, params: Sequence[Any]) -> Awaitable[list[Any]]:
        return cast("Awaitable[list[Any]]", raw.fetch(sql, *params))

    def fetch_row(self, raw: Any, sql: str, params: Sequence[Any]) -> Awaitable[Any | None]:
        return cast("Awaitable[Any | None]", raw.fetchrow(sql, *params))

    async def fetch_described(
        self, raw: Any, sql: str, params: Sequence[Any]
    ) -> tuple[Sequence[str], list[Any]]:
        # fetch() goes through asyncpg's statement cache (prepare() would not,
        # and costs a round trip of its own); its Records carry the names.
        rows: list[Any] = await raw.fetch(sql, *params)
        return (tuple(rows[0].keys()) if rows else ()), rows

    async def fetch_one_described(
        self, raw: Any, sql: str, params: Sequence[Any]
    ) -> tuple[Sequence[str], Any | None]:
        row = await raw.fetchrow(sql, *params)
        return (() if row is None else tuple(row.keys())), row

    async def execute(self, raw: Any, sql: str, params: Sequence[Any]) -> ExecuteResult:
        status: str = await raw.execute(sql, *params)
        return ExecuteResult(_rowcount(status))

    def execute_control(self, raw: Any, sql: str) -> Awaitable[Any]:
        return cast("Awaitable[Any]", raw.execute(sql))

    async def executemany(self, raw: Any, sql: str, seq: Sequence[Sequence[Any]]) -> int:
        if not seq:
            return 0
        await raw.executemany(sql, seq)
        return len(seq)

    async def open_stream(
        self, raw: Any, sql: str, params: Sequence[Any], chunk_size: int, *, shared: bool, slot: int
    ) -> RowStream:
        return await streams.open_stream(
            raw, sql, params, chunk_size, shared=shared, slot=slot
        )

    async def server_version(self, raw: Any) -> str:
        version = await raw.fetchval("SHOW server_version")
        return str(version)

    def is_broken(self, raw: Any) -> bool:
        return bool(raw.is_closed())

    def is_permanent_connect_error(self, error: BaseException) -> bool:
        for e in causes(error):
            if isinstance(e, asyncpg.PostgresError):
                return (getattr(e, "sqlstate", None) or "") in _PERMANENT_CONNECT_ERRORS
            if isinstance(e, asyncpg.exceptions.ClientConfigurationError):
                return True  # e.g. an SSL option the client cannot use
        return super().is_permanent_connect_error(error)

    def is_fatal(self, error: BaseException) -> bool:
        if isinstance(error, asyncpg.PostgresError):
            state = getattr(error, "sqlstate", None) or ""
            # 08: connection exception; 57P0x: shutdown / terminate / cannot connect now.
            return state.startswith("08") or state.startswith("57P")
        return isinstance(
            error,
            (
                asyncpg.exceptions.ConnectionDoesNotExistError,
                asyncpg.exceptions.InternalClientError,
                OSError,
            ),
        )

    def map_error(self, error: BaseException) -> exc.DatabaseError:
        if isinstance(error, asyncpg.PostgresError):
            sqlstate = getattr(error, "sqlstate", None) or ""
            cls = _SQLSTATE_CLASSES.get(sqlstate[:2], exc.DatabaseError)
            mapped = cls(str(error))
            mapped.sqlstate = sqlstate  # type: ignore[attr-defined]
            return mapped
        lost = (asyncpg_exc.ConnectionDoesNotExistError, asyncpg_exc.InternalClientError)
        if isinstance(error, lost):
            # InternalClientError: the protocol was cut mid-operation by a lost connection.
            return exc.OperationalError(f"PostgreSQL connection lost: {error}")
        if isinstance(error, asyncpg.exceptions.DataError):
            # asyncpg's client-side "invalid input for query argument" errors.
            return exc.DataError(str(error))
        if isinstance(error, asyncpg.InterfaceError):
            return exc.InterfaceError(str(error))
        if isinstance(error, (OSError, asyncio.TimeoutError)):
            return exc.OperationalError(f"cannot reach PostgreSQL: {error}")
        return exc.DatabaseError(str(error))
