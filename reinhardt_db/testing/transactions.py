"""What the ``db`` and ``transactional_db`` fixtures do around each test.

``db``: :class:`TestTransaction` opens a transaction on every database alias
(an outermost ``atomic()`` block on one connection each) and rolls it back
when the test ends. Inside the test every ORM statement of the test's task, and
of the tasks it starts, runs on that connection: ``atomic()`` blocks become
savepoints, ``on_commit`` callbacks join the test transaction and are dropped
with it (:func:`capture_on_commit_callbacks` runs them). While it is open, the
databases refuse to hand out any other connection, so a statement that runs
where the test's connection is not bound (another event loop, a thread, a task
started before the test) raises ``TransactionManagementError`` instead of
committing for good.

``transactional_db``: nothing wraps the test; :func:`flush_databases` empties
every table afterwards (ids start again at 1).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from contextvars import Token
from typing import Any

from reinhardt_db.backends import connections
from reinhardt_db.backends.atomic import Atomic, OnCommit, run_callbacks
from reinhardt_db.backends.state import Binding, bindings
from reinhardt_db.exceptions import TransactionManagementError

__all__ = ["TestTransaction", "capture_on_commit_callbacks", "flush_databases"]


class _TestEnded(Exception):
    """Left the test transaction: roll it back (never raised)."""


class TestTransaction:
    """The ``db`` fixture's transactions: one per test database, begun, bound, rolled back.

    ``shared`` maps each alias to the first alias naming the same test
    database; such aliases share that one's connection and transaction (as
    Django's test mirrors do), so a write through one is read through the other.
    """

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, shared: dict[str, str]) -> None:
        self.shared = dict(shared)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._open: list[Atomic] = []
        self._bindings: dict[str, Binding] = {}
        self._mirrors: Token[dict[str, Binding] | None] | None = None
        self._databases = {alias: connections[alias] for alias in self.shared}

    async def begin(self) -> None:
        """BEGIN on every test database, bind the connections here, refuse any other."""
        self.loop = asyncio.get_running_loop()
        try:
            for alias in dict.fromkeys(self.shared.values()):
                block = self._databases[alias].atomic()
                await block.__aenter__()
                self._open.append(block)
                self._bindings[alias] = (bindings.get() or {})[alias]
            mirrors = {
                alias: self._bindings[first]
                for alias, first in self.shared.items() if alias != first
            }
            if mirrors:
                self._mirrors = bindings.set({**(bindings.get() or {}), **mirrors})
                self._bindings.update(mirrors)
        except BaseException:
            await self.rollback()
            raise
        for alias, db in self._databases.items():
            db.refuse_connections(_outside_error(alias))

    async def rollback(self) -> None:
        """Roll every transaction back and give the connections back to their pools.

        Runs in the context :meth:`begin` ran in (the fixture's).
        """
        for db in self._databases.values():
            db.refuse_connections(None)
        if self._mirrors is not None:
            bindings.reset(self._mirrors)
            self._mirrors = None
        opened, self._open = self._open, []
        for block in reversed(opened):
            # Leaving with an error rolls back, and reports nothing of its own:
            # whatever went wrong inside, the test has already said so.
            await block.__aexit__(_TestEnded, _TestEnded(), None)

    def bind(self) -> Token[dict[str, Binding] | None] | None:
        """Bind the test connections to the running task; return the token to reset, if any.

        For the test's own task, whatever runner made it (the fixture's context
        may or may not have reached it). Raise ``TransactionManagementError``
        when the test runs on another event loop than the fixture did.
        """
        if asyncio.get_running_loop() is not self.loop:
            raise TransactionManagementError(
                "the db fixture began its test transaction on another event loop than the "
                "one this test runs on, and a connection belongs to its loop: give the "
                "fixtures and the tests the same pytest-asyncio loop scope "
                "(asyncio_default_fixture_loop_scope and the test's loop_scope), or use "
                "transactional_db"
            )
        current = bindings.get() or {}
        if all(current.get(alias) is binding for alias, binding in self._bindings.items()):
            return None
        return bindings.set({**current, **self._bindings})

    def unbind(self) -> Token[dict[str, Binding] | None]:
        """Hide the test connections from the running context (a sync test); return the token.

        A sync test reaches the database only through a loop of its own
        (``asyncio.run``), where the test's connection cannot be used: its
        statements then meet the refusal and its clear error.
        """
        current = bindings.get() or {}
        return bindings.set({k: v for k, v in current.items() if k not in self._bindings})


def _outside_error(alias: str) -> str:
    return (
        f"database {alias!r} is in the db fixture's test transaction, and this statement "
        "would run outside it, on a connection of its own, where its writes would commit "
        "and outlive the test. It runs where the test's connection is not bound: another "
        "event loop (asyncio.run, a sync test, a server thread such as Starlette's "
        "TestClient), a thread, or a task started before the test; durable blocks "
        "(atomic(durable=True), db.transaction()) and migrate need connections of their "
        "own too. Run the code in the test's task (await it, or start its tasks from the "
        "test), or use the transactional_db fixture, which commits for real and empties "
        "the tables afterwards"
    )


async def flush_databases(aliases: Iterable[str]) -> None:
    """Empty every table of each alias's database but the migration records; reset ids."""
    from reinhardt_db.backends.base.introspection import introspect
    from reinhardt_db.migrations.recorder import TABLE

    for alias in aliases:
        db = connections[alias]
        tables = [name for name in await introspect(db).table_names() if name != TABLE]
        await db.creation().flush(tables)


@contextlib.asynccontextmanager
async def capture_on_commit_callbacks(
    *, using: str | None = None, execute: bool = False
) -> AsyncIterator[list[OnCommit]]:
    """Collect the ``on_commit`` callbacks registered inside the block; run them with ``execute``.

    In a ``db`` test nothing commits, so callbacks never run on their own (they
    are dropped with the test transaction)::

        async def test_sign_up_sends_mail(db):
            async with capture_on_commit_callbacks(execute=True) as callbacks:
                await sign_up("ann")          # transaction.on_commit(send_welcome_mail)
            assert len(callbacks) == 1

    With ``execute=True`` they run when the block ends, in order (sync or
    async), as do those they register in turn. A callback registered in a
    savepoint that rolled back is not collected: it would never have run.
    """
    alias = using or "default"
    state = connections[alias].bound_connection()
    if state is None or not state.atomic_blocks:
        raise TransactionManagementError(
            f"capture_on_commit_callbacks() needs a transaction on database {alias!r} "
            "(the db fixture's, or an atomic() block); outside one on_commit() runs "
            "callbacks at once"
        )
    transaction = state.atomic_blocks[0].transaction
    known: list[Any] = list(transaction.callbacks)
    callbacks: list[OnCommit] = []
    yield callbacks
    while True:
        new = [entry for entry in transaction.callbacks if not _among(entry, known)]
        if not new:
            return
        known.extend(new)
        callbacks.extend(fn for _, fn, _ in new)
        if not execute:
            return
        await run_callbacks(new)


def _among(entry: object, entries: list[Any]) -> bool:
    return any(entry is known for known in entries)
