"""The migrate lock: one ``migrate`` run per database at a time.

``async with migrate_lock(db):`` waits (bounded) until no other run holds the
lock, and holds it for the block. Read what is applied *inside* the block, so
a run that waited sees what the other one did and applies each migration once.

- PostgreSQL (advisory lock) and MySQL/MariaDB (``GET_LOCK``) hold a session
  lock on a dedicated connection opened for the run, outside the pool; it is
  released and the connection closed before the block ends, so no pooled
  connection ever carries the lock.
- SQLite locks a file beside the database (``<db>.migrate-lock``, an OS lock
  the system drops if the process dies). No write transaction is held across
  the run, so each migration's schema editor can switch foreign keys off.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from reinhardt_db.migrations.exceptions import MigrateLockTimeout

if TYPE_CHECKING:
    from reinhardt_db.backends import Database

__all__ = ["DEFAULT_LOCK_TIMEOUT", "lock_file_path", "migrate_lock"]

#: Seconds a run waits for another one to finish before giving up.
DEFAULT_LOCK_TIMEOUT = 300.0
_POLL = 0.1


@contextlib.asynccontextmanager
async def migrate_lock(
    db: Database,
    *,
    wait: float = DEFAULT_LOCK_TIMEOUT,
    on_wait: Callable[[], None] | None = None,
) -> AsyncIterator[None]:
    """Hold the migrate lock of ``db`` for the block; wait at most ``wait`` seconds for it.

    ``on_wait`` is called once if the lock is taken when asked for. Raise
    ``MigrateLockTimeout`` when the wait runs out.
    """
    statements = db.schema_editor().migrate_lock_sql(db)
    if statements is None:
        lock = _file_lock(db, wait, on_wait)
    else:
        lock = _server_lock(db, statements, wait, on_wait)
    async with lock:
        yield


def _timeout_error(db: Database, timeout: float, holder: str) -> MigrateLockTimeout:
    return MigrateLockTimeout(
        f"another 'reinhardt migrate' run still holds the migrate lock of database "
        f"{db.alias!r} ({holder}) after waiting {timeout:g}s; let it finish (or stop it) "
        "and run migrate again"
    )


@contextlib.asynccontextmanager
async def _server_lock(
    db: Database,
    statements: tuple[str, str, list[Any]],
    wait: float,
    on_wait: Callable[[], None] | None,
) -> AsyncIterator[None]:
    try_sql, unlock_sql, params = statements
    driver = db.driver
    manager = driver.connection_manager()
    raw = await manager.connect()

    async def ask(sql: str) -> Any:
        try:
            row = await driver.fetch_row(raw, driver.native_sql(sql), params)
        except driver.driver_errors as error:
            raise driver.map_error(error) from error
        return None if row is None else row[0]

    try:
        deadline = time.monotonic() + wait
        waited = False
        while not await ask(try_sql):
            if not waited and on_wait is not None:
                on_wait()
            waited = True
            if time.monotonic() >= deadline:
                raise _timeout_error(db, wait, f"{db.vendor} session lock")
            await asyncio.sleep(_POLL)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                await ask(unlock_sql)
    finally:
        # Closing ends the session: nothing it held can outlive the run.
        with contextlib.suppress(Exception):
            await manager.close(raw)


def lock_file_path(db: Database) -> str | None:
    """Return the lock file of an SQLite database, or None for an in-memory one."""
    path = db.settings.parsed.database
    if path == ":memory:" or path.startswith("file::memory:") or "mode=memory" in path:
        return None
    path = path.removeprefix("file:").split("?", 1)[0]
    return f"{os.path.abspath(path)}.migrate-lock"


_memory_locks: dict[tuple[int, str], asyncio.Lock] = {}


@contextlib.asynccontextmanager
async def _file_lock(
    db: Database, wait: float, on_wait: Callable[[], None] | None
) -> AsyncIterator[None]:
    path = lock_file_path(db)
    if path is None:
        # An in-memory database lives in this process: an asyncio lock is enough.
        key = (id(asyncio.get_running_loop()), db.alias)
        lock = _memory_locks.setdefault(key, asyncio.Lock())
        if lock.locked() and on_wait is not None:
            on_wait()
        try:
            await asyncio.wait_for(lock.acquire(), wait)
        except TimeoutError:
            raise _timeout_error(db, wait, "this process") from None
        try:
            yield
        finally:
            lock.release()
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        waited = False
        while not _try_lock_file(fd):
            if not waited and on_wait is not None:
                on_wait()
            waited = True
            if time.monotonic() >= deadline:
                raise _timeout_error(db, wait, f"lock file {path}")
            await asyncio.sleep(_POLL)
        try:
            yield
        finally:
            _unlock_file(fd)
    finally:
        os.close(fd)


def _try_lock_file(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock_file(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    fcntl.flock(fd, fcntl.LOCK_UN)
