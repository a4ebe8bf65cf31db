"""Task-bound connections and transactions: ``db.connection()`` and ``db.transaction()``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from reinhardt_db import exceptions as exc
from reinhardt_db.backends._running import StatementRunner
from reinhardt_db.backends.base.driver import check_isolation
from reinhardt_db.backends.state import (
    Binding,
    ConnectionState,
    bindings,
    ended_transaction_error,
    transaction_ended,
)

__all__ = ["TaskBinding"]


class TaskBinding(StatementRunner):
    """The binding part of ``Database``: one connection per task and block."""

    def bound_connection(self) -> ConnectionState | None:
        """Return the connection state bound to the current task for this alias, if any.

        A binding whose block has ended counts as none.
        """
        bound_map = bindings.get()
        binding = None if bound_map is None else bound_map.get(self.alias)
        if binding is None or not binding.open:
            return None
        return binding.state

    def _task_state(self) -> ConnectionState | None:
        """The state statements of this task use; None: borrow a pooled connection.

        Raise ``TransactionManagementError`` for a task that outlived the
        transaction it was started in.
        """
        bound_map = bindings.get()
        binding = None if bound_map is None else bound_map.get(self.alias)
        if binding is None:
            return None
        if binding.open:
            return binding.state
        if binding.transaction:
            raise ended_transaction_error(self.alias)
        return None

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[ConnectionState]:
        """Bind one pooled connection to the current task for the block.

        Every statement this task (and tasks it spawns) runs on this database
        inside the block uses that connection, one at a time. Nested blocks
        reuse it. A spawned task still running when the block ends borrows
        pooled connections of its own from then on.
        """
        bound_map = bindings.get()
        existing = None if bound_map is None else bound_map.get(self.alias)
        if existing is not None and existing.open:
            state = existing.state
            state.depth += 1
            try:
                yield state
            finally:
                state.depth -= 1
            return
        pool = self.pool
        conn = await self._acquire(pool)
        state = ConnectionState(self.alias, pool, conn)
        binding = Binding(state, transaction=False)
        token = bindings.set({**(bound_map or {}), self.alias: binding})
        try:
            yield state
        except BaseException:
            if state.in_transaction:
                state.discard()
            raise
        finally:
            binding.open = False
            bindings.reset(token)
            await self._release_state(state)

    async def _release_state(self, state: ConnectionState) -> None:
        """Give a block's connection back, with nothing of the block left on it."""
        try:
            if state.busy:
                # A task spawned in the block is mid-statement: what the
                # connection will be when it finishes is anybody's guess.
                state.discard()
            elif state.streams and not state.invalid:
                await self._end_streams(state)
        finally:
            state.released = True
            if not state.pool.release_nowait(state.conn):
                await state.pool.release(state.conn)

    async def _end_streams(self, state: ConnectionState) -> None:
        """Close every stream still open on a block's connection as the block ends."""
        entries, state.streams = state.streams, []
        for entry in entries:
            entry.ended = "connection()"
        try:
            for entry in entries:
                stream = entry.stream
                if stream.finished:
                    continue
                if stream.holds_connection:
                    # Reading the rest only to drop it costs more than a new connection.
                    state.discard()
                    return
                await stream.close()
        except Exception:
            # The block's work is done; a connection that cannot close its
            # cursor is not worth keeping, nor worth an error.
            state.discard()
        except BaseException:
            state.discard()
            raise

    @contextlib.asynccontextmanager
    async def transaction(
        self, *, isolation: str | None = None, read_only: bool = False
    ) -> AsyncIterator[ConnectionState]:
        """Run the block in a transaction on the task's connection: BEGIN ... COMMIT.

        An exception rolls back and propagates. Nested transactions (savepoints)
        come from ``reinhardt_db.transaction.atomic()``. A task spawned inside
        the block that runs a statement after it ended gets
        ``TransactionManagementError``.
        """
        check_isolation(isolation)
        async with self.connection() as state:
            if state.in_transaction:
                raise exc.TransactionManagementError(
                    f"database {self.alias!r} already has a transaction open on this task; "
                    "nest with transaction.atomic() (savepoints) instead"
                )

            async def begin(raw: Any) -> None:
                await self.driver.begin(raw, isolation, read_only)

            await self._on_state(state, begin)
            state.in_transaction = True
            binding = Binding(state, transaction=True)
            token = bindings.set({**(bindings.get() or {}), self.alias: binding})
            try:
                yield state
            except BaseException:
                binding.open = False
                state.in_transaction = False
                if not state.invalid and not self.driver.is_broken(state.conn.trusted_raw):
                    try:
                        await self._on_state(state, self.driver.rollback)
                    except BaseException:
                        # The error that started the rollback is the one to report.
                        state.discard()
                _end_transaction_streams(state)
                transaction_ended(state, committed=False)
                raise
            finally:
                binding.open = False
                bindings.reset(token)
            state.in_transaction = False
            try:
                await self._on_state(state, self.driver.commit)
            finally:
                # Even a failed COMMIT may have made the writes visible.
                transaction_ended(state, committed=True)
            _end_transaction_streams(state)


def _end_transaction_streams(state: ConnectionState) -> None:
    """Forget the streams the server closed with the transaction."""
    if state.streams:
        for entry in state.streams:
            if entry.stream.ends_with_transaction:
                entry.ended = "transaction()"
        state.streams = [entry for entry in state.streams if entry.ended is None]
