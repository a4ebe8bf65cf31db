"""Streaming reads on SQLite: a cursor stepped a chunk at a time on the connection's thread.

aiosqlite runs every call of a connection on its one thread, in order, so
other statements can run between two chunks on the same connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from reinhardt_db.backends.base.streams import RowStream

__all__ = ["CursorStream", "open_stream"]


def _open_cursor(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
    return conn.execute(sql, params)


def _fetchmany(cursor: sqlite3.Cursor, size: int) -> list[Any]:
    rows = cursor.fetchmany(size)
    if len(rows) < size:
        # The end: finish the statement now, so it stops holding a read snapshot.
        cursor.close()
    return rows


class CursorStream(RowStream):
    """A ``sqlite3`` cursor read in chunks."""

    __slots__ = ("_cursor", "_raw", "_size")

    def __init__(self, raw: Any, cursor: sqlite3.Cursor, size: int) -> None:
        super().__init__()
        self._raw = raw
        self._cursor = cursor
        self._size = size

    async def fetch(self) -> list[Any]:
        if self.finished:
            return []
        rows: list[Any] = await self._raw._execute(_fetchmany, self._cursor, self._size)
        if len(rows) < self._size:
            self.finished = True
        return rows

    async def close(self) -> None:
        if not self.finished:
            self.finished = True
            if self._raw._connection is not None:
                await self._raw._execute(self._cursor.close)


async def open_stream(raw: Any, sql: str, params: Sequence[Any], chunk_size: int) -> RowStream:
    """Run the query and return a stream over its cursor."""
    cursor = await raw._execute(_open_cursor, raw._conn, sql, params)
    return CursorStream(raw, cursor, chunk_size)
