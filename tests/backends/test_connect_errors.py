"""Connect errors on the real servers.

Permanent ones (wrong credentials, unknown database or role, a host name that
does not resolve, a SQLite path whose directory is missing) surface at once as
``OperationalError`` with the server's message; transient ones (a refused port)
are retried with back-off until ``acquire_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pymysql
import pytest

import reinhardt_db
from reinhardt_db import exceptions as exc
from reinhardt_db.backends import Database, connections
from reinhardt_db.conf import parse_database_url, reset_settings

PASSWORD = "s3cret-Pa55word"
NO_SUCH_HOST = "db.reinhardt.invalid"  # .invalid never resolves (RFC 2606)


@contextlib.asynccontextmanager
async def configured(url: str, **pool: Any) -> AsyncIterator[Database]:
    reinhardt_db.configure(databases={"default": {"url": url, "pool": pool}})
    try:
        yield connections["default"]
    finally:
        await reinhardt_db.close_all()
        reset_settings()


def changed(url: str, **parts: Any) -> str:
    return dataclasses.replace(parse_database_url(url), **parts).render(hide_password=False)


async def fails_at_once(url: str, caplog: pytest.LogCaptureFixture) -> exc.OperationalError:
    """Connect with the default 30 s acquire_timeout; the error must come well before."""
    with caplog.at_level(logging.DEBUG, logger="reinhardt_db.pool"):
        async with configured(url) as db:
            assert db.settings.pool.acquire_timeout == 30.0
            async with asyncio.timeout(2):  # a bound on retrying, not a speed target
                with pytest.raises(exc.OperationalError) as info:
                    await db.fetch_val("SELECT 1")
            assert db.pool.stats().connect_errors == 1  # one attempt, no retries
    error = info.value
    assert not isinstance(error, exc.PoolTimeout)
    assert error.__cause__ is not None or "SQLite" in str(error)
    seen = [str(error), repr(error), repr(error.__cause__), caplog.text]
    assert not any(PASSWORD in text for text in seen)
    return error


@pytest.mark.backends("postgresql")
async def test_postgresql_unknown_database(backend_url: str, caplog: pytest.LogCaptureFixture) -> None:
    error = await fails_at_once(changed(backend_url, database="reinhardt_no_such_db"), caplog)
    assert 'database "reinhardt_no_such_db" does not exist' in str(error)
    assert "create the database" in str(error)
    assert isinstance(error.__cause__, asyncpg.InvalidCatalogNameError)


@pytest.mark.backends("postgresql")
async def test_postgresql_unknown_role(backend_url: str, caplog: pytest.LogCaptureFixture) -> None:
    url = changed(backend_url, user="reinhardt_no_such_role", password=PASSWORD)
    error = await fails_at_once(url, caplog)
    assert "reinhardt_no_such_role" in str(error)
    assert isinstance(error.__cause__, asyncpg.PostgresError)
    assert error.__cause__.sqlstate.startswith("28")  # invalid authorization


@pytest.mark.backends("mysql")
async def test_mariadb_access_denied(backend_url: str, caplog: pytest.LogCaptureFixture) -> None:
    url = changed(backend_url, user="reinhardt_no_such_user", password=PASSWORD)
    error = await fails_at_once(url, caplog)
    assert "Access denied for user 'reinhardt_no_such_user'" in str(error)
    assert "check the user name and password" in str(error)
    assert isinstance(error.__cause__, pymysql.err.OperationalError)
    assert error.__cause__.args[0] in (1045, 1698)


@pytest.mark.backends("mysql")
async def test_mariadb_unknown_database(backend_url: str, caplog: pytest.LogCaptureFixture) -> None:
    error = await fails_at_once(changed(backend_url, database="reinhardt_no_such_db"), caplog)
    assert "Unknown database 'reinhardt_no_such_db'" in str(error)
    assert "create the database" in str(error)


@pytest.mark.backends("postgresql", "mysql")
async def test_unresolvable_host_name(backend_url: str, caplog: pytest.LogCaptureFixture) -> None:
    try:
        socket.getaddrinfo(NO_SUCH_HOST, 5432)
    except socket.gaierror as error:
        if error.errno == socket.EAI_AGAIN:
            pytest.skip(f"no name server answers here ({error}): EAI_AGAIN is transient by design")
    error = await fails_at_once(changed(backend_url, host=NO_SUCH_HOST), caplog)
    assert NO_SUCH_HOST in str(error) and "does not resolve" in str(error)


@pytest.mark.backends("postgresql", "mysql")
async def test_refused_port_is_retried_with_back_off(
    backend_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = changed(backend_url, host="127.0.0.1", port=1)  # nothing listens on port 1
    with caplog.at_level(logging.DEBUG, logger="reinhardt_db.pool"):
        async with configured(url, acquire_timeout=1.5) as db:
            async with asyncio.timeout(10):
                with pytest.raises(exc.DatabaseUnavailable) as info:
                    await db.fetch_val("SELECT 1")
            assert db.pool.stats().connect_errors >= 2  # the first retry comes within 1 s
    assert "could not be reached within acquire_timeout=1.5s" in str(info.value)
    failures = [
        r for r in caplog.records if r.name == "reinhardt_db.pool" and "connect failed" in r.getMessage()
    ]
    assert [r.levelno for r in failures].count(logging.WARNING) == 1
    assert failures[0].levelno == logging.WARNING and len(failures) >= 2
    assert "retrying with back-off" in failures[0].getMessage()


@pytest.mark.backends("sqlite")
async def test_sqlite_path_in_a_missing_directory(
    backend_name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "no_such_dir" / "app.db"
    error = await fails_at_once(f"sqlite:///{path}", caplog)
    assert str(path) in str(error)
    assert "does not exist" in str(error) and "create the directory" in str(error)
    assert not path.parent.exists()  # nothing was created behind the user's back


@pytest.mark.backends("sqlite")
async def test_sqlite_path_under_a_file(
    backend_name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a_file").write_text("")
    error = await fails_at_once(f"sqlite:///{tmp_path}/a_file/app.db", caplog)
    assert "is not a directory" in str(error)


@pytest.mark.backends("sqlite")
async def test_sqlite_file_that_is_not_a_database(
    backend_name: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"these are not the pages of a database" * 200)
    error = await fails_at_once(f"sqlite:///{path}", caplog)
    assert str(path) in str(error) and "file is not a database" in str(error)


def _manager(url: str) -> Any:
    from reinhardt_db.backends.handler import backend_module
    from reinhardt_db.conf import DatabaseSettings

    settings = DatabaseSettings(url=url)
    return backend_module(settings.parsed.vendor).driver_class(settings).connection_manager()


async def _connect_failing_with(
    monkeypatch: pytest.MonkeyPatch, module: Any, error: BaseException, url: str
) -> tuple[Any, exc.OperationalError]:
    async def connect(**kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(module, "connect", connect)
    manager = _manager(url)
    with pytest.raises(exc.OperationalError) as info:
        await manager.connect()
    assert info.value.__cause__ is error
    return manager, info.value


def _gaierror(code: int, message: str) -> socket.gaierror:
    return socket.gaierror(code, message)


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (asyncpg.exceptions.CannotConnectNowError("the database system is starting up"), False),
        (asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"), False),
        (ConnectionRefusedError(111, "Connect call failed"), False),
        (ConnectionResetError(104, "Connection reset by peer"), False),
        (TimeoutError(), False),
        (_gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), False),
        (_gaierror(socket.EAI_NONAME, "Name or service not known"), True),
        (asyncpg.exceptions.InvalidPasswordError('password authentication failed for user "app"'), True),
        (asyncpg.exceptions.InvalidCatalogNameError('database "app" does not exist'), True),
        (asyncpg.exceptions.InsufficientPrivilegeError('permission denied for database "app"'), True),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
async def test_postgresql_connect_errors_are_classified(
    monkeypatch: pytest.MonkeyPatch, error: BaseException, permanent: bool
) -> None:
    manager, mapped = await _connect_failing_with(
        monkeypatch, asyncpg, error, f"postgresql://app:{PASSWORD}@db.example.com:5432/app"
    )
    assert manager.is_permanent(mapped) is permanent
    assert "db.example.com:5432" in str(mapped) and PASSWORD not in str(mapped)


def _mysql_error(code: int, message: str, cause: BaseException | None = None) -> pymysql.err.Error:
    error = pymysql.err.OperationalError(code, message)
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (_mysql_error(1040, "Too many connections"), False),
        (_mysql_error(2013, "Lost connection to MySQL server during query"), False),
        (_mysql_error(2003, "Can't connect to MySQL server on 'db'", ConnectionRefusedError(111, "refused")), False),
        (_mysql_error(2003, "Can't connect to MySQL server on 'db'", _gaierror(socket.EAI_AGAIN, "Temporary failure")), False),
        (_mysql_error(2003, "Can't connect to MySQL server on 'db'", _gaierror(socket.EAI_NONAME, "Name or service not known")), True),
        (_mysql_error(1045, "Access denied for user 'app'@'10.0.0.1' (using password: YES)"), True),
        (_mysql_error(1044, "Access denied for user 'app'@'%' to database 'app'"), True),
        (_mysql_error(1049, "Unknown database 'app'"), True),
    ],
    ids=lambda value: f"{value.args[0]}" if isinstance(value, pymysql.err.Error) else str(value),
)
async def test_mysql_connect_errors_are_classified(
    monkeypatch: pytest.MonkeyPatch, error: BaseException, permanent: bool
) -> None:
    import aiomysql

    manager, mapped = await _connect_failing_with(
        monkeypatch, aiomysql, error, f"mysql://app:{PASSWORD}@db.example.com:3306/app"
    )
    assert manager.is_permanent(mapped) is permanent
    assert "db.example.com:3306" in str(mapped) and PASSWORD not in str(mapped)


async def test_sqlite_busy_at_connect_is_transient(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Another process holding a lock while the connection is set up: retried."""
    import sqlite3

    from reinhardt_db.backends.sqlite import driver as sqlite_driver

    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorcode = 5  # type: ignore[attr-defined]  # SQLITE_BUSY

    def setup(conn: sqlite3.Connection, on_disk: bool, busy_ms: int = 0) -> None:
        raise busy

    monkeypatch.setattr(sqlite_driver, "_setup", setup)
    manager = _manager(f"sqlite:///{tmp_path}/app.db")
    with pytest.raises(exc.OperationalError) as info:
        await manager.connect()
    assert info.value.__cause__ is busy
    assert manager.is_permanent(info.value) is False


async def test_a_connect_timeout_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    manager, mapped = await _connect_failing_with(
        monkeypatch, asyncpg, TimeoutError(), "postgresql://app@db.example.com:5432/app"
    )
    assert str(mapped) == "cannot reach PostgreSQL at db.example.com:5432 as user 'app': TimeoutError()"
    assert manager.is_permanent(mapped) is False
