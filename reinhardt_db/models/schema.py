"""Create and drop model tables without migrations (tests, scripts, benchmarks).

::

    await create_tables()                      # every managed model in the registry
    await create_tables([User, Post], using="replica")
    await drop_tables([User, Post], if_exists=True)

Both go through the database's schema editor (``db.schema_editor()``):
``CREATE TABLE`` (columns, primary key, unique and check constraints), then
``CREATE INDEX`` for each index the server supports, then column comments
where they are not inline, then the foreign keys (``ALTER TABLE ... ADD
CONSTRAINT`` once every table exists; SQLite has them inside ``CREATE
TABLE``), in one transaction where the backend has transactional DDL. The
junction tables of many-to-many fields come with their model. Tables are
created referenced-first and dropped in the reverse order. Production
schemas come from migrations.
"""

from __future__ import annotations

import graphlib
from collections.abc import Collection, Iterable
from typing import Any

import sqlalchemy as sa

from reinhardt_db.apps import apps
from reinhardt_db.backends import connections
from reinhardt_db.backends.dialects import offline_schema_editor
from reinhardt_db.models.result_cache import tables_written

__all__ = ["create_statements", "create_tables", "drop_statements", "drop_tables"]


def _models(models: Iterable[type[Any]] | None) -> list[type[Any]]:
    if models is None:
        chosen = [m for m in apps.get_models() if m._meta.managed]
    else:
        chosen = list(models)
        for model in chosen:
            meta = getattr(model, "_meta", None)
            if meta is None or meta.abstract:
                raise TypeError(f"{model!r} is not a concrete model; it has no table to create.")
    # The junction tables of many-to-many fields come with the model declaring them.
    for model in list(chosen):
        for field in model._meta.many_to_many:
            field.related_model  # noqa: B018 - an undefined target is an error here
            through = field.through
            if through._meta.auto_created and through not in chosen:
                chosen.append(through)
    return chosen


def _in_dependency_order(models: list[type[Any]]) -> list[type[Any]]:
    """Referenced models first (junction tables after both sides); cycles keep their order."""
    order = _dependency_order(models)
    return list(models) if order is None else order


def _dependency_order(models: list[type[Any]]) -> list[type[Any]] | None:
    """Referenced models first, or None when foreign keys among ``models`` form a cycle."""
    sorter: graphlib.TopologicalSorter[type[Any]] = graphlib.TopologicalSorter()
    for model in models:
        targets = [
            f.related_model for f in model._meta.concrete_fields
            if f.is_relation and f.related_model is not model and f.related_model in models
        ]
        sorter.add(model, *targets)
    try:
        order = list(sorter.static_order())
    except graphlib.CycleError:
        return None
    return [m for m in order if m in models]


def _foreign_keys(model: type[Any]) -> list[sa.ForeignKeyConstraint]:
    return sorted(model._meta.table.foreign_key_constraints, key=lambda fk: str(fk.name))


def create_statements(
    model: type[Any],
    dialect: sa.engine.Dialect,
    if_not_exists: bool = False,
    skip_indexes: Collection[str] = (),
) -> list[str]:
    """Return the DDL statements that create ``model``'s table on ``dialect``.

    Built offline with the backend's default features; ``skip_indexes`` names
    indexes known to exist already.
    """
    editor = offline_schema_editor(dialect)
    return editor.create_model_sql(model, if_not_exists=if_not_exists, skip_indexes=skip_indexes)


def drop_statements(
    model: type[Any], dialect: sa.engine.Dialect, if_exists: bool = False
) -> list[str]:
    """Return the DDL statement that drops ``model``'s table (its indexes go with it)."""
    return offline_schema_editor(dialect).delete_model_sql(model, if_exists=if_exists)


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
    chosen = _in_dependency_order(_models(models))
    # A table made again under an old name must not answer from old cached results.
    tables_written(connections[using], [model._meta.db_table for model in chosen])
    async with connections[using].schema_editor() as editor:
        for model in chosen:
            await editor.create_model(
                model, if_not_exists=if_not_exists, with_relations=False
            )
        if not editor.features.supports_alter_table_constraints:
            return  # written into CREATE TABLE (SQLite)
        for model in chosen:
            table = model._meta.table
            existing: set[str] = set()
            if if_not_exists:
                existing = await editor.existing_foreign_key_names(table.name)
            for fk in _foreign_keys(model):
                if fk.name in existing:
                    continue
                await editor.create_foreign_key(
                    table.name,
                    [c.name for c in fk.columns],
                    fk.referred_table.name,
                    [e.column.name for e in fk.elements],
                    name=str(fk.name),
                )


async def drop_tables(
    models: Iterable[type[Any]] | None = None,
    using: str = "default",
    if_exists: bool = False,
) -> None:
    """Drop the tables of ``models`` (default: every managed model), dependents first.

    When foreign keys among them form a cycle, no order drops one table before
    the other points at it: on backends that add foreign keys with ALTER TABLE
    (PostgreSQL, MariaDB) the keys between the chosen tables are dropped first.
    """
    given = _models(models)
    order = _dependency_order(given)
    chosen = given if order is None else order
    async with connections[using].schema_editor() as editor:
        if order is None and editor.features.supports_alter_table_constraints:
            tables = {model._meta.db_table for model in chosen}
            for model in chosen:
                name = model._meta.db_table
                existing = await editor.existing_foreign_key_names(name)
                for fk in _foreign_keys(model):
                    if fk.referred_table.name in tables and str(fk.name) in existing:
                        await editor.remove_foreign_key(name, str(fk.name))
        for model in reversed(chosen):
            await editor.delete_model(model, if_exists=if_exists, with_relations=False)
    tables_written(connections[using], [model._meta.db_table for model in chosen])
