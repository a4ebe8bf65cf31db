"""Streaming reads on MySQL/MariaDB: an unbuffered result.

The protocol sends the whole result before the connection can run anything
else, so while rows are unread the stream holds the connection. When another
statement needs it (a ``save()`` inside the loop on a task's connection),
``drain()`` reads the rest of the rows into memory and the stream goes on from
there: the statement runs, the rows still come in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiomysql

from reinhardt_db.backends.base.streams import RowStream

__all__ = ["UnbufferedStream", "open_stream"]


class _SSCursor(aiomysql.SSCursor):
    """Unbuffered cursor, without aiomysql's ``SHOW WARNINGS`` round trip."""

    async def _show_warnings(self, conn: Any) -> None:
        return None


class UnbufferedStream(RowStream):
    """Rows read from the socket a chunk at a time (an ``SSCursor``)."""

    __slots__ = ("_buffer", "_cursor", "_on_wire", "_raw", "_size")

    def __init__(self, raw: Any, cursor: _SSCursor, size: int) -> None:
        super().__init__()
        self._raw = raw
        self._cursor = cursor
        self._size = size
        self._on_wire = True
        self._buffer: list[Any] = []

    @property
    def holds_connection(self) -> bool:
        return self._on_wire

    async def fetch(self) -> list[Any]:
        if self._buffer:
            chunk = self._buffer[: self._size]
            del self._buffer[: self._size]
        elif self._on_wire:
            chunk = list(await self._cursor.fetchmany(self._size))
            if len(chunk) < self._size:
                self._on_wire = False
        else:
            chunk = []
        if not chunk:
            self.finished = True
        return chunk

    async def drain(self) -> None:
        if self._on_wire:
            self._buffer.extend(await self._cursor.fetchall())
            self._on_wire = False

    async def close(self) -> None:
        self.finished = True
        self._buffer = []
        if self._on_wire:
            self._on_wire = False
            if not self._raw.closed:
                # Reads and drops the unread rows: the connection is usable after.
                await self._cursor.close()


async def open_stream(raw: Any, sql: str, params: Sequence[Any], chunk_size: int) -> RowStream:
    """Send the query and return a stream over its unbuffered result."""
    cursor = _SSCursor(raw)
    await cursor.execute(sql, tuple(params))
    return UnbufferedStream(raw, cursor, chunk_size)
