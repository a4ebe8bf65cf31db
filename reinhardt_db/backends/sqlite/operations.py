"""SQLite SQL: what the query and schema layers ask of this vendor."""

from __future__ import annotations

from typing import ClassVar

from reinhardt_db.backends.base.operations import DatabaseOperations

__all__ = ["SQLiteOperations"]


class SQLiteOperations(DatabaseOperations):
    """Vendor SQL for SQLite."""

    vendor: ClassVar[str] = "sqlite"
