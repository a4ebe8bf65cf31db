"""aiosqlite's private API, as the SQLite backend uses it (backends/sqlite/_aiosqlite.py).

pyproject.toml pins aiosqlite to the versions these tests were run against. An
upgrade that changes what the backend relies on fails here, by name, instead of
somewhere deep in a query.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import queue
import sqlite3
import threading
import tomllib
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from reinhardt_db.backends.sqlite.driver import SQLiteConnectionManager

VERIFIED = "aiosqlite>=0.22.1,<0.23"
VERSION = importlib.metadata.version("aiosqlite")
CHANGED = (
    f"aiosqlite {VERSION} no longer has the private API reinhardt_db's SQLite backend uses; "
    f"adapt backends/sqlite/_aiosqlite.py and driver.py to it, then widen the pin in "
    f"pyproject.toml and VERIFIED here"
)


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


def test_pyproject_pins_the_verified_range() -> None:
    pyproject = Path(__file__).parents[3] / "pyproject.toml"
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    pins = [d for d in dependencies if d.startswith("aiosqlite")]
    assert pins == [VERIFIED], f"pyproject.toml pins {pins}; this test verified {VERIFIED}"


def test_installed_version_is_in_the_verified_range() -> None:
    assert (0, 22, 1) <= _version_tuple(VERSION) < (0, 23), CHANGED


async def test_private_attributes_have_the_shape_the_backend_expects(tmp_path: Path) -> None:
    conn = aiosqlite.connect(str(tmp_path / "pin.db"), isolation_level=None)
    # Before it is awaited: the worker thread exists but has not started.
    assert isinstance(getattr(conn, "_thread", None), threading.Thread), CHANGED
    assert not conn._thread.is_alive(), CHANGED
    assert isinstance(getattr(conn, "_tx", None), queue.SimpleQueue), CHANGED
    assert getattr(conn, "_running", None) is True, CHANGED
    assert getattr(conn, "_connection", ...) is None, CHANGED
    assert inspect.iscoroutinefunction(getattr(aiosqlite.Connection, "_execute", None)), CHANGED
    assert isinstance(inspect.getattr_static(aiosqlite.Connection, "_conn", None), property), CHANGED

    await conn
    try:
        assert isinstance(conn._connection, sqlite3.Connection), CHANGED
        assert conn._conn is conn._connection, CHANGED
        # _execute(fn, *args) runs fn(*args) on the worker thread and returns its result.
        worker = await conn._execute(threading.get_ident)
        assert worker == conn._thread.ident != threading.get_ident(), CHANGED

        def select(raw: sqlite3.Connection, value: Any) -> Any:
            return raw.execute("SELECT ?", (value,)).fetchone()

        assert await conn._execute(select, conn._conn, 7) == (7,), CHANGED
        # The worker takes (None, function) from _tx: the exit hook relies on it.
        ran = threading.Event()
        conn._tx.put_nowait((None, ran.set))
        assert ran.wait(5), CHANGED
    finally:
        await conn.close()
    assert conn._connection is None and conn._running is False, CHANGED
    conn._thread.join(5)
    assert not conn._thread.is_alive(), CHANGED
    with pytest.raises(ValueError):
        conn._conn  # noqa: B018
    with pytest.raises(ValueError):  # the driver maps this ValueError to "connection lost"
        await conn._execute(threading.get_ident)


async def test_connections_run_on_daemon_threads(tmp_path: Path) -> None:
    manager = SQLiteConnectionManager(str(tmp_path / "daemon.db"), {})
    conn = await manager.connect()
    try:
        assert conn._thread.daemon and conn._thread.is_alive()
    finally:
        await manager.close(conn)
