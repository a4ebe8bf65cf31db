"""Two-phase commit across databases: ``two_phase(*aliases)`` and in-doubt recovery.

Each database runs its part as the outermost atomic block of the task on it
(``BEGIN`` on PostgreSQL, ``XA START`` on MySQL/MariaDB). When the body ends
without an error every part is prepared (``PREPARE TRANSACTION`` / ``XA END`` +
``XA PREPARE``), which the server keeps through a crash; only when all are
prepared is each committed (``COMMIT PREPARED`` / ``XA COMMIT``). If the body
or any prepare fails, every part rolls back, the prepared ones with
``ROLLBACK PREPARED`` / ``XA ROLLBACK``. A part left prepared (the process died
between the two phases, or a commit failed) is listed by
``recover_prepared(alias)`` and finished with ``commit_prepared`` or
``rollback_prepared``.
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Any

from reinhardt_db import exceptions as exc
from reinhardt_db.backends import Database, connections
from reinhardt_db.backends.atomic import Atomic as _Engine
from reinhardt_db.backends.atomic import Transaction, TransactionState, run_control

__all__ = ["TwoPhase", "commit_prepared", "recover_prepared", "rollback_prepared", "two_phase"]

#: The prefix of the global ids this package makes.
XID_PREFIX = "rdb2pc_"


def _branch(db: Database) -> str:
    """This database's name: tells its part of a global transaction from the others'."""
    return db.settings.parsed.database or db.alias


def _require_two_phase(db: Database) -> None:
    if not db.features.supports_two_phase_commit:
        raise db.ops._no_two_phase()


class _Part:
    """One database's part of a two-phase transaction."""

    __slots__ = ("db", "engine", "prepared", "state")

    def __init__(self, db: Database, engine: _Engine) -> None:
        self.db = db
        self.engine = engine
        self.prepared = False
        self.state: Any = None

    @property
    def transaction(self) -> Transaction:
        return self.state.atomic_blocks[0].transaction


class TwoPhase:
    """``async with transaction.two_phase("orders", "billing") as tpc:`` (``tpc.xid``)."""

    def __init__(self, *aliases: str, xid: str | None = None) -> None:
        if not aliases:
            raise TypeError("two_phase() needs the aliases of the databases taking part")
        if len(set(aliases)) != len(aliases):
            raise exc.TransactionManagementError(
                f"two_phase{aliases!r} names a database twice; name each alias once"
            )
        self.aliases = aliases
        self.xid = xid or f"{XID_PREFIX}{uuid.uuid4().hex}"
        self._parts: list[_Part] = []

    def __repr__(self) -> str:
        return f"<TwoPhase {self.xid} {', '.join(self.aliases)}>"

    async def __aenter__(self) -> TwoPhase:
        if self._parts:
            raise exc.TransactionManagementError("this two_phase() block is already open")
        dbs = [connections[alias] for alias in self.aliases]
        for db in dbs:
            _require_two_phase(db)
        parts: list[_Part] = []
        try:
            for db in dbs:
                engine = db.atomic(durable=True)
                engine._two_phase = (self.xid, _branch(db))
                part = _Part(db, engine)
                part.state = await engine.__aenter__()
                parts.append(part)
        except BaseException as error:
            await self._exit_parts(parts, error)
            raise
        self._parts = parts
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        parts, self._parts = self._parts, []
        if exc_value is not None or any(
            block.needs_rollback for part in parts for block in part.state.atomic_blocks
        ):
            await self._exit_parts(parts, exc_value)
            return
        try:
            await self._prepare_all(parts)
        except BaseException as error:
            await self._rollback_prepared(parts)
            await self._exit_parts(parts, error)
            raise
        failures = await self._commit_all(parts)
        await self._exit_parts(parts, None)
        if failures:
            names = ", ".join(f"{alias!r} ({error})" for alias, error in failures)
            raise exc.TransactionManagementError(
                f"two-phase transaction {self.xid!r} was prepared everywhere but could not be "
                f"committed on {names}; it stays prepared there: finish it with "
                f"transaction.commit_prepared({self.xid!r}, using=...) once the database "
                "answers (transaction.recover_prepared(using) lists such transactions)"
            ) from failures[0][1]

    async def _prepare_all(self, parts: list[_Part]) -> None:
        """First phase: prepare every part, in order; the first failure stops it."""
        for part in parts:
            db = part.db
            await run_control(db, part.state, db.ops.tpc_prepare_sql(self.xid, _branch(db)))
            part.prepared = True

    async def _commit_all(self, parts: list[_Part]) -> list[tuple[str, BaseException]]:
        """Second phase: commit every prepared part; return the parts that failed."""
        failures: list[tuple[str, BaseException]] = []
        for part in parts:
            db = part.db
            transaction = part.transaction
            transaction.finished = True
            try:
                await run_control(
                    db, part.state, db.ops.tpc_commit_prepared_sql(self.xid, _branch(db))
                )
            except Exception as error:
                failures.append((db.alias, error))
                continue
            transaction.state = TransactionState.COMMITTED
        return failures

    async def _rollback_prepared(self, parts: list[_Part]) -> None:
        """Roll back the parts already prepared when a later prepare failed."""
        for part in parts:
            if not part.prepared:
                continue
            db = part.db
            transaction = part.transaction
            transaction.finished = True
            transaction.state = TransactionState.ROLLED_BACK
            transaction.callbacks.clear()
            try:
                await run_control(
                    db, part.state, db.ops.tpc_rollback_prepared_sql(self.xid, _branch(db))
                )
            except Exception:
                # Its connection is unusable; another session can roll it back.
                try:
                    await db.execute_native(
                        db.ops.tpc_rollback_prepared_sql(self.xid, _branch(db))[0]
                    )
                except Exception:
                    pass  # left prepared: recover_prepared() lists it

    async def _exit_parts(self, parts: list[_Part], error: BaseException | None) -> None:
        """Leave every part's block (last first): roll back what is not finished, release."""
        first: BaseException | None = None
        for part in reversed(parts):
            try:
                if error is None:
                    await part.engine.__aexit__(None, None, None)
                else:
                    await part.engine.__aexit__(type(error), error, error.__traceback__)
            except BaseException as exit_error:
                first = first or exit_error
        if first is not None and error is None:
            raise first


def two_phase(*aliases: str, xid: str | None = None) -> TwoPhase:
    """Run the block as one transaction across several databases (two-phase commit).

    ::

        async with transaction.two_phase("orders", "billing"):
            await Order.objects.using("orders").create(...)
            await Invoice.objects.using("billing").create(...)

    Each database's statements in the block run in its part of the
    transaction; all parts commit or none do. ``xid`` names the transaction
    (default: a new unique id, ``tpc.xid``). PostgreSQL needs
    ``max_prepared_transactions`` above 0; SQLite raises ``NotSupportedError``.
    """
    return TwoPhase(*aliases, xid=xid)


async def recover_prepared(using: str | None = None) -> list[str]:
    """List the ids of the transactions left prepared (in doubt) on database ``using``.

    Finish each with ``commit_prepared(xid, using)`` or ``rollback_prepared(xid,
    using)``; the ids are the ``xid`` of the ``two_phase()`` block that
    prepared them.
    """
    db = connections[using or "default"]
    _require_two_phase(db)
    rows = await db.fetch_rows(db.ops.tpc_recover_sql())
    return db.ops.tpc_recovered_xids(rows, _branch(db))


async def _finish_prepared(xid: str, using: str | None, statements_of: str) -> None:
    db = connections[using or "default"]
    _require_two_phase(db)
    state = db.bound_connection()
    if state is not None and state.atomic_blocks:
        raise exc.TransactionManagementError(
            f"{statements_of}() cannot run inside an atomic() block on database "
            f"{db.alias!r}; call it outside the block"
        )
    ops = db.ops
    make = ops.tpc_commit_prepared_sql if statements_of == "commit_prepared" else (
        ops.tpc_rollback_prepared_sql
    )
    for sql in make(xid, _branch(db)):
        await db.execute_native(sql)


async def commit_prepared(xid: str, using: str | None = None) -> None:
    """Commit the prepared transaction ``xid`` on database ``using`` (from any process)."""
    await _finish_prepared(xid, using, "commit_prepared")


async def rollback_prepared(xid: str, using: str | None = None) -> None:
    """Roll back the prepared transaction ``xid`` on database ``using`` (from any process)."""
    await _finish_prepared(xid, using, "rollback_prepared")
