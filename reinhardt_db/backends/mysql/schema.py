"""MySQL and MariaDB DDL."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from reinhardt_db.backends.base.schema import SchemaEditor

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import Dialect

__all__ = ["MySQLSchemaEditor"]

_EXPRESSION_DEFAULT_TYPES = re.compile(r"(TEXT|BLOB|JSON|GEOMETRY)\b", re.IGNORECASE)


class MySQLSchemaEditor(SchemaEditor):
    """DDL for MySQL and MariaDB.

    TEXT, BLOB and JSON columns take a default only as an expression
    (``DEFAULT ('...')``, MySQL 8.0.13+ and MariaDB 10.2.1+). MySQL has no
    ``CREATE INDEX IF NOT EXISTS`` (MariaDB has), so there existing indexes are
    looked up first.
    """

    vendor: ClassVar[str] = "mysql"

    @classmethod
    def needs_expression_default(cls, type_: Any, dialect: Dialect) -> bool:
        """True for TEXT, BLOB, JSON and GEOMETRY columns."""
        return bool(_EXPRESSION_DEFAULT_TYPES.search(type_.compile(dialect=dialect)))

    async def existing_index_names(self, table_name: str) -> set[str]:
        """Return the index names of ``table_name`` in the current database."""
        if self.db is None:  # building SQL only: nothing is known to exist
            return set()
        rows = await self.db.fetch_rows(
            "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            [table_name],
        )
        return {str(row[0]) for row in rows}

    async def existing_foreign_key_names(self, table_name: str) -> set[str]:
        """Return the foreign key names of ``table_name`` in the current database."""
        if self.db is None:
            return set()
        rows = await self.db.fetch_rows(
            "SELECT CONSTRAINT_NAME FROM information_schema.TABLE_CONSTRAINTS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s "
            "AND CONSTRAINT_TYPE = 'FOREIGN KEY'",
            [table_name],
        )
        return {str(row[0]) for row in rows}
