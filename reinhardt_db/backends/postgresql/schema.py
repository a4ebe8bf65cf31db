"""PostgreSQL DDL."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from reinhardt_db.backends.base.schema import SchemaEditor
from reinhardt_db.backends.postgresql.introspection import PostgreSQLIntrospection

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.sql.compiler import SQLCompiler

    from reinhardt_db.backends.database import Database

__all__ = ["MIGRATE_LOCK_KEY", "PostgreSQLSchemaEditor"]

#: The advisory lock ``migrate`` holds (advisory locks are per database).
MIGRATE_LOCK_KEY = 0x7265696E68617264  # "reinhard"


class PostgreSQLSchemaEditor(SchemaEditor):
    """DDL for PostgreSQL: typed literals for booleans, bytes and intervals.

    Column changes use ``ALTER COLUMN ... TYPE ... USING``, indexes and
    constraints are renamed in place, and ``concurrently=True`` builds or drops
    an index without locking writes (outside a transaction).
    """

    vendor: ClassVar[str] = "postgresql"
    introspection_class = PostgreSQLIntrospection

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

    @classmethod
    def migrate_lock_sql(cls, db: Database) -> tuple[str, str, list[Any]] | None:
        """``pg_try_advisory_lock`` / ``pg_advisory_unlock`` on one key per database."""
        return (
            "SELECT pg_try_advisory_lock(%s)", "SELECT pg_advisory_unlock(%s)",
            [MIGRATE_LOCK_KEY],
        )

    def create_index_sql(
        self, index: sa.Index, *, if_not_exists: bool = False, concurrently: bool = False
    ) -> str | None:
        """Return ``CREATE [UNIQUE] INDEX [CONCURRENTLY]`` for ``index``."""
        sql = super().create_index_sql(index, if_not_exists=if_not_exists)
        if sql is None or not concurrently:
            return sql
        return sql.replace(" INDEX ", " INDEX CONCURRENTLY ", 1)

    def drop_index_sql(self, index: sa.Index, *, concurrently: bool = False) -> str | None:
        """Return ``DROP INDEX [CONCURRENTLY]`` for ``index``."""
        sql = super().drop_index_sql(index)
        if sql is None or not concurrently:
            return sql
        return sql.replace("DROP INDEX ", "DROP INDEX CONCURRENTLY ", 1)
