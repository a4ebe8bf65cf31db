"""MySQL DDL."""

from __future__ import annotations

from reinhardt_db.backends.base.schema import SchemaEditor

__all__ = ["MySQLSchemaEditor"]


class MySQLSchemaEditor(SchemaEditor):
    """DDL for MySQL."""
