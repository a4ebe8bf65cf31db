"""Read SQLite's schema: ``sqlite_master`` and the ``table_info``/``index_list`` pragmas.

Constraint names live only in the ``CREATE TABLE`` text, so named ``UNIQUE``
and ``CHECK`` constraints are read from there.
"""

from __future__ import annotations

import re

from reinhardt_db.backends.base.introspection import ColumnInfo, ConstraintInfo, Introspection

__all__ = ["SQLiteIntrospection"]

_CONSTRAINT = re.compile(r"CONSTRAINT\s+(\"[^\"]+\"|\S+)\s+(UNIQUE|CHECK)\s*\(", re.IGNORECASE)


def _balanced(text: str, start: int) -> str:
    """Return the text inside the parenthesis opening at ``start``."""
    depth = 0
    for position in range(start, len(text)):
        if text[position] == "(":
            depth += 1
        elif text[position] == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1:position]
    return text[start + 1:]


def _unquote(name: str) -> str:
    return name[1:-1] if name[:1] in "\"`[" else name


class SQLiteIntrospection(Introspection):
    """Catalog queries for SQLite."""

    async def table_names(self) -> list[str]:
        """Return the tables, without SQLite's own (``sqlite_*``)."""
        rows = await self.db.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%%' "
            "ORDER BY name"
        )
        return [str(row[0]) for row in rows]

    async def get_columns(self, table: str) -> list[ColumnInfo]:
        """Return the columns from ``PRAGMA table_info``."""
        rows = await self.db.fetch_all("SELECT * FROM pragma_table_info(%s)", [table])
        return [
            ColumnInfo(
                name=str(row["name"]), type=str(row["type"]).lower(),
                nullable=not row["notnull"] and not row["pk"],
                default=row["dflt_value"], primary_key=bool(row["pk"]),
            )
            for row in rows
        ]

    async def get_constraints(self, table: str) -> dict[str, ConstraintInfo]:
        """Return indexes (``index_list``), foreign keys and the named UNIQUE/CHECK constraints."""
        found: dict[str, ConstraintInfo] = {}
        sql = await self.db.fetch_val(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table]
        )
        for match in _CONSTRAINT.finditer(str(sql or "")):
            name, kind = _unquote(match.group(1)), match.group(2).upper()
            body = _balanced(str(sql), match.end() - 1)
            if kind == "UNIQUE":
                columns = tuple(_unquote(c.strip()) for c in body.split(","))
                found[name] = ConstraintInfo(name, "unique", columns, unique=True)
            else:
                found[name] = ConstraintInfo(name, "check", condition=body.strip())
        primary = tuple(c.name for c in await self.get_columns(table) if c.primary_key)
        if primary:
            found["__primary__"] = ConstraintInfo("__primary__", "primary_key", primary, True)
        for row in await self.db.fetch_all("SELECT * FROM pragma_index_list(%s)", [table]):
            if row["origin"] != "c":
                continue  # backs a UNIQUE constraint or the primary key
            name = str(row["name"])
            info = await self.db.fetch_all("SELECT name FROM pragma_index_info(%s)", [name])
            definition = await self.db.fetch_val(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s", [name]
            )
            condition = None
            where = re.search(r"\bWHERE\b(.*)$", str(definition or ""), re.IGNORECASE | re.S)
            if where:
                condition = where.group(1).strip()
            found[name] = ConstraintInfo(
                name, "index", tuple(str(r[0]) for r in info), unique=bool(row["unique"]),
                condition=condition,
            )
        keys: dict[int, list[tuple[str, str, str]]] = {}
        for row in await self.db.fetch_all("SELECT * FROM pragma_foreign_key_list(%s)", [table]):
            keys.setdefault(int(row["id"]), []).append(
                (str(row["from"]), str(row["table"]), str(row["to"]))
            )
        for number, parts in sorted(keys.items()):
            name = f"__fk_{number}__"
            found[name] = ConstraintInfo(
                name, "foreign_key", tuple(p[0] for p in parts),
                references=(parts[0][1], tuple(p[2] for p in parts)),
            )
        return found
