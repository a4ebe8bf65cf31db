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

    async def existing_foreign_key_names(self, table_name: str) -> set[str]:
        """Return the foreign key names of ``table_name`` in the current schema."""
        if self.db is None:
            return set()
        rows = await self.db.fetch_rows(
            "SELECT constraint_name FROM information_schema.table_constraints "
            "WHERE table_schema = current_schema() AND table_name = $1 "
            "AND constraint_type = 'FOREIGN KEY'",
            [table_name],
        )
        return {str(row[0]) for row in rows}
