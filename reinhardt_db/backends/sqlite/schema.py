"""SQLite DDL."""

from __future__ import annotations

from reinhardt_db.backends.base.schema import SchemaEditor

__all__ = ["SQLiteSchemaEditor"]


class SQLiteSchemaEditor(SchemaEditor):
    """DDL for SQLite."""
