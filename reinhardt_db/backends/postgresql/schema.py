"""PostgreSQL DDL."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from reinhardt_db.backends.base.schema import SchemaEditor

if TYPE_CHECKING:
    from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["PostgreSQLSchemaEditor"]


class PostgreSQLSchemaEditor(SchemaEditor):
    """DDL for PostgreSQL: typed literals for booleans, bytes and intervals."""

    vendor: ClassVar[str] = "postgresql"

    @classmethod
    def quote_value(cls, value: Any, compiler: SQLCompiler) -> str:
        """Return ``value`` as a PostgreSQL literal (``true``, ``'\\x..'::bytea``, intervals)."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (bytes, bytearray, memoryview)):
            return f"'\\x{bytes(value).hex()}'::bytea"
        if isinstance(value, dt.timedelta):
            micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
            return f"'{micros} microseconds'::interval"
        return super().quote_value(value, compiler)
