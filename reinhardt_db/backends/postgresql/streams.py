"""Streaming reads on PostgreSQL: three kinds of server-side cursor.

- On a connection of its own: a cursor in a READ ONLY transaction the stream
  opens and ends (nobody else can write on that connection).
- On a task's connection inside the caller's transaction: a cursor (portal) in
  that transaction, which ends with it. Statements may run between chunks.
- On a task's connection outside a transaction: ``DECLARE ... WITH HOLD``, which
  lives outside transactions, so each statement of the caller still commits on
  its own, as it would without the stream. The server runs the query to the end
  when the cursor is declared and keeps the rows until ``CLOSE``; the client
  still reads them a chunk at a time. The stream closes the cursor at the end,
  or, if abandoned, before the connection's next statement; a session reset
  (``CLOSE ALL``) is the last resort.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reinhardt_db.backends.base.streams import RowStream

__all__ = ["open_stream"]


class _OwnTransactionStream(RowStream):
    """A cursor in a READ ONLY transaction of the stream's own connection."""

    __slots__ = ("_cursor", "_raw", "_size", "_transaction")

    def __init__(self, raw: Any, transaction: Any, cursor: Any, size: int) -> None:
        super().__init__()
        self._raw = raw
        self._transaction = transaction
        self._cursor = cursor
        self._size = size

    async def fetch(self) -> list[Any]:
        if self.finished:
            return []
        rows: list[Any] = await self._cursor.fetch(self._size)
        if len(rows) < self._size:
            await self._transaction.commit()
            self.finished = True
        return rows

    async def close(self) -> None:
        if not self.finished:
            self.finished = True
            # READ ONLY: nothing to keep, and ROLLBACK also drops the cursor.
            await self._transaction.rollback()


class _CallerTransactionStream(RowStream):
    """A cursor inside the caller's transaction; it ends with that transaction."""

    __slots__ = ("_cursor", "_size")

    ends_with_transaction = True

    def __init__(self, cursor: Any, size: int) -> None:
        super().__init__()
        self._cursor = cursor
        self._size = size

    async def fetch(self) -> list[Any]:
        if self.finished:
            return []
        rows: list[Any] = await self._cursor.fetch(self._size)
        if len(rows) < self._size:
            self.finished = True
        return rows

    async def close(self) -> None:
        # The portal is dropped at the end of the transaction; closing it now
        # would cost a round trip for nothing the caller can see.
        self.finished = True


class _HeldCursorStream(RowStream):
    """``DECLARE ... WITH HOLD``: a cursor that outlives the statement's own commit."""

    __slots__ = ("_fetch", "_name", "_raw", "_size")

    def __init__(self, raw: Any, name: str, fetch: Any, size: int) -> None:
        super().__init__()
        self._raw = raw
        self._name = name
        self._fetch = fetch
        self._size = size

    async def fetch(self) -> list[Any]:
        if self.finished:
            return []
        rows: list[Any] = await self._fetch.fetch()
        if len(rows) < self._size:
            self.finished = True
            await self._raw.execute(f"CLOSE {self._name}")
        return rows

    async def close(self) -> None:
        if not self.finished:
            self.finished = True
            await self._raw.execute(f"CLOSE {self._name}")


async def open_stream(
    raw: Any, sql: str, params: Sequence[Any], chunk_size: int, *, shared: bool, slot: int
) -> RowStream:
    """Open the kind of cursor that fits the connection (see the module docstring)."""
    if not shared:
        transaction = raw.transaction(readonly=True)
        await transaction.start()
        try:
            cursor = await raw.cursor(sql, *params)
        except Exception:
            if not raw.is_closed():
                await transaction.rollback()
            raise
        return _OwnTransactionStream(raw, transaction, cursor, chunk_size)
    if raw.is_in_transaction():
        return _CallerTransactionStream(await raw.cursor(sql, *params), chunk_size)
    name = f"_reinhardt_stream_{slot}"
    # The DECLARE text depends only on the query and the slot, so asyncpg's
    # statement cache serves repeated streams. The FETCH is prepared outside
    # that cache: its result columns are those of whichever query the cursor
    # name was last declared for.
    await raw.execute(f"DECLARE {name} NO SCROLL CURSOR WITH HOLD FOR {sql}", *params)
    try:
        fetch = await raw.prepare(f"FETCH FORWARD {chunk_size} FROM {name}")
    except Exception:
        if not raw.is_closed():
            await raw.execute(f"CLOSE {name}")
        raise
    return _HeldCursorStream(raw, name, fetch, chunk_size)
