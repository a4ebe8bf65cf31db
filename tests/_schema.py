"""Test helper: compare a live table with a model's ``Table``, through introspection.

``await schema_problems(db, Model, ...)`` returns the differences as readable
lines (an empty list when the database matches): tables, column names,
nullability, type families (``varchar(100)``, ``bigint``, ``text`` ...), named
unique and check constraints, and indexes with their columns.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from reinhardt_db.backends import Database
from reinhardt_db.backends.base.introspection import introspect

_FAMILIES = [
    (r"^(character varying|varchar)\s*\((\d+)\)", lambda m: f"varchar({m.group(2)})"),
    (r"^(integer|int|int4)(\(\d+\))?$", lambda m: "integer"),
    (r"^(bigint|int8)(\(\d+\))?$", lambda m: "bigint"),
    (r"^(smallint|int2)(\(\d+\))?$", lambda m: "smallint"),
    (r"^(tinyint\(1\)|bool|boolean)$", lambda m: "boolean"),
    (r"^(text|longtext|mediumtext)$", lambda m: "text"),
]


def type_family(text: str) -> str | None:
    """Return a comparable name for a column type, or None when not compared."""
    text = text.strip().lower()
    for pattern, name in _FAMILIES:
        match = re.match(pattern, text)
        if match:
            return name(match)
    return None


def _expected_elements(table: sa.Table, db: Database) -> tuple[dict[str, tuple[str, ...]], ...]:
    uniques, checks, indexes = {}, {}, {}
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint) and constraint.name:
            uniques[str(constraint.name)] = tuple(c.name for c in constraint.columns)
        elif isinstance(constraint, sa.CheckConstraint) and constraint.name:
            checks[str(constraint.name)] = ()
    for index in table.indexes:
        if index.info.get("condition") is not None and not db.features.supports_partial_indexes:
            continue
        indexes[str(index.name)] = tuple(c.name for c in index.columns)
    return uniques, checks, indexes


async def schema_problems(db: Database, *models: Any) -> list[str]:
    """Return how the live schema differs from ``models``' tables (empty: it matches)."""
    inspector = introspect(db)
    problems: list[str] = []
    existing = set(await inspector.table_names())
    for model in models:
        table: sa.Table = model._meta.table
        if table.name not in existing:
            problems.append(f"table {table.name} is missing")
            continue
        columns = {c.name: c for c in await inspector.get_columns(table.name)}
        if set(columns) != set(table.c.keys()):
            problems.append(
                f"{table.name}: columns {sorted(columns)} != model's {sorted(table.c.keys())}"
            )
        for column in table.columns:
            found = columns.get(column.name)
            if found is None:
                continue
            if found.nullable != bool(column.nullable) and not column.primary_key:
                problems.append(f"{table.name}.{column.name}: nullable is {found.nullable}")
            expected = type_family(column.type.compile(dialect=db.dialect))
            actual = type_family(found.type)
            if expected is not None and actual is not None and expected != actual:
                problems.append(f"{table.name}.{column.name}: type {found.type}, not {expected}")
        constraints = await inspector.get_constraints(table.name)
        uniques, checks, indexes = _expected_elements(table, db)
        found_uniques = {n: c.columns for n, c in constraints.items() if c.kind == "unique"}
        if found_uniques != uniques:
            problems.append(f"{table.name}: unique constraints {found_uniques} != {uniques}")
        found_checks = {
            n for n, c in constraints.items()
            if c.kind == "check" and not (db.vendor == "mysql" and n in columns)  # json_valid()
        }
        if found_checks != set(checks):
            problems.append(f"{table.name}: checks {sorted(found_checks)} != {sorted(checks)}")
        found_indexes = {n: c.columns for n, c in constraints.items() if c.kind == "index"}
        if found_indexes != indexes:
            problems.append(f"{table.name}: indexes {found_indexes} != {indexes}")
        # Foreign keys by what they join, and by name where the backend reports one
        # (SQLite does not).
        named = db.vendor != "sqlite"
        found_fks = sorted(
            (c.name if named else "", c.columns, c.references)
            for c in constraints.values() if c.kind == "foreign_key"
        )
        expected_fks = sorted(
            (str(fk.name) if named else "", tuple(c.name for c in fk.columns),
             (fk.referred_table.name, tuple(e.column.name for e in fk.elements)))
            for fk in table.foreign_key_constraints
        )
        if found_fks != expected_fks:
            problems.append(f"{table.name}: foreign keys {found_fks} != {expected_fks}")
    return problems
