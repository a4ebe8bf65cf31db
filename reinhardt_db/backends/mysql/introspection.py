"""Read MySQL/MariaDB's schema from ``information_schema`` (the current database)."""

from __future__ import annotations

from reinhardt_db.backends.base.introspection import ColumnInfo, ConstraintInfo, Introspection

__all__ = ["MySQLIntrospection"]

_KINDS = {"PRIMARY KEY": "primary_key", "UNIQUE": "unique", "FOREIGN KEY": "foreign_key",
          "CHECK": "check"}


class MySQLIntrospection(Introspection):
    """Catalog queries for MySQL and MariaDB."""

    async def table_names(self) -> list[str]:
        """Return the base tables of ``DATABASE()``."""
        rows = await self.db.fetch_all(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME"
        )
        return [str(row[0]) for row in rows]

    async def get_columns(self, table: str) -> list[ColumnInfo]:
        """Return the columns with their ``COLUMN_TYPE`` (``varchar(100)``, ``int(11)``)."""
        rows = await self.db.fetch_all(
            "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLUMN_KEY "
            "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION", [table],
        )
        columns = []
        for name, type_, nullable, default, key in rows:
            if default == "NULL":  # MariaDB spells "no default" this way for nullable columns
                default = None
            columns.append(ColumnInfo(
                str(name), str(type_).lower(), nullable == "YES",
                None if default is None else str(default), key == "PRI",
            ))
        return columns

    async def get_constraints(self, table: str) -> dict[str, ConstraintInfo]:
        """Return constraints (with key columns and checks) and the other indexes."""
        found: dict[str, ConstraintInfo] = {}
        usage: dict[str, list[tuple[str, str | None, str | None]]] = {}
        for name, column, ref_table, ref_column in await self.db.fetch_all(
            "SELECT CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME "
            "FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME = %s ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION", [table],
        ):
            usage.setdefault(str(name), []).append((str(column), ref_table, ref_column))
        checks = {
            str(row[0]): str(row[1]) for row in await self.db.fetch_all(
                "SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
                "WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = %s", [table],
            )
        }
        for name, kind in await self.db.fetch_all(
            "SELECT CONSTRAINT_NAME, CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s", [table],
        ):
            kind_name = _KINDS.get(str(kind))
            if kind_name is None:
                continue
            parts = usage.get(str(name), [])
            references = None
            if kind_name == "foreign_key" and parts:
                references = (str(parts[0][1]), tuple(str(p[2]) for p in parts))
            found[str(name)] = ConstraintInfo(
                str(name), kind_name, tuple(p[0] for p in parts),
                unique=kind_name in ("primary_key", "unique"), references=references,
                condition=checks.get(str(name)),
            )
        indexes: dict[str, tuple[bool, list[str]]] = {}
        for name, non_unique, column in await self.db.fetch_all(
            "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s "
            "ORDER BY INDEX_NAME, SEQ_IN_INDEX", [table],
        ):
            entry = indexes.setdefault(str(name), (not int(non_unique), []))
            entry[1].append(str(column))
        for name, (unique, columns) in indexes.items():
            if name == "PRIMARY" or name in found:
                continue  # backs the primary key, a unique constraint or a foreign key
            found[name] = ConstraintInfo(name, "index", tuple(columns), unique=unique)
        return found
