"""``db.schema_editor()`` on each live server, shown by introspection and by ``collect_sql``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.dialects.mysql import aiomysql

from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.backends.dialects import offline_schema_editor
from reinhardt_db.exceptions import IntegrityError, InterfaceError, NotSupportedError
from reinhardt_db.models.query_utils import Q

from .._sql import captured


class Shelf(models.Model):
    name = models.CharField(max_length=20)
    size = models.IntegerField(default=0)
    notes = models.TextField(db_default="none")

    class Meta:
        app_label = "tests_schema_editor"
        indexes = [
            models.Index(fields=["name"], name="shelf_name_idx"),
            models.Index(fields=["size"], name="shelf_big_idx", condition=Q(size__gte=10)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(size__lte=100), name="shelf_size_lte_100"),
            models.UniqueConstraint(fields=["name", "size"], name="shelf_name_size_uniq"),
            models.UniqueConstraint(fields=["name"], name="shelf_one_empty", condition=Q(size=0)),
        ]


class Book(models.Model):
    shelf_id = models.BigIntegerField(null=True)
    title = models.CharField(max_length=50)

    class Meta:
        app_label = "tests_schema_editor"


SHELF = "tests_schema_editor_shelf"
BOOK = "tests_schema_editor_book"


# -- introspection ---------------------------------------------------------------------
async def tables(db: Database) -> set[str]:
    sql = {
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
        "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
        "mysql": "SELECT TABLE_NAME FROM information_schema.TABLES "
                 "WHERE TABLE_SCHEMA = DATABASE()",
    }[db.vendor]
    return {row[0] for row in await db.fetch_all(sql)}


async def indexes(db: Database, table: str) -> set[str]:
    sql = {
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                  "AND sql IS NOT NULL",
        "postgresql": "SELECT indexname FROM pg_indexes WHERE tablename = %s",
        "mysql": "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS "
                 "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
    }[db.vendor]
    return {row[0] for row in await db.fetch_all(sql, [table])}


async def constraints(db: Database, table: str) -> dict[str, str]:
    """Constraint name -> type (``CHECK``, ``UNIQUE``, ``FOREIGN KEY``, ``PRIMARY KEY``)."""
    if db.vendor == "sqlite":
        sql = await db.fetch_val(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table]
        )
        found = {}
        for part in str(sql).split("CONSTRAINT ")[1:]:
            name, rest = part.split(" ", 1)
            found[name] = "CHECK" if rest.startswith("CHECK") else "UNIQUE"
        return found
    schema = "DATABASE()" if db.vendor == "mysql" else "current_schema()"
    rows = await db.fetch_all(
        "SELECT constraint_name, constraint_type FROM information_schema.table_constraints "
        f"WHERE table_schema = {schema} AND table_name = %s",
        [table],
    )
    return {row[0]: row[1] for row in rows}


async def insert_shelf(db: Database, name: str, size: int) -> None:
    await db.execute(f"INSERT INTO {SHELF} (name, size) VALUES (%s, %s)", [name, size])


@pytest.fixture
async def shelf(backend: Database) -> Any:
    async with backend.schema_editor() as editor:
        await editor.delete_model(Book, if_exists=True)
        await editor.delete_model(Shelf, if_exists=True)
        await editor.create_model(Shelf)
        await editor.create_model(Book)
    yield backend
    async with backend.schema_editor() as editor:
        await editor.delete_model(Book, if_exists=True)
        await editor.delete_model(Shelf, if_exists=True)


# -- tables ----------------------------------------------------------------------------
async def test_create_model_makes_table_indexes_and_constraints(shelf: Database) -> None:
    db = shelf
    assert {SHELF, BOOK} <= await tables(db)
    names = await indexes(db, SHELF)
    assert "shelf_name_idx" in names
    partial = {"shelf_big_idx", "shelf_one_empty"}
    if db.features.supports_partial_indexes:
        assert partial <= names
    else:
        assert not partial & names, "no partial indexes on this server: left out"
    found = await constraints(db, SHELF)
    assert found["shelf_size_lte_100"] == "CHECK"
    assert found["shelf_name_size_uniq"] == "UNIQUE"
    if db.vendor != "sqlite":  # SQLite writes its primary key inline, unnamed
        assert "PRIMARY KEY" in found.values()


async def test_delete_model_drops_the_table(shelf: Database) -> None:
    async with shelf.schema_editor() as editor:
        await editor.delete_model(Book)
    assert BOOK not in await tables(shelf)
    assert SHELF in await tables(shelf)


# -- indexes ---------------------------------------------------------------------------
async def test_remove_and_add_index(shelf: Database) -> None:
    async with shelf.schema_editor() as editor:
        await editor.remove_index(Shelf, "shelf_name_idx")
        await editor.remove_index(Shelf, Shelf._meta.indexes[1])  # partial
    names = await indexes(shelf, SHELF)
    assert "shelf_name_idx" not in names and "shelf_big_idx" not in names
    async with shelf.schema_editor() as editor:
        await editor.add_index(Shelf, Shelf._meta.indexes[0])
        await editor.add_index(Shelf, "shelf_big_idx")
    names = await indexes(shelf, SHELF)
    assert "shelf_name_idx" in names
    assert ("shelf_big_idx" in names) == shelf.features.supports_partial_indexes


async def test_unknown_index_or_constraint_names_what_the_model_has(shelf: Database) -> None:
    async with shelf.schema_editor() as editor:
        with pytest.raises(ValueError, match=r"no index named 'nope'.*shelf_name_idx"):
            await editor.add_index(Shelf, "nope")
        with pytest.raises(ValueError, match=r"no constraint named 'nope'.*shelf_size_lte_100"):
            await editor.remove_constraint(Shelf, "nope")


# -- constraints -----------------------------------------------------------------------
@pytest.mark.backends("postgresql", "mysql")
async def test_remove_and_add_check_and_unique_constraints(shelf: Database) -> None:
    """By name, on the live table. SQLite rebuilds the table from the model instead
    (test_schema_editor_fields.py), so there the model must be the one after the change."""
    db = shelf
    async with db.schema_editor() as editor:
        await editor.remove_constraint(Shelf, "shelf_size_lte_100")  # MariaDB: DROP CONSTRAINT
        await editor.remove_constraint(Shelf, Shelf._meta.constraints[1])
    found = await constraints(db, SHELF)
    assert "shelf_size_lte_100" not in found and "shelf_name_size_uniq" not in found
    await insert_shelf(db, "big", 500)
    await insert_shelf(db, "twin", 5)
    await insert_shelf(db, "twin", 5)
    await db.execute(f"DELETE FROM {SHELF}")
    async with db.schema_editor() as editor:
        await editor.add_constraint(Shelf, "shelf_size_lte_100")
        await editor.add_constraint(Shelf, "shelf_name_size_uniq")
    found = await constraints(db, SHELF)
    assert found["shelf_size_lte_100"] == "CHECK"
    assert found["shelf_name_size_uniq"] == "UNIQUE"
    with pytest.raises(IntegrityError):
        await insert_shelf(db, "big", 500)
    await insert_shelf(db, "twin", 5)
    with pytest.raises(IntegrityError):
        await insert_shelf(db, "twin", 5)


async def test_conditional_unique_constraint_is_a_partial_index(shelf: Database) -> None:
    db = shelf
    async with db.schema_editor() as editor:
        await editor.remove_constraint(Shelf, "shelf_one_empty")
    assert "shelf_one_empty" not in await indexes(db, SHELF)
    async with db.schema_editor() as editor:
        await editor.add_constraint(Shelf, "shelf_one_empty")
    if db.features.supports_partial_indexes:
        assert "shelf_one_empty" in await indexes(db, SHELF)
        await insert_shelf(db, "a", 0)
        with pytest.raises(IntegrityError):
            await insert_shelf(db, "a", 0)


@pytest.mark.backends("sqlite")
async def test_sqlite_cannot_add_a_foreign_key_by_table_name(shelf: Database) -> None:
    async with shelf.schema_editor() as editor:
        with pytest.raises(NotSupportedError, match="must be rebuilt"):
            await editor.create_foreign_key(BOOK, ["shelf_id"], SHELF, ["id"])


# -- foreign keys ----------------------------------------------------------------------
@pytest.mark.backends("postgresql", "mysql")
async def test_create_and_remove_foreign_key(shelf: Database) -> None:
    db = shelf
    async with db.schema_editor() as editor:
        name = await editor.create_foreign_key(
            BOOK, ["shelf_id"], SHELF, ["id"], on_delete="CASCADE"
        )
    assert name == f"{BOOK}_shelf_id_fk_{SHELF}"
    assert (await constraints(db, BOOK))[name] == "FOREIGN KEY"
    with pytest.raises(IntegrityError):
        await db.execute(f"INSERT INTO {BOOK} (shelf_id, title) VALUES (%s, %s)", [404, "lost"])
    await insert_shelf(db, "s", 1)
    shelf_id = await db.fetch_val(f"SELECT id FROM {SHELF}")
    await db.execute(f"INSERT INTO {BOOK} (shelf_id, title) VALUES (%s, %s)", [shelf_id, "ok"])
    await db.execute(f"DELETE FROM {SHELF}")
    assert await db.fetch_val(f"SELECT count(*) FROM {BOOK}") == 0, "ON DELETE CASCADE"
    async with db.schema_editor() as editor:
        await editor.remove_foreign_key(BOOK, name)
    assert name not in await constraints(db, BOOK)
    await db.execute(f"INSERT INTO {BOOK} (shelf_id, title) VALUES (%s, %s)", [404, "free"])


async def test_foreign_key_needs_matching_columns(backend: Database) -> None:
    editor = offline_schema_editor(backend.dialect)
    with pytest.raises(ValueError, match="as many referenced columns"):
        await editor.create_foreign_key(BOOK, ["a", "b"], SHELF, ["id"])


# -- collect_sql -----------------------------------------------------------------------
async def test_collect_sql_records_instead_of_running(backend: Database) -> None:
    async with backend.schema_editor(collect_sql=True) as editor:
        await editor.create_model(Shelf)
        await editor.add_index(Shelf, "shelf_name_idx")
        await editor.remove_constraint(Shelf, "shelf_one_empty")
        if backend.features.supports_alter_table_constraints:
            await editor.create_foreign_key(BOOK, ["shelf_id"], SHELF, ["id"],
                                            on_delete="SET NULL")
    sql = editor.collected_sql
    assert SHELF not in await tables(backend), "nothing ran"
    assert sql[0].startswith(f"CREATE TABLE {SHELF} (")
    assert "CONSTRAINT shelf_size_lte_100 CHECK (size <= 100)" in sql[0]
    assert f"CREATE INDEX shelf_name_idx ON {SHELF} (name)" in sql
    assert sql.count(f"CREATE INDEX shelf_name_idx ON {SHELF} (name)") == 2
    partial = f"CREATE INDEX shelf_big_idx ON {SHELF} (size) WHERE size >= 10"
    assert (partial in sql) == backend.features.supports_partial_indexes
    if backend.features.supports_partial_indexes:
        assert sql[-2 if backend.features.supports_alter_table_constraints else -1] == (
            "DROP INDEX shelf_one_empty"
        )
    fk = {
        "postgresql": f"ALTER TABLE {BOOK} ADD CONSTRAINT {BOOK}_shelf_id_fk_{SHELF} FOREIGN "
                      f"KEY(shelf_id) REFERENCES {SHELF} (id) ON DELETE SET NULL DEFERRABLE "
                      "INITIALLY DEFERRED",
        "mysql": f"ALTER TABLE {BOOK} ADD CONSTRAINT {BOOK}_shelf_id_fk_{SHELF} FOREIGN "
                 f"KEY(shelf_id) REFERENCES {SHELF} (id) ON DELETE SET NULL",
    }
    if backend.vendor in fk:
        assert sql[-1] == fk[backend.vendor]
    if backend.vendor == "postgresql":
        assert "notes TEXT DEFAULT 'none' NOT NULL" in sql[0]
    if backend.vendor == "mysql":
        assert "notes LONGTEXT NOT NULL DEFAULT ('none')" in sql[0]
        assert sql[0].endswith("ENGINE=InnoDB CHARSET=utf8mb4")


async def test_collect_sql_matches_what_runs(backend: Database, caplog: Any) -> None:
    async with backend.schema_editor(collect_sql=True) as editor:
        await editor.create_model(Shelf)
    with captured(caplog) as ran:
        async with backend.schema_editor() as live:
            await live.create_model(Shelf)
    try:
        assert [s for s in ran if s in editor.collected_sql] == editor.collected_sql
    finally:
        async with backend.schema_editor() as live:
            await live.delete_model(Shelf)


# -- the block -------------------------------------------------------------------------
async def test_block_is_atomic_where_ddl_is_transactional(backend: Database) -> None:
    with pytest.raises(RuntimeError):
        async with backend.schema_editor() as editor:
            await editor.create_model(Book)
            raise RuntimeError("abort")
    kept = BOOK in await tables(backend)
    assert kept == (not backend.features.supports_transactional_ddl)
    async with backend.schema_editor() as editor:
        await editor.delete_model(Book, if_exists=True)


@pytest.mark.backends("sqlite", "postgresql")
async def test_block_joins_the_tasks_open_transaction(backend: Database) -> None:
    with pytest.raises(RuntimeError):
        async with backend.transaction():
            async with backend.schema_editor() as editor:
                await editor.create_model(Book)
            assert BOOK in await tables(backend)
            raise RuntimeError("roll the outer transaction back")
    assert BOOK not in await tables(backend)


async def test_deferred_sql_runs_at_the_end_of_the_block(backend: Database) -> None:
    async with backend.schema_editor() as editor:
        await editor.create_model(Book)
        editor.deferred_sql.append(f"DROP TABLE {BOOK}")
        assert BOOK in await tables(backend)
    assert BOOK not in await tables(backend)
    assert editor.deferred_sql == []


async def test_statements_outside_the_block_are_refused(backend: Database) -> None:
    editor = backend.schema_editor()
    with pytest.raises(InterfaceError, match=r"async with db\.schema_editor"):
        await editor.create_model(Book)
    assert BOOK not in await tables(backend)


@pytest.mark.backends("mysql")
async def test_if_not_exists_without_create_index_if_not_exists(
    backend: Database, caplog: Any
) -> None:
    """MySQL's gap (MariaDB has it): existing indexes are looked up, then left alone."""
    await backend.fetch_val("SELECT 1")
    backend.features = replace(backend.features, supports_index_if_not_exists=False)
    try:
        with captured(caplog) as ran:
            async with backend.schema_editor() as editor:
                await editor.create_model(Shelf, if_not_exists=True)
                await editor.create_model(Shelf, if_not_exists=True)
        assert "shelf_name_idx" in await indexes(backend, SHELF)
        creates = [s for s in ran if s.startswith("CREATE INDEX")]
        assert creates == [f"CREATE INDEX shelf_name_idx ON {SHELF} (name)"]
        assert sum("information_schema.STATISTICS" in s for s in ran) == 2
    finally:
        async with backend.schema_editor() as editor:
            await editor.delete_model(Shelf, if_exists=True)


def test_expression_defaults_refused_where_the_server_has_none() -> None:
    dialect = aiomysql.dialect(paramstyle="format")
    old = replace(offline_schema_editor(dialect).features, supports_expression_defaults=False,
                  server_version=(8, 0, 12))
    editor = offline_schema_editor(dialect, old)
    with pytest.raises(NotSupportedError, match=r"tests_schema_editor_shelf\.notes.*LONGTEXT"):
        editor.create_model_sql(Shelf)


def test_a_dialect_without_a_backend_is_refused() -> None:
    from sqlalchemy.dialects import oracle

    from reinhardt_db.models.schema import create_statements

    with pytest.raises(NotSupportedError, match=r"no reinhardt_db backend.*'oracle'"):
        create_statements(Book, oracle.dialect())


def test_an_editor_without_a_database_only_collects() -> None:
    from reinhardt_db.backends.postgresql import PostgreSQLSchemaEditor

    with pytest.raises(TypeError, match="needs a database"):
        PostgreSQLSchemaEditor()
    editor = offline_schema_editor(aiomysql.dialect(paramstyle="format"))
    with pytest.raises(TypeError, match="can only collect SQL"):
        type(editor)(dialect=editor.dialect, features=editor.features, ops=editor.ops)
