"""The schema editor: DDL for tables, indexes, constraints and foreign keys."""

from __future__ import annotations

__all__ = ["SchemaEditor"]


class SchemaEditor:
    """Emit DDL for one database; each vendor's ``schema.py`` overrides what differs."""
