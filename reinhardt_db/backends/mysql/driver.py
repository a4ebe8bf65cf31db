"""MySQL and MariaDB through aiomysql (PyMySQL's protocol code)."""

from __future__ import annotations

import asyncio
import datetime
import ssl
from collections.abc import Sequence
from typing import Any, ClassVar

import aiomysql
import pymysql
import pymysql.converters
from pymysql.constants import CLIENT, FIELD_TYPE
from sqlalchemy.dialects.mysql.aiomysql import dialect as aiomysql_dialect
from sqlalchemy.engine.interfaces import Dialect

from reinhardt_db import exceptions as exc
from reinhardt_db.backends._params import placeholder_count
from reinhardt_db.backends.base.driver import (
    Driver,
    ExecuteResult,
    bad_connect_arguments,
    causes,
    unresolvable_host,
)
from reinhardt_db.backends.base.streams import RowStream
from reinhardt_db.backends.mysql import streams, url_options
from reinhardt_db.backends.mysql.session import reset_session
from reinhardt_db.pool import ConnectionManager

__all__ = ["MySQLConnectionManager", "MySQLDriver"]

# Strict mode: a value that does not fit is an error, never silently truncated.
SQL_MODE = (
    "STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
    "NO_ENGINE_SUBSTITUTION"
)

def _escape_bytes(value: bytes) -> str:
    # A hex literal needs no escaping at all, whatever the bytes hold.
    return "_binary X'" + value.hex() + "'"


# PyMySQL 1.2 replaced escape_bytes_prefixed with a sentinel string that
# aiomysql 0.3 still calls for every bytes parameter; put a real one back
# only when that mismatch is present.
if not callable(getattr(aiomysql.connection, "escape_bytes_prefixed", None)):
    aiomysql.connection.escape_bytes_prefixed = _escape_bytes


class _Cursor(aiomysql.Cursor):
    """aiomysql's cursor without its extra ``SHOW WARNINGS`` round trip.

    Strict ``sql_mode`` turns every data warning that matters into an error;
    what is left (notes such as ``DROP TABLE IF EXISTS`` of a missing table)
    is not worth a round trip and a Python warning per statement.
    """

    async def _show_warnings(self, conn: Any) -> None:
        return None


_fromisoformat = datetime.datetime.fromisoformat


def _decode_datetime(value: str | bytes) -> datetime.datetime | str:
    # The session time zone is UTC, so DATETIME and TIMESTAMP values are UTC:
    # decode them as aware datetimes in one C call (PyMySQL's regex decoder
    # plus datetime.replace(tzinfo=...) costs about ten times more per value).
    text = value.decode("ascii") if isinstance(value, (bytes, bytearray)) else value
    try:
        return _fromisoformat(text + "+00:00")
    except ValueError:
        return text  # PyMySQL's behaviour for values it cannot read


DECODERS = {
    **pymysql.converters.conversions,
    FIELD_TYPE.DATETIME: _decode_datetime,
    FIELD_TYPE.TIMESTAMP: _decode_datetime,
}


# PyMySQL leaves several common server errors as OperationalError; the DB-API
# class of these is clear from the code.
_ERRNO_CLASSES: dict[int, type[exc.DatabaseError]] = {
    1054: exc.ProgrammingError,  # unknown column
    1064: exc.ProgrammingError,  # syntax error
    1146: exc.ProgrammingError,  # no such table
    1050: exc.ProgrammingError,  # table exists
    1060: exc.ProgrammingError,  # duplicate column name
    1061: exc.ProgrammingError,  # duplicate key name
    1091: exc.ProgrammingError,  # can't drop: doesn't exist
    1305: exc.ProgrammingError,  # function does not exist
    1062: exc.IntegrityError,  # duplicate entry
    1048: exc.IntegrityError,  # column cannot be null
    1364: exc.IntegrityError,  # NOT NULL column without a value and no default
    1451: exc.IntegrityError,  # FK: row is referenced
    1452: exc.IntegrityError,  # FK: parent row missing
    1216: exc.IntegrityError,
    1217: exc.IntegrityError,
    3819: exc.IntegrityError,  # MySQL CHECK constraint violated
    4025: exc.IntegrityError,  # MariaDB CHECK constraint violated
    1406: exc.DataError,  # data too long
    1264: exc.DataError,  # out of range
    1265: exc.DataError,  # data truncated
    1366: exc.DataError,  # incorrect value
    1292: exc.DataError,  # incorrect date/time value
    1365: exc.DataError,  # division by 0
    1690: exc.DataError,  # arithmetic out of range (BIGINT value is out of range)
    1235: exc.NotSupportedError,  # not supported yet
    1213: exc.OperationalError,  # deadlock
    1205: exc.OperationalError,  # lock wait timeout
}


# Errors after which the session is gone: server gone away, lost connection,
# connection killed, server shutdown.
_FATAL_ERRNOS = frozenset({2006, 2013, 2055, 1927, 1053, 1077, 1152, 1184})


# Connect errors no retry can fix, by error number, with how to fix each.
# Others (1040 too many connections, 2003 refused or timed out, 2013 lost) are
# retried with back-off.
_ACCESS_HINT = "check the user name and password in the database settings"
_PERMANENT_CONNECT_ERRORS: dict[int, str] = {
    1044: "grant the user access to the database",
    1045: _ACCESS_HINT,
    1698: _ACCESS_HINT,  # MariaDB: access denied without a password
    1049: "create the database, or fix its name in the database settings",
    1129: "the server blocked this host after many failed connects; run FLUSH HOSTS",
    1130: "allow this host for the user on the server",
    1251: "the server wants an authentication method the client does not have",
    1862: "the user's password has expired; set a new one",
    2059: "the server wants an authentication plugin the client does not have",
    3118: "the account is locked; unlock it on the server",
    4151: "the account is locked; unlock it on the server",
}


class MySQLConnectionManager(ConnectionManager[aiomysql.Connection]):
    """Opens aiomysql connections: autocommit, utf8mb4, UTC session, strict sql_mode."""

    def __init__(self, params: dict[str, Any], driver: MySQLDriver) -> None:
        self.params = params
        self.driver = driver

    async def connect(self) -> aiomysql.Connection:
        try:
            conn: aiomysql.Connection = await aiomysql.connect(**self.params)
        except (pymysql.err.Error, OSError, asyncio.IncompleteReadError) as error:
            raise self._connect_error(error) from error
        except TypeError as error:
            raise bad_connect_arguments("aiomysql", error) from error
        return conn

    def is_permanent(self, error: Exception) -> bool:
        return self.driver.is_permanent_connect_error(error)

    def _connect_error(self, error: BaseException) -> exc.OperationalError:
        """The error a failed connect raises: the server's message, where, and the fix."""
        where = f"MySQL at {self.params.get('host')}:{self.params.get('port')}"
        message = str(self.driver.map_error(error))
        code = _errno(error)
        hint = _PERMANENT_CONNECT_ERRORS.get(code) if code is not None else None
        if unresolvable_host(error):
            hint = "the host name does not resolve; check the host in the database settings"
        elif hint is None and isinstance(error.__cause__, OSError):
            # "Can't connect to MySQL server on ..." says nothing of why.
            hint = str(error.__cause__) or repr(error.__cause__)
        return exc.OperationalError(f"{message} ({where})" + (f"; {hint}" if hint else ""))

    async def is_valid(self, conn: aiomysql.Connection) -> bool:
        return not self.driver.is_broken(conn)

    def is_valid_nowait(self, conn: aiomysql.Connection) -> bool:
        return not self.driver.is_broken(conn)

    def needs_reset(self, conn: aiomysql.Connection) -> bool:
        # Sessions changed by raw SQL are marked dirty by the pool; the ORM's
        # statements leave nothing behind but, at worst, an open transaction.
        return bool(conn.get_transaction_status())

    async def reset(self, conn: aiomysql.Connection) -> None:
        await reset_session(conn)

    async def close(self, conn: aiomysql.Connection) -> None:
        conn.close()


def _with_ssl_context(options: dict[str, Any]) -> dict[str, Any]:
    """Turn the URL's ``ssl*`` options into the ``ssl`` context aiomysql takes.

    ``?ssl=true`` verifies the server against the system's certificates,
    ``?ssl_ca=/ca.pem`` against that file; ``ssl_cert``/``ssl_key`` add a
    client certificate; ``?ssl_check_hostname=false`` skips the host name
    check (the certificate is still verified).
    """
    wanted = options.pop("ssl", None)
    ca, cert, key = (options.pop(name, None) for name in ("ssl_ca", "ssl_cert", "ssl_key"))
    check_hostname = options.pop("ssl_check_hostname", None)
    if wanted is False or not (wanted or ca or cert or key or check_hostname is not None):
        return options
    if key is not None and cert is None:
        raise exc.ImproperlyConfigured(
            "URL option ?ssl_key: a client key needs its certificate; add ?ssl_cert=..."
        )
    try:
        context = ssl.create_default_context(cafile=ca)
        if cert is not None:
            context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:  # a missing or unreadable file
        raise exc.ImproperlyConfigured(
            f"URL options ssl_ca/ssl_cert/ssl_key: cannot load {error}; check the paths"
        ) from error
    if check_hostname is not None:
        context.check_hostname = check_hostname
    return {**options, "ssl": context}


class MySQLDriver(Driver):
    """Driver calls for aiomysql."""

    vendor: ClassVar[str] = "mysql"
    driver_errors: ClassVar[tuple[type[BaseException], ...]] = (
        pymysql.err.Error,
        OSError,
        asyncio.IncompleteReadError,
        UnicodeEncodeError,  # a parameter PyMySQL cannot encode (a lone surrogate)
    )

    def connection_manager(self) -> MySQLConnectionManager:
        url = self.settings.parsed
        params: dict[str, Any] = {
            "host": url.host or "localhost",
            "port": url.port or 3306,
            "user": url.user,
            "password": url.password or "",
            "db": url.database,
            "charset": "utf8mb4",
            "autocommit": True,
            "connect_timeout": self.settings.pool.connect_timeout,
            "init_command": f"SET time_zone = '+00:00', sql_mode = '{SQL_MODE}'",
            # Report rows matched by an UPDATE, not rows changed, as the other
            # backends do: save() and update() count on it.
            "client_flag": CLIENT.FOUND_ROWS,
            "conv": DECODERS,
        }
        params.update(_with_ssl_context(url_options.parse(url.query)))
        params.update(self.settings.options)
        return MySQLConnectionManager(params, self)

    def dialect(self) -> Dialect:
        return aiomysql_dialect(paramstyle="format")

    def native_sql(self, sql: str) -> str:
        # PyMySQL interpolates %s itself (and turns %% into %) because we always
        # pass a tuple of parameters, even an empty one. Any other % would make
        # that interpolation raise a bare TypeError or ValueError: refuse it here.
        placeholder_count(sql)
        return sql

    async def fetch_rows(self, raw: Any, sql: str, params: Sequence[Any]) -> list[Any]:
        cursor = _Cursor(raw)
        await cursor.execute(sql, tuple(params))
        return cursor._rows or []

    async def fetch_described(
        self, raw: Any, sql: str, params: Sequence[Any]
    ) -> tuple[Sequence[str], list[Any]]:
        cursor = _Cursor(raw)
        await cursor.execute(sql, tuple(params))
        names = tuple(d[0] for d in cursor.description or ())
        return names, list(cursor._rows or [])

    async def fetch_one_described(
        self, raw: Any, sql: str, params: Sequence[Any]
    ) -> tuple[Sequence[str], Any | None]:
        cursor = _Cursor(raw)
        await cursor.execute(sql, tuple(params))
        rows = cursor._rows
        names = tuple(d[0] for d in cursor.description or ())
        return names, rows[0] if rows else None

    async def execute(self, raw: Any, sql: str, params: Sequence[Any]) -> ExecuteResult:
        cursor = _Cursor(raw)
        await cursor.execute(sql, tuple(params))
        return ExecuteResult(cursor.rowcount, cursor.lastrowid or None)

    async def executemany(self, raw: Any, sql: str, seq: Sequence[Sequence[Any]]) -> int:
        if not seq:
            return 0
        cursor = _Cursor(raw)
        # aiomysql folds INSERT ... VALUES (...) into one multi-row statement.
        rowcount: int = await cursor.executemany(sql, [tuple(p) for p in seq])
        return rowcount

    async def open_stream(
        self, raw: Any, sql: str, params: Sequence[Any], chunk_size: int, *, shared: bool, slot: int
    ) -> RowStream:
        return await streams.open_stream(raw, sql, params, chunk_size)

    async def server_version(self, raw: Any) -> str:
        version = str(raw.get_server_info())
        # MariaDB announces itself as "5.5.5-10.11.6-MariaDB" for old clients' sake.
        return version.removeprefix("5.5.5-")

    def is_broken(self, raw: Any) -> bool:
        if raw.closed:
            return True
        # The server closing the socket (KILL, restart, wait_timeout) feeds EOF
        # to the stream reader even while nobody reads: a check without I/O.
        reader = raw._reader
        return reader is None or bool(getattr(reader, "_eof", False))

    def is_permanent_connect_error(self, error: BaseException) -> bool:
        for e in causes(error):
            code = _errno(e)
            if code is not None and code in _PERMANENT_CONNECT_ERRORS:
                return True
        return super().is_permanent_connect_error(error)

    def is_fatal(self, error: BaseException) -> bool:
        if isinstance(error, pymysql.err.Error):
            code = error.args[0] if error.args and isinstance(error.args[0], int) else None
            return code in _FATAL_ERRNOS or isinstance(error, pymysql.err.InterfaceError)
        return isinstance(error, (OSError, asyncio.IncompleteReadError))

    def map_error(self, error: BaseException) -> exc.DatabaseError:
        if isinstance(error, pymysql.err.Error):
            code = error.args[0] if error.args and isinstance(error.args[0], int) else None
            message = str(error.args[1]) if len(error.args) > 1 else str(error)
            text = f"({code}) {message}" if code is not None else message
            if code is not None and code in _ERRNO_CLASSES:
                return _ERRNO_CLASSES[code](text)
            if message.endswith("can not be used with MySQL"):
                # PyMySQL refuses NaN and infinity before sending: a data problem.
                return exc.DataError(text)
            for driver_cls, ours in (
                (pymysql.err.IntegrityError, exc.IntegrityError),
                (pymysql.err.DataError, exc.DataError),
                (pymysql.err.ProgrammingError, exc.ProgrammingError),
                (pymysql.err.NotSupportedError, exc.NotSupportedError),
                (pymysql.err.OperationalError, exc.OperationalError),
                (pymysql.err.InternalError, exc.InternalError),
                (pymysql.err.InterfaceError, exc.InterfaceError),
            ):
                if isinstance(error, driver_cls):
                    return ours(text)
            return exc.DatabaseError(text)
        if isinstance(error, UnicodeEncodeError):
            return exc.DataError(f"a parameter cannot be sent as UTF-8: {error}")
        if isinstance(error, (OSError, asyncio.IncompleteReadError)):
            return exc.OperationalError(f"MySQL connection lost: {error!r}")
        return exc.DatabaseError(str(error))


def _errno(error: BaseException) -> int | None:
    """The MySQL error number of a PyMySQL error, or None."""
    if isinstance(error, pymysql.err.Error) and error.args and isinstance(error.args[0], int):
        return error.args[0]
    return None
