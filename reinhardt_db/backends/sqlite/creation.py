"""SQLite test databases: a file made on first connect, removed with its companions."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from reinhardt_db.backends.base.creation import DatabaseCreation

if TYPE_CHECKING:
    from reinhardt_db.backends.base.features import DatabaseFeatures

__all__ = ["SQLiteCreation"]

#: What SQLite and reinhardt_db keep beside a database file.
_COMPANIONS = ("", "-wal", "-shm", "-journal", ".migrate-lock")


class SQLiteCreation(DatabaseCreation):
    """The database is its file: removed (with WAL, journal, migrate lock) to drop it."""

    async def create(self) -> None:
        # The first connection creates the file; a leftover one goes first.
        self._remove_files()

    async def drop(self) -> None:
        self._remove_files()

    def create_sql(self) -> list[str]:
        return []

    def drop_sql(self, features: DatabaseFeatures) -> list[str]:
        return []

    def _remove_files(self) -> None:
        if self.db.settings.parsed.is_memory:
            return
        path = os.path.abspath(self.name)
        for suffix in _COMPANIONS:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path + suffix)

    async def flush(self, tables: Sequence[str]) -> None:
        if not tables:
            return
        db = self.db
        # Foreign keys are checked at COMMIT (defer_foreign_keys lasts for the
        # transaction): the tables empty in any order.
        async with db.atomic():
            await db.execute("PRAGMA defer_foreign_keys = ON")
            for table in tables:
                await db.execute(f"DELETE FROM {self.quote(table)}")
            if await db.fetch_val(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
            ):
                marks = ", ".join(["%s"] * len(tables))
                sql = f"DELETE FROM sqlite_sequence WHERE name IN ({marks})"
                await db.execute(sql, list(tables))
