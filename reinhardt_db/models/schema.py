"""Create and drop model tables without migrations (tests, scripts, benchmarks).

::

    await create_tables()                      # every managed model in the registry
    await create_tables([User, Post], using="replica")
    await drop_tables([User, Post], if_exists=True)

DDL comes from each model's ``_meta.table`` compiled with the backend's
dialect: ``CREATE TABLE`` (columns, primary key, unique and check
constraints), then ``CREATE INDEX`` for each index this backend supports, then
column comments on PostgreSQL (MySQL puts them inline; SQLite has none).
Production schemas come from migrations.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex, CreateTable, DropTable, SetColumnComment

from reinhardt_db.apps import apps
from reinhardt_db.backends import connections
from reinhardt_db.models.table import vendor_of

__all__ = ["create_statements", "create_tables", "drop_statements", "drop_tables"]


def _models(models: Iterable[type[Any]] | None) -> list[type[Any]]:
    if models is None:
        return [m for m in apps.get_models() if m._meta.managed]
    chosen = list(models)
    for model in chosen:
        meta = getattr(model, "_meta", None)
        if meta is None or meta.abstract:
            raise TypeError(f"{model!r} is not a concrete model; it has no table to create.")
    return chosen


def _tables_in_dependency_order(models: list[type[Any]]) -> list[sa.Table]:
    tables = [m._meta.table for m in models]
    return list(sa.sql.ddl.sort_tables(tables))


def _supported(element: Any, vendor: str) -> bool:
    vendors = element.info.get("vendors")
    return vendors is None or vendor in vendors


def create_statements(
    model: type[Any],
    dialect: sa.engine.Dialect,
    if_not_exists: bool = False,
    skip_indexes: Collection[str] = (),
) -> list[str]:
    """Return the DDL statements that create ``model``'s table on ``dialect``.

    ``skip_indexes`` names indexes known to exist already (MySQL has no
    ``CREATE INDEX IF NOT EXISTS``).
    """
    table: sa.Table = model._meta.table
    vendor = vendor_of(dialect)
    statements = [str(CreateTable(table, if_not_exists=if_not_exists).compile(dialect=dialect))]
    for index in sorted(table.indexes, key=lambda i: str(i.name)):
        if _supported(index, vendor) and index.name not in skip_indexes:
            create = CreateIndex(index, if_not_exists=if_not_exists and vendor != "mysql")
            statements.append(str(create.compile(dialect=dialect)))
    if vendor == "postgresql":
        for column in table.columns:
            if column.comment:
                statements.append(str(SetColumnComment(column).compile(dialect=dialect)))
    return [s.strip() for s in statements]


def drop_statements(
    model: type[Any], dialect: sa.engine.Dialect, if_exists: bool = False
) -> list[str]:
    """Return the DDL statement that drops ``model``'s table (its indexes go with it)."""
    table: sa.Table = model._meta.table
    return [str(DropTable(table, if_exists=if_exists).compile(dialect=dialect)).strip()]


async def _run(using: str, statements: list[str]) -> None:
    db = connections[using]
    block = db.transaction() if db.features.supports_transactional_ddl else contextlib.nullcontext()
    async with block:
        for sql in statements:
            await db.execute_native(sql, [])


async def create_tables(
    models: Iterable[type[Any]] | None = None,
    using: str = "default",
    if_not_exists: bool = False,
) -> None:
    """Create the tables of ``models`` (default: every managed model) on database ``using``.

    Tables are created in dependency order, in one transaction where the
    backend has transactional DDL. With ``if_not_exists`` existing tables and
    indexes are left alone.
    """
    chosen = _models(models)
    db = connections[using]
    by_table = {m._meta.table.name: m for m in chosen}
    existing: set[str] = set()
    if if_not_exists and db.vendor == "mysql" and by_table:
        marks = ", ".join(["%s"] * len(by_table))
        rows = await db.fetch_all(
            "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE "
            f"TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({marks})",
            list(by_table),
        )
        existing = {row[0] for row in rows}
    statements: list[str] = []
    for table in _tables_in_dependency_order(chosen):
        statements += create_statements(by_table[table.name], db.dialect, if_not_exists, existing)
    await _run(using, statements)


async def drop_tables(
    models: Iterable[type[Any]] | None = None,
    using: str = "default",
    if_exists: bool = False,
) -> None:
    """Drop the tables of ``models`` (default: every managed model), dependents first."""
    chosen = _models(models)
    dialect = connections[using].dialect
    by_table = {m._meta.table.name: m for m in chosen}
    statements: list[str] = []
    for table in reversed(_tables_in_dependency_order(chosen)):
        statements += drop_statements(by_table[table.name], dialect, if_exists)
    await _run(using, statements)
