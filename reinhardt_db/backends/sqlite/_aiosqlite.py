"""What the SQLite backend relies on inside aiosqlite, and closing connections at exit.

aiosqlite runs each connection on a worker thread of its own. Beyond its public
API the backend uses these attributes of ``aiosqlite.Connection`` (pyproject.toml
pins aiosqlite to the versions ``tests/backends/sqlite/test_aiosqlite_pin.py``
checks, so an upgrade that changes them fails that test by name):

- ``_execute(fn, *args)``: run ``fn(*args)`` on the worker thread in one hop
  (the public cursor API costs two or three hops per statement);
- ``_conn`` (raises once closed) and ``_connection`` (None once closed): the
  ``sqlite3.Connection`` the worker owns;
- ``_running``: False once ``stop()`` or ``close()`` was called;
- ``_thread``: the worker thread, not yet started when ``connect()`` returns;
- ``_tx``: the worker's queue of ``(future or None, function)`` pairs.

Why daemon worker threads and an exit hook: aiosqlite's threads are not
daemons, so a script that never closes its pools (``close_all()``) never exits:
the interpreter waits for those threads forever. As daemons they no longer hold
the process, and the interpreter runs ``atexit`` hooks while daemon threads are
still alive, so :func:`_close_at_exit` closes every connection still open, on
its own thread, after whatever that thread is already doing: sqlite3 rolls back
a transaction that was never committed, and the last connection to a WAL
database checkpoints it and removes the ``-wal``/``-shm`` files. Committed data
is durable whatever happens (it is in the WAL or the database file once COMMIT
returns). A connection still busy with a statement after ``EXIT_GRACE`` seconds
is left behind and the process exits anyway; to SQLite that is a crash, which
its journal is built for: the unfinished transaction is rolled back the next
time the database is opened and the file is never left corrupt.
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref
from functools import partial

import aiosqlite

__all__ = ["EXIT_GRACE", "close_at_exit", "daemonize"]

#: Seconds the exit hook waits, in all, for worker threads to close their connections.
EXIT_GRACE = 2.0

_open: weakref.WeakSet[aiosqlite.Connection] = weakref.WeakSet()
_hook_registered = False


def daemonize(conn: aiosqlite.Connection) -> aiosqlite.Connection:
    """Make the worker thread of ``conn`` a daemon; ``conn`` is not awaited (started) yet."""
    conn._thread.daemon = True
    return conn


def close_at_exit(conn: aiosqlite.Connection) -> None:
    """Close ``conn`` when the interpreter exits, if nobody closed it before."""
    global _hook_registered
    if not _hook_registered:
        atexit.register(_close_at_exit)
        _hook_registered = True
    _open.add(conn)


def _close_at_exit() -> None:
    closed: list[threading.Event] = []
    for conn in list(_open):
        if conn._connection is None or not conn._thread.is_alive():
            continue
        done = threading.Event()
        # No future: the event loop the connection served is usually closed by now.
        conn._tx.put_nowait((None, partial(_close_on_worker, conn, done)))
        closed.append(done)
    deadline = time.monotonic() + EXIT_GRACE
    for done in closed:
        done.wait(max(0.0, deadline - time.monotonic()))


def _close_on_worker(conn: aiosqlite.Connection, done: threading.Event) -> None:
    try:
        raw = conn._connection
        conn._running = False
        conn._connection = None
        if raw is not None:
            raw.close()  # rolls back an open transaction; checkpoints the WAL
    finally:
        done.set()
