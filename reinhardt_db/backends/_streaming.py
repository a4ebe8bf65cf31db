"""Streaming reads: ``db.stream_rows`` (what ``QuerySet.iterator()`` uses).

Outside a block the stream borrows a pooled connection of its own and gives
it back when it ends or is abandoned. On a task's bound connection it shares
the connection with the task's statements (see docs/backends.md, "Streaming"):
each fetch is a statement like any other (busy while it runs), statements may
run between two chunks, and a stream abandoned before its end is closed by the
next statement on that connection, or when the block ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from reinhardt_db import exceptions as exc
from reinhardt_db.backends._binding import TaskBinding
from reinhardt_db.backends._logging import DEBUG, sql_logger
from reinhardt_db.backends.base.streams import RowStream
from reinhardt_db.backends.state import ConnectionState, OpenStream
from reinhardt_db.pool import InvalidConnection, PoolConnection

__all__ = ["Streaming"]


class Streaming(TaskBinding):
    """The streaming part of ``Database``."""

    async def stream_rows(
        self, sql: str, params: Sequence[Any] = (), chunk_size: int = 2000
    ) -> AsyncIterator[list[Any]]:
        """Yield the result of native-paramstyle SQL in chunks of up to ``chunk_size`` rows.

        PostgreSQL and MySQL read through a server-side cursor, so memory stays
        flat however large the result. Close the iterator (``contextlib.aclosing``)
        if you stop early.
        """
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        if sql_logger.isEnabledFor(DEBUG):  # logged when started (its duration is the caller's)
            sql_logger.debug(
                "(stream) %s; params=%r; alias=%s", sql, params, self.alias,
                extra={"duration_ms": 0.0, "sql": sql, "params": params, "alias": self.alias},
            )
        # Looked up when iteration starts: an async generator runs in the
        # context of whoever iterates it.
        state = self._task_state()
        if state is not None:
            entry = await self._open_shared(state, sql, params, chunk_size)
            try:
                while True:
                    chunk = await self._fetch_shared(state, entry)
                    if not chunk:
                        return
                    yield chunk
            finally:
                self._let_go(state, entry)
        pool = self.pool
        conn = await self._acquire(pool)
        raw = conn.trusted_raw
        stream: RowStream | None = None
        in_flight = discarded = False

        def discard() -> None:
            nonlocal discarded
            discarded = True
            conn.invalidate()

        try:
            try:
                in_flight = True
                stream = await self.driver.open_stream(
                    raw, sql, params, chunk_size, shared=False, slot=0
                )
                while True:
                    chunk = await stream.fetch()
                    in_flight = False
                    if not chunk:
                        return
                    yield chunk
                    in_flight = True
            except self._driver_errors as error:
                in_flight = False
                raise self._failed(error, raw, discard) from error
        finally:
            if not discarded and (stream is None or not stream.finished):
                await _abandon_private(conn, stream, in_flight)
            await pool.release(conn)

    async def _open_shared(
        self, state: ConnectionState, sql: str, params: Sequence[Any], chunk_size: int
    ) -> OpenStream:
        used = {entry.slot for entry in state.streams}
        slot = next(n for n in range(len(used) + 1) if n not in used)

        async def open_stream(raw: Any) -> RowStream:
            return await self.driver.open_stream(
                raw, sql, params, chunk_size, shared=True, slot=slot
            )

        stream = await self._on_state(state, open_stream)
        entry = OpenStream(stream, slot)
        state.streams.append(entry)
        return entry

    async def _fetch_shared(self, state: ConnectionState, entry: OpenStream) -> list[Any]:
        if entry.ended is not None:
            raise exc.TransactionManagementError(
                f"this stream on database {self.alias!r} was opened inside a "
                f"{entry.ended} block that has ended, which closed it; read it to the "
                "end inside the block, or open it outside the block"
            )
        chunk = await self._on_state(state, lambda raw: entry.stream.fetch(), keep=entry)
        if entry.stream.finished and entry in state.streams:
            state.streams.remove(entry)
        return chunk

    @staticmethod
    def _let_go(state: ConnectionState, entry: OpenStream) -> None:
        """The reader is done with ``entry``: forget it, or leave it for the next statement.

        No I/O here: this runs wherever the generator is closed, which for an
        abandoned one is a task of the garbage collector's while the block's
        own task may be mid-statement on the connection.
        """
        if entry.stream.finished or entry.ended is not None or state.released:
            if entry in state.streams:
                state.streams.remove(entry)
        else:
            entry.abandoned = True


async def _abandon_private(
    conn: PoolConnection[Any], stream: RowStream | None, in_flight: bool
) -> None:
    """Clean up a stream's own connection after it stopped early, before release."""
    if stream is None and not in_flight:
        return  # opening failed with a database error: handled where it was raised
    if in_flight or stream is None or stream.holds_connection:
        # Cancelled mid-call (protocol state unknown), or rows still on the
        # wire (draining them costs more than a new connection).
        _invalidate(conn)
        return
    try:
        await stream.close()
    except Exception:
        _invalidate(conn)
    except BaseException:
        _invalidate(conn)
        raise


def _invalidate(conn: PoolConnection[Any]) -> None:
    with contextlib.suppress(InvalidConnection):  # already invalidated after an error
        conn.invalidate()
