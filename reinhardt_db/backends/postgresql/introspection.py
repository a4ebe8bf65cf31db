"""Read PostgreSQL's schema from ``pg_catalog`` (the current schema only)."""

from __future__ import annotations

from reinhardt_db.backends.base.introspection import ColumnInfo, ConstraintInfo, Introspection

__all__ = ["PostgreSQLIntrospection"]

_KINDS = {"p": "primary_key", "u": "unique", "c": "check", "f": "foreign_key"}

_COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid),
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary
               AND a.attnum = ANY (i.indkey))
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relname = %s AND n.nspname = current_schema() AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attnum
"""

_CONSTRAINTS = """
SELECT con.conname, con.contype,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
             ORDER BY k.ord),
       (SELECT r.relname FROM pg_class r WHERE r.oid = con.confrelid),
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num
             ORDER BY k.ord),
       CASE WHEN con.contype = 'c' THEN pg_get_constraintdef(con.oid) END
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = %s AND n.nspname = current_schema()
"""

_INDEXES = """
SELECT ic.relname, i.indisunique,
       ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(num, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num
             ORDER BY k.ord),
       pg_get_expr(i.indpred, i.indrelid)
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE t.relname = %s AND n.nspname = current_schema()
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)
"""


class PostgreSQLIntrospection(Introspection):
    """Catalog queries for PostgreSQL."""

    async def table_names(self) -> list[str]:
        """Return the tables of the current schema."""
        rows = await self.db.fetch_all(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "ORDER BY tablename"
        )
        return [str(row[0]) for row in rows]

    async def get_columns(self, table: str) -> list[ColumnInfo]:
        """Return the columns with ``format_type`` spellings (``character varying(100)``)."""
        rows = await self.db.fetch_all(_COLUMNS, [table])
        return [
            ColumnInfo(str(r[0]), str(r[1]).lower(), bool(r[2]), r[3], bool(r[4])) for r in rows
        ]

    async def get_constraints(self, table: str) -> dict[str, ConstraintInfo]:
        """Return constraints from ``pg_constraint`` and the other indexes from ``pg_index``."""
        found: dict[str, ConstraintInfo] = {}
        for name, kind, columns, ref_table, ref_columns, check in await self.db.fetch_all(
            _CONSTRAINTS, [table]
        ):
            kind_name = _KINDS.get(kind.decode() if isinstance(kind, bytes) else str(kind))
            if kind_name is None:
                continue
            found[str(name)] = ConstraintInfo(
                str(name), kind_name, tuple(columns), unique=kind_name in ("primary_key", "unique"),
                references=(str(ref_table), tuple(ref_columns)) if ref_table else None,
                condition=check,
            )
        for name, unique, columns, condition in await self.db.fetch_all(_INDEXES, [table]):
            found[str(name)] = ConstraintInfo(
                str(name), "index", tuple(columns), unique=bool(unique), condition=condition
            )
        return found
