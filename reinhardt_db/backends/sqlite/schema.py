"""SQLite DDL."""

from __future__ import annotations

from typing import ClassVar

from reinhardt_db.backends.base.schema import SchemaEditor

__all__ = ["SQLiteSchemaEditor"]


class SQLiteSchemaEditor(SchemaEditor):
    """DDL for SQLite.

    ``ALTER TABLE`` cannot add or drop constraints there
    (``features.supports_alter_table_constraints`` is false): constraints and
    foreign keys are written into ``CREATE TABLE``, and changing them later
    rebuilds the table (the migrations' job).
    """

    vendor: ClassVar[str] = "sqlite"
