"""The schema editor's changes to existing tables, on each live server.

Each test creates a table from one version of a model, writes rows, asks the
editor for a change with the next version (as migrations do, with historical
models before and after), then shows the result by introspection
(``tests/_schema.py``) and by the rows that survived.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.backends.base.introspection import introspect
from reinhardt_db.exceptions import IntegrityError, NotSupportedError
from reinhardt_db.testing import isolate_apps

from .._schema import schema_problems
from .._sql import captured

TABLE = "sef_item"
OTHER = "sef_item_renamed"
CHILD = "sef_child"


def version(meta: dict[str, Any] | None = None, **fields: Any) -> Any:
    """Declare one version of the model ``Item`` (its own registry, table ``sef_item``)."""
    attrs: dict[str, Any] = {"db_table": TABLE, "app_label": "sef", **(meta or {})}
    with isolate_apps():
        return type("Item", (models.Model,), {
            "__module__": __name__, "Meta": type("Meta", (), attrs), **fields,
        })


async def drop_all(db: Database) -> None:
    for name in (CHILD, TABLE, OTHER, "new__" + TABLE):
        await db.execute(f"DROP TABLE IF EXISTS {name}")


@pytest.fixture
async def db(backend: Database) -> AsyncIterator[Database]:
    await drop_all(backend)
    yield backend
    await drop_all(backend)


async def create(db: Database, model: Any, rows: list[tuple[Any, ...]] = (), cols: str = "name") -> None:
    async with db.schema_editor() as editor:
        await editor.create_model(model)
    marks = ", ".join(["%s"] * len(cols.split(",")))
    for row in rows:
        await db.execute(f"INSERT INTO {TABLE} ({cols}) VALUES ({marks})", list(row))


async def rows(db: Database, cols: str, table: str = TABLE) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await db.fetch_all(f"SELECT {cols} FROM {table} ORDER BY id")]


async def matches(db: Database, model: Any) -> None:
    assert await schema_problems(db, model) == []


V1 = version(name=models.CharField(max_length=20))


# -- add_field ---------------------------------------------------------------------------
async def test_add_nullable_field(db: Database) -> None:
    await create(db, V1, [("a",), ("b",)])
    v2 = version(name=models.CharField(max_length=20), note=models.CharField(max_length=10, null=True))
    async with db.schema_editor() as editor:
        await editor.add_field(v2, v2._meta.get_field("note"))
    await matches(db, v2)
    assert await rows(db, "name, note") == [("a", None), ("b", None)]


async def test_add_not_null_field_fills_rows_with_the_default_and_keeps_none(db: Database) -> None:
    await create(db, V1, [("a",), ("b",)])
    v2 = version(name=models.CharField(max_length=20), size=models.IntegerField(default=7))
    async with db.schema_editor() as editor:
        await editor.add_field(v2, v2._meta.get_field("size"))
    await matches(db, v2)
    assert await rows(db, "name, size") == [("a", 7), ("b", 7)]
    columns = {c.name: c for c in await introspect(db).get_columns(TABLE)}
    assert columns["size"].default is None, "a one-off default is not kept on the column"
    with pytest.raises(IntegrityError):
        await db.execute(f"INSERT INTO {TABLE} (name) VALUES (%s)", ["c"])


async def test_add_unique_indexed_and_db_default_fields(db: Database) -> None:
    """One field per step, each with the model as of that step (as migrations pass it)."""
    await create(db, V1, [("a",), ("b",)])
    fields: dict[str, Any] = {"name": models.CharField(max_length=20)}
    added = {
        "code": models.CharField(max_length=10, null=True, unique=True),
        "rank": models.IntegerField(default=0, db_index=True),
        "kind": models.CharField(max_length=5, db_default="x"),
    }
    for name, field in added.items():
        fields[name] = field
        step = version(**{k: f.clone() for k, f in fields.items()})
        async with db.schema_editor() as editor:
            await editor.add_field(step, step._meta.get_field(name))
        await matches(db, step)
    assert await rows(db, "name, code, rank, kind") == [("a", None, 0, "x"), ("b", None, 0, "x")]
    await db.execute(f"UPDATE {TABLE} SET code = %s WHERE name = %s", ["c1", "a"])
    with pytest.raises(IntegrityError):
        await db.execute(f"UPDATE {TABLE} SET code = %s WHERE name = %s", ["c1", "b"])


# -- remove_field ------------------------------------------------------------------------
async def test_remove_plain_and_constrained_fields(db: Database) -> None:
    fields: dict[str, Any] = {
        "name": models.CharField(max_length=20),
        "note": models.TextField(default=""),
        "code": models.CharField(max_length=10, unique=True),
        "rank": models.PositiveIntegerField(default=0, db_index=True),
    }
    first = version(**{k: f.clone() for k, f in fields.items()})
    await create(db, first, [("a", "n", "c1", 1), ("b", "m", "c2", 2)], "name, note, code, rank")
    for name in ("note", "code", "rank"):
        step = version(**{k: f.clone() for k, f in fields.items()})
        async with db.schema_editor() as editor:
            await editor.remove_field(step, step._meta.get_field(name))
        del fields[name]
    await matches(db, V1)
    assert await rows(db, "name") == [("a",), ("b",)]


# -- alter_field -------------------------------------------------------------------------
async def alter(db: Database, old: Any, new: Any, name: str, new_name: str | None = None) -> None:
    async with db.schema_editor() as editor:
        await editor.alter_field(new, old._meta.get_field(name), new._meta.get_field(new_name or name))


async def test_alter_max_length_and_integer_size(db: Database) -> None:
    v1 = version(name=models.CharField(max_length=20), size=models.IntegerField(default=0))
    await create(db, v1, [("a", 1), ("b", 2)], "name, size")
    v2 = version(name=models.CharField(max_length=200), size=models.BigIntegerField(default=0))
    await alter(db, v1, v2, "name")
    v1b = version(name=models.CharField(max_length=200), size=models.IntegerField(default=0))
    await alter(db, v1b, v2, "size")
    await matches(db, v2)
    await db.execute(f"UPDATE {TABLE} SET name = %s, size = %s WHERE name = 'b'", ["x" * 150, 2**40])
    assert await rows(db, "name, size") == [("a", 1), ("x" * 150, 2**40)]


async def test_null_to_not_null_fills_nulls_with_the_default(db: Database) -> None:
    v1 = version(name=models.CharField(max_length=20), size=models.IntegerField(null=True))
    await create(db, v1, [("a", None), ("b", 5)], "name, size")
    v2 = version(name=models.CharField(max_length=20), size=models.IntegerField(default=3))
    await alter(db, v1, v2, "size")
    await matches(db, v2)
    assert await rows(db, "name, size") == [("a", 3), ("b", 5)]
    await alter(db, v2, v1, "size")
    await matches(db, v1)
    await db.execute(f"INSERT INTO {TABLE} (name) VALUES (%s)", ["c"])
    assert await rows(db, "name, size") == [("a", 3), ("b", 5), ("c", None)]


async def test_unique_and_index_on_and_off(db: Database) -> None:
    v1 = version(name=models.CharField(max_length=20))
    await create(db, v1, [("a",), ("b",)])
    v2 = version(name=models.CharField(max_length=20, unique=True))
    v3 = version(name=models.CharField(max_length=20, db_index=True))
    for old, new in ((v1, v2), (v2, v3), (v3, v1), (v1, v3)):
        await alter(db, old, new, "name")
        await matches(db, new)
    assert await rows(db, "name") == [("a",), ("b",)]


async def test_db_default_and_comment_changes(db: Database) -> None:
    v1 = version(name=models.CharField(max_length=20), kind=models.CharField(max_length=5, db_default="x"))
    await create(db, v1, [("a",)])
    v2 = version(name=models.CharField(max_length=20),
                 kind=models.CharField(max_length=5, db_default="y", db_comment="the kind"))
    await alter(db, v1, v2, "kind")
    await matches(db, v2)
    await db.execute(f"INSERT INTO {TABLE} (name) VALUES (%s)", ["b"])
    assert await rows(db, "name, kind") == [("a", "x"), ("b", "y")]


async def test_db_column_change_renames_the_column_and_its_index(db: Database) -> None:
    v1 = version(name=models.CharField(max_length=20, db_index=True))
    await create(db, v1, [("a",), ("b",)])
    v2 = version(name=models.CharField(max_length=20, db_index=True, db_column="title"))
    await alter(db, v1, v2, "name")
    await matches(db, v2)
    assert await rows(db, "title") == [("a",), ("b",)]


# -- rename_field ------------------------------------------------------------------------
async def test_rename_field_keeps_values_and_renames_named_elements(db: Database) -> None:
    v1 = version(
        name=models.CharField(max_length=20, unique=True),
        rank=models.PositiveIntegerField(default=0, db_index=True),
    )
    await create(db, v1, [("a", 1), ("b", 2)], "name, rank")
    v2 = version(
        title=models.CharField(max_length=20, unique=True),
        rank=models.PositiveIntegerField(default=0, db_index=True),
    )
    async with db.schema_editor() as editor:
        await editor.rename_field(v2, v1._meta.get_field("name"), v2._meta.get_field("title"))
    await matches(db, v2)
    assert await rows(db, "title, rank") == [("a", 1), ("b", 2)]
    v3 = version(
        title=models.CharField(max_length=20, unique=True),
        position=models.PositiveIntegerField(default=0, db_index=True),
    )
    async with db.schema_editor() as editor:
        await editor.rename_field(v3, v2._meta.get_field("rank"), v3._meta.get_field("position"))
    await matches(db, v3)
    assert await rows(db, "title, position") == [("a", 1), ("b", 2)]


# -- tables, indexes, unique_together ----------------------------------------------------------
async def test_alter_db_table_keeps_rows_and_renames_named_elements(db: Database) -> None:
    v1 = version(name=models.CharField(max_length=20, unique=True),
                 rank=models.PositiveIntegerField(default=0, db_index=True))
    await create(db, v1, [("a", 1), ("b", 2)], "name, rank")
    v2 = version({"db_table": OTHER}, name=models.CharField(max_length=20, unique=True),
                 rank=models.PositiveIntegerField(default=0, db_index=True))
    async with db.schema_editor() as editor:
        await editor.alter_db_table(v2, TABLE, OTHER)
    assert TABLE not in await introspect(db).table_names()
    await matches(db, v2)
    assert await rows(db, "name, rank", OTHER) == [("a", 1), ("b", 2)]


async def test_rename_index(db: Database) -> None:
    v1 = version({"indexes": [models.Index(fields=["name"], name="sef_old_idx")]},
                 name=models.CharField(max_length=20))
    await create(db, v1, [("a",)])
    v2 = version({"indexes": [models.Index(fields=["name"], name="sef_new_idx")]},
                 name=models.CharField(max_length=20))
    async with db.schema_editor() as editor:
        await editor.rename_index(v2, v1._meta.indexes[0], v2._meta.indexes[0])
    await matches(db, v2)


async def test_alter_unique_together(db: Database) -> None:
    fields = {"name": models.CharField(max_length=20), "day": models.IntegerField(default=0)}
    v1 = version(**fields)
    await create(db, v1, [("a", 1), ("a", 2)], "name, day")
    v2 = version({"unique_together": [("name", "day")]}, **fields)
    async with db.schema_editor() as editor:
        await editor.alter_unique_together(v2, [], [("name", "day")])
    await matches(db, v2)
    with pytest.raises(IntegrityError):
        await db.execute(f"INSERT INTO {TABLE} (name, day) VALUES (%s, %s)", ["a", 1])
    async with db.schema_editor() as editor:
        await editor.alter_unique_together(v1, [("name", "day")], [])
    await matches(db, v1)
    await db.execute(f"INSERT INTO {TABLE} (name, day) VALUES (%s, %s)", ["a", 1])
    assert len(await rows(db, "name")) == 3


async def test_constraints_follow_the_model(db: Database) -> None:
    fields = {"name": models.CharField(max_length=20), "size": models.IntegerField(default=0)}
    v1 = version(**fields)
    await create(db, v1, [("a", 1), ("b", 2)], "name, size")
    check = models.CheckConstraint(condition=models.Q(size__lte=100), name="sef_size_lte_100")
    v2 = version({"constraints": [check]}, **fields)
    async with db.schema_editor() as editor:
        await editor.add_constraint(v2, "sef_size_lte_100")
    await matches(db, v2)
    with pytest.raises(IntegrityError):
        await db.execute(f"INSERT INTO {TABLE} (name, size) VALUES (%s, %s)", ["c", 500])
    async with db.schema_editor() as editor:
        await editor.remove_constraint(v2, "sef_size_lte_100")
    await matches(db, v1)
    assert await rows(db, "name, size") == [("a", 1), ("b", 2)]


# -- execute, collect_sql, concurrently ------------------------------------------------------
async def test_execute_takes_params_and_collect_sql_shows_them(db: Database) -> None:
    await create(db, V1)
    async with db.schema_editor() as editor:
        await editor.execute(f"INSERT INTO {TABLE} (name) VALUES (%s)", ["it's 100%"])
    assert await rows(db, "name") == [("it's 100%",)]
    async with db.schema_editor(collect_sql=True) as editor:
        await editor.execute(f"UPDATE {TABLE} SET name = %s WHERE name LIKE '50%%'", ["o'k"])
    assert editor.collected_sql[0].startswith(f"UPDATE {TABLE} SET name = 'o")
    assert editor.collected_sql[0].endswith("WHERE name LIKE '50%'")


async def test_collect_sql_of_field_changes_runs_nothing(db: Database) -> None:
    await create(db, V1, [("a",)])
    v2 = version(name=models.CharField(max_length=20), size=models.IntegerField(default=7))
    async with db.schema_editor(collect_sql=True) as editor:
        await editor.add_field(v2, v2._meta.get_field("size"))
    assert editor.collected_sql
    assert any("size" in sql for sql in editor.collected_sql)
    await matches(db, V1)


@pytest.mark.backends("postgresql")
async def test_concurrent_index_on_postgresql(db: Database, caplog: Any) -> None:
    v1 = version({"indexes": [models.Index(fields=["name"], name="sef_name_idx")]},
                 name=models.CharField(max_length=20))
    async with db.schema_editor() as editor:
        await editor.create_model(V1)
    with captured(caplog) as ran:
        async with db.schema_editor(atomic=False) as editor:
            await editor.add_index(v1, "sef_name_idx", concurrently=True)
    assert f"CREATE INDEX CONCURRENTLY sef_name_idx ON {TABLE} (name)" in ran
    await matches(db, v1)
    with captured(caplog) as ran:
        async with db.schema_editor(atomic=False) as editor:
            await editor.remove_index(v1, "sef_name_idx", concurrently=True)
    assert "DROP INDEX CONCURRENTLY sef_name_idx" in ran


# -- SQLite rebuilds -----------------------------------------------------------------------
@pytest.mark.backends("sqlite")
async def test_sqlite_rebuild_keeps_rows_ids_and_foreign_keys_pointing_at_it(
    db: Database, caplog: Any
) -> None:
    v1 = version(name=models.CharField(max_length=20), size=models.IntegerField(null=True))
    await create(db, v1, [("a", 1), ("b", None), ("c", 3)], "name, size")
    await db.execute(f"DELETE FROM {TABLE} WHERE name = 'c'")
    await db.execute(f"CREATE TABLE {CHILD} (id INTEGER PRIMARY KEY, item_id INTEGER "
                     f"REFERENCES {TABLE} (id) ON DELETE CASCADE)")
    await db.execute(f"INSERT INTO {CHILD} (item_id) VALUES (1), (2)")
    v2 = version(name=models.CharField(max_length=20), size=models.IntegerField(default=0))
    with captured(caplog) as ran:
        await alter(db, v1, v2, "size")
    assert any(s.startswith(f"CREATE TABLE new__{TABLE}") for s in ran), "rebuilt"
    assert "PRAGMA foreign_keys = OFF" in ran and "PRAGMA foreign_key_check" in ran
    await matches(db, v2)
    assert await rows(db, "id, name, size") == [(1, "a", 1), (2, "b", 0)]
    assert await rows(db, "item_id", CHILD) == [(1,), (2,)], "no cascade from the drop"
    assert await db.fetch_val("PRAGMA foreign_keys") == 1, "back on for the pool"
    await db.execute(f"INSERT INTO {TABLE} (name, size) VALUES (%s, %s)", ["d", 4])
    assert (await rows(db, "id"))[-1] == (4,), "ids of deleted rows stay unused"


@pytest.mark.backends("sqlite")
async def test_sqlite_rebuild_inside_a_transaction_refuses_when_referenced(db: Database) -> None:
    v1 = version(name=models.CharField(max_length=20), size=models.IntegerField(null=True))
    await create(db, v1, [("a", 1)], "name, size")
    await db.execute(f"CREATE TABLE {CHILD} (id INTEGER PRIMARY KEY, item_id INTEGER "
                     f"REFERENCES {TABLE} (id) ON DELETE CASCADE)")
    await db.execute(f"INSERT INTO {CHILD} (item_id) VALUES (1)")
    v2 = version(name=models.CharField(max_length=20), size=models.IntegerField(default=0))
    with pytest.raises(NotSupportedError, match=rf"{CHILD} refer\(s\) to it.*outside transaction"):
        async with db.transaction():
            await alter(db, v1, v2, "size")
    assert await rows(db, "item_id", CHILD) == [(1,)]


@pytest.mark.backends("sqlite")
async def test_sqlite_rebuild_that_breaks_a_foreign_key_rolls_back(db: Database) -> None:
    v1 = version(name=models.CharField(max_length=20))
    await create(db, v1, [("a",)])
    await db.execute(f"CREATE TABLE {CHILD} (id INTEGER PRIMARY KEY, item_id INTEGER "
                     f"REFERENCES {TABLE} (id))")
    await db.execute(f"INSERT INTO {CHILD} (item_id) VALUES (1)")
    v2 = version(name=models.CharField(max_length=20, unique=True))
    with pytest.raises(IntegrityError, match="foreign key check failed"):
        async with db.schema_editor() as editor:
            await editor.alter_field(v2, v1._meta.get_field("name"), v2._meta.get_field("name"))
            await editor.execute(f"DELETE FROM {TABLE}")
    assert await rows(db, "name") == [("a",)]
    await matches(db, v1)
