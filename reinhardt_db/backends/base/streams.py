"""``RowStream``: one result read in chunks, as each driver does it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

__all__ = ["RowStream"]


class RowStream(ABC):
    """An open result, read a chunk at a time (a server-side cursor where there is one).

    Made by ``Driver.open_stream``. ``fetch()`` returns the next chunk, and an
    empty list once the result is exhausted; the fetch that reaches the end
    also frees what the server held for it (a cursor, a transaction), so a
    stream read to the end needs no ``close()``.
    """

    __slots__ = ("finished",)

    #: True when the stream ends with the transaction it was opened in
    #: (a PostgreSQL cursor inside the caller's transaction).
    ends_with_transaction: bool = False

    def __init__(self) -> None:
        self.finished = False

    @property
    def holds_connection(self) -> bool:
        """Return True while no other statement can run on the connection (MySQL)."""
        return False

    @abstractmethod
    async def fetch(self) -> list[Any]:
        """Return the next chunk of rows; an empty list once the result is exhausted."""

    async def drain(self) -> None:
        """Read the rest of the result into memory so the connection is free again.

        Only streams that hold their connection need this; later ``fetch()``
        calls serve the rows read here. The others have nothing to do.
        """
        return None

    @abstractmethod
    async def close(self) -> None:
        """Free what the server holds for a stream left unfinished (cursor, rows unread)."""
