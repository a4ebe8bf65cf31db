"""MySQL and MariaDB DDL."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from reinhardt_db.backends.base.schema import SchemaEditor
from reinhardt_db.backends.mysql.introspection import MySQLIntrospection

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine.interfaces import Dialect

    from reinhardt_db.backends.base._tables import Element
    from reinhardt_db.backends.database import Database

__all__ = ["MySQLSchemaEditor"]

_EXPRESSION_DEFAULT_TYPES = re.compile(r"(TEXT|BLOB|JSON|GEOMETRY)\b", re.IGNORECASE)


class MySQLSchemaEditor(SchemaEditor):
    """DDL for MySQL and MariaDB.

    TEXT, BLOB and JSON columns take a default only as an expression
    (``DEFAULT ('...')``, MySQL 8.0.13+ and MariaDB 10.2.1+). MySQL has no
    ``CREATE INDEX IF NOT EXISTS`` (MariaDB has), so there existing indexes are
    looked up first. A column change is one ``MODIFY`` with the whole new
    definition; unique constraints are indexes (``RENAME INDEX``), and check
    constraints and foreign keys are renamed by dropping and adding them. DDL
    is not transactional here: each statement commits.
    """

    vendor: ClassVar[str] = "mysql"
    introspection_class = MySQLIntrospection
    can_rename_constraints: ClassVar[bool] = False

    @classmethod
    def needs_expression_default(cls, type_: Any, dialect: Dialect) -> bool:
        """True for TEXT, BLOB, JSON and GEOMETRY columns."""
        return bool(_EXPRESSION_DEFAULT_TYPES.search(type_.compile(dialect=dialect)))

    @classmethod
    def migrate_lock_sql(cls, db: Database) -> tuple[str, str, list[Any]] | None:
        """``GET_LOCK`` / ``RELEASE_LOCK`` on a name per database (names are server-wide)."""
        name = f"reinhardt_migrate:{db.settings.parsed.database}"[:64]
        return "SELECT GET_LOCK(%s, 0)", "SELECT RELEASE_LOCK(%s)", [name]

    def native_ddl(self, sql: str) -> str:
        """Double every ``%``: the driver interpolates its (empty) parameters into the SQL."""
        return sql.replace("%", "%%")

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

    def _has_rename_column(self) -> bool:
        version = self.features.server_version
        if not version:
            return True
        return version >= ((10, 5, 2) if self.features.is_mariadb else (8, 0))

    def rename_column_sql(
        self, table: sa.Table, old: sa.Column[Any], new: sa.Column[Any]
    ) -> str:
        """``RENAME COLUMN`` (MariaDB 10.5.2+, MySQL 8), else ``CHANGE`` with the old definition."""
        if self._has_rename_column():
            return super().rename_column_sql(table, old, new)
        renamed = old._copy()
        renamed.name = renamed.key = new.name
        return (
            f"ALTER TABLE {self.quote_name(table.name)} CHANGE COLUMN "
            f"{self.quote_name(old.name)} {self.column_sql(table, renamed)}"
        )

    def alter_column_sql(
        self, table: sa.Table, old: sa.Column[Any], new: sa.Column[Any]
    ) -> list[str]:
        """Return one ``MODIFY COLUMN`` with ``new``'s whole definition, if anything changed."""
        before = old._copy()
        before.name = before.key = new.name
        if self.column_sql(table, before) == self.column_sql(table, new):
            return []
        return [f"ALTER TABLE {self.quote_name(table.name)} MODIFY COLUMN "
                f"{self.column_sql(table, new)}"]

    def rename_index_sql(self, table_name: str, old_name: str, new_name: str) -> str:
        """``ALTER TABLE t RENAME INDEX a TO b``."""
        return (
            f"ALTER TABLE {self.quote_name(table_name)} RENAME INDEX "
            f"{self.quote_name(old_name)} TO {self.quote_name(new_name)}"
        )

    def rename_element_sql(self, table_name: str, old: Element, new: Element) -> list[str]:
        """Unique constraints are indexes here: rename them; drop and add the others."""
        if old.shape[0] == "unique":
            return [self.rename_index_sql(table_name, old.name, new.name)]
        return super().rename_element_sql(table_name, old, new)
