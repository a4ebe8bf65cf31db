"""``db.ops`` parts the query-layer tests do not reach on a live server.

The SQL every built-in lookup, transform, aggregate and write produces through
``ops`` runs on all three servers in ``tests/models``; here: column types of
user field subclasses, widening INSERTs, id assignment without RETURNING, what
each backend refuses, and the flags ``features`` gives the query layer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from reinhardt_db import models
from reinhardt_db.backends import DatabaseOperations
from reinhardt_db.backends.vendors import features_for, operations_for
from reinhardt_db.exceptions import NotSupportedError

VENDORS = ("sqlite", "postgresql", "mysql")
DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect(), "mysql": mysql.dialect()}


def ddl(field: models.Field[Any], vendor: str) -> str:
    return str(field.sa_type().compile(dialect=DIALECTS[vendor]))


class NotesField(models.TextField):
    """Inherits TextField's column type, so MySQL's LONGTEXT applies."""


class CodeField(models.TextField):
    """Declares its own column type: no backend overrides it."""

    def column_type(self) -> sa.types.TypeEngine[Any]:
        return sa.String(12)


class Stamp(models.DateTimeField):
    pass


def test_field_subclasses_keep_their_parents_backend_types_unless_they_declare_one() -> None:
    assert [ddl(NotesField(), v) for v in VENDORS] == ["TEXT", "TEXT", "LONGTEXT"]
    assert [ddl(CodeField(), v) for v in VENDORS] == ["VARCHAR(12)"] * 3
    assert [ddl(Stamp(), v) for v in VENDORS] == [
        "DATETIME", "TIMESTAMP WITH TIME ZONE", "DATETIME(6)",
    ]
    assert ddl(models.BigAutoField(primary_key=True), "sqlite") == "INTEGER"
    assert ddl(models.BigIntegerField(), "sqlite") == "BIGINT"


def test_bulk_insert_sql_repeats_the_values_group() -> None:
    one = "INSERT INTO t (a, b) VALUES (?, CAST(? AS TEXT)) RETURNING t.id"
    assert operations_for("sqlite").bulk_insert_sql(one, 3, 2) == (
        "INSERT INTO t (a, b) VALUES (?, CAST(? AS TEXT)), (?, CAST(? AS TEXT)), "
        "(?, CAST(? AS TEXT)) RETURNING t.id"
    )
    assert operations_for("mysql").bulk_insert_sql(
        "INSERT INTO t (a) VALUES (%s)", 2, 1
    ) == "INSERT INTO t (a) VALUES (%s), (%s)"


def test_bulk_insert_sql_renumbers_postgresql_placeholders() -> None:
    one = "INSERT INTO t (a, b) VALUES ($1, $2) RETURNING t.id"
    assert operations_for("postgresql").bulk_insert_sql(one, 3, 2) == (
        "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6) RETURNING t.id"
    )


def test_bulk_insert_sql_needs_a_values_group() -> None:
    with pytest.raises(ValueError, match="no complete VALUES group"):
        operations_for("sqlite").bulk_insert_sql("INSERT INTO t DEFAULT VALUES", 2, 0)


def test_ids_of_a_multi_row_insert_without_returning() -> None:
    asked: list[str] = []

    def server(lock_mode: int, increment: int) -> Any:
        async def fetch_row(sql: str) -> tuple[int, int]:
            asked.append(sql)
            return (lock_mode, increment)

        return fetch_row

    async def ids(ops: DatabaseOperations, rows: int, fetch_row: Any) -> Any:
        return await ops.bulk_insert_ids(40, rows, fetch_row)

    base = DatabaseOperations()
    assert asyncio.run(ids(base, 1, server(1, 1))) == range(40, 41)
    assert asyncio.run(ids(base, 3, server(1, 1))) is None
    # SQLite reports the last row's id; one INSERT's AUTOINCREMENT ids are consecutive.
    sqlite_ops = operations_for("sqlite")
    assert asyncio.run(ids(sqlite_ops, 1, server(1, 1))) == range(40, 41)
    assert asyncio.run(ids(sqlite_ops, 3, server(1, 1))) == range(38, 41)
    assert asked == []

    mysql_ops = type(operations_for("mysql"))()  # one per Database: it caches the answer
    assert asyncio.run(ids(mysql_ops, 3, server(1, 1))) == range(40, 43)
    assert asyncio.run(ids(mysql_ops, 2, server(1, 1))) == range(40, 42)
    assert len(asked) == 1 and "innodb_autoinc_lock_mode" in asked[0]
    interleaved = type(operations_for("mysql"))()
    assert asyncio.run(ids(interleaved, 3, server(2, 1))) is None
    assert asyncio.run(ids(type(operations_for("mysql"))(), 3, server(1, 2))) is None


@pytest.mark.parametrize("vendor", VENDORS)
def test_an_unknown_date_part_names_the_backend(vendor: str) -> None:
    ops = operations_for(vendor)
    with pytest.raises(NotSupportedError, match=f"{ops.display_name} cannot extract 'decade'"):
        ops.extract("decade", sa.column("d"))


def test_what_the_base_operations_refuse_names_the_backend() -> None:
    class Bare(DatabaseOperations):
        vendor = "bare"
        display_name = "Bare"

    bare = Bare()
    column = sa.column("doc")
    with pytest.raises(NotSupportedError, match="'contains' lookup is not supported on Bare"):
        bare.json_contains(column, column)
    with pytest.raises(NotSupportedError, match="'contained_by' lookup is not supported on Bare"):
        bare.json_contained_by(column, column)
    with pytest.raises(NotSupportedError, match="JSON key lookups are not supported on Bare"):
        bare.json_has_key(column, column, column, sa.literal)
    with pytest.raises(NotSupportedError, match=r"DISTINCT ON\).*not supported on Bare"):
        bare.distinct_on(sa.select(column), [column])
    assert bare.vendor_method(object()) is None
    assert DatabaseOperations().vendor_method(type("L", (), {"as_": 1})()) is None


def test_vendor_method_finds_the_as_vendor_hook() -> None:
    class Lookup:
        def as_mysql(self) -> str:
            return "mysql"

    assert operations_for("mysql").vendor_method(Lookup()) is not None
    assert operations_for("postgresql").vendor_method(Lookup()) is None


def test_query_layer_flags() -> None:
    flags = {
        v: (f.supports_order_by_nulls_modifier, f.supports_statistical_aggregates,
            f.supports_select_for_update)
        for v in VENDORS
        for f in [features_for(v)]
    }
    assert flags == {
        "sqlite": (True, True, False),  # STDDEV_POP ... registered by the driver
        "postgresql": (True, True, True),
        "mysql": (False, True, True),
    }
