"""Task-bound connections and transactions: ``connection()``, ``atomic()``, ``transaction()``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from reinhardt_db.backends._running import StatementRunner
from reinhardt_db.backends.atomic import Atomic
from reinhardt_db.backends.state import Binding, ConnectionState, bindings

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
        """The state statements of this task use; None: borrow a pooled connection."""
        return self.bound_connection()

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
        binding = Binding(state)
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

    def atomic(
        self,
        *,
        savepoint: bool = True,
        durable: bool = False,
        isolation: str | None = None,
        read_only: bool = False,
    ) -> Atomic:
        """An atomic block on this database (``reinhardt_db.transaction.atomic``'s engine).

        The outermost block BEGINs on the task's connection and COMMITs when it
        ends (ROLLBACK on an exception); nested blocks are savepoints.
        ``async with db.atomic() as state`` gives the task's ``ConnectionState``.
        """
        return Atomic(
            self, savepoint=savepoint, durable=durable, isolation=isolation, read_only=read_only
        )

    def transaction(self, *, isolation: str | None = None, read_only: bool = False) -> Atomic:
        """Run the block in a transaction of its own: ``atomic(durable=True)``.

        Inside another block it raises ``TransactionManagementError``; nest
        ``transaction.atomic()`` (savepoints) instead.
        """
        return Atomic(self, durable=True, isolation=isolation, read_only=read_only)
