"""PostgreSQL DDL."""

from __future__ import annotations

from reinhardt_db.backends.base.schema import SchemaEditor

__all__ = ["PostgreSQLSchemaEditor"]


class PostgreSQLSchemaEditor(SchemaEditor):
    """DDL for PostgreSQL."""
