"""The backends by vendor name: operations and features without a database, drivers untouched."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.dialects.mysql import mariadb

from reinhardt_db import models
from reinhardt_db.backends import DatabaseOperations
from reinhardt_db.backends.vendors import (
    all_operations,
    features_for,
    operations_for,
    operations_for_dialect,
)


def test_operations_by_vendor_name_are_shared_and_pass_through() -> None:
    ops = operations_for("postgresql")
    assert ops.vendor == "postgresql" and ops.display_name == "PostgreSQL"
    assert operations_for("postgresql") is ops
    assert operations_for(ops) is ops
    assert {o.vendor for o in all_operations()} == {"sqlite", "postgresql", "mysql"}
    assert features_for("mysql").vendor == "mysql"


def test_an_unknown_vendor_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown database vendor 'oracle'.*sqlite, postgresql"):
        operations_for("oracle")
    with pytest.raises(ValueError, match="unknown database vendor 'sqllite'"):
        features_for("sqllite")
    with pytest.raises(ValueError, match="unknown database vendor"):
        models.IntegerField().get_db_prep_value(1, "postgres")


def test_operations_by_dialect() -> None:
    assert operations_for_dialect(mariadb.MariaDBDialect()) is operations_for("mysql")
    assert operations_for_dialect(mysql.dialect()) is operations_for("mysql")
    assert operations_for_dialect(postgresql.dialect()) is operations_for("postgresql")
    assert operations_for_dialect(sqlite.dialect()) is operations_for("sqlite")

    class Other:
        name = "oracle"

    assert operations_for_dialect(Other()) is None  # type: ignore[arg-type]


def test_a_sqlite_program_imports_no_other_driver() -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys
        import reinhardt_db
        from reinhardt_db import models

        reinhardt_db.configure(databases={"default": "sqlite://:memory:"})

        class Note(models.Model):
            text = models.TextField()
            data = models.JSONField(null=True)
            when = models.DateTimeField(null=True)

            class Meta:
                app_label = "probe"

        async def main():
            await reinhardt_db.create_tables([Note])
            await Note.objects.create(text="a", data={"k": 1})
            assert await Note.objects.filter(text__contains="a", data__k=1).count() == 1
            await reinhardt_db.close_all()

        asyncio.run(main())
        print(sorted(m for m in ("asyncpg", "aiomysql", "pymysql") if m in sys.modules))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_field_conversions_are_cached_per_operations_class() -> None:
    field = models.DateTimeField()
    shared = operations_for("sqlite")
    own = type(shared)()  # what a second SQLite Database holds
    assert field.get_db_prep_func(own) is field.get_db_prep_func("sqlite")
    assert field.get_db_converter(own) is field.get_db_converter(shared)
    assert field.sa_type(own) is field.sa_type("sqlite")


def test_an_operations_subclass_is_a_new_backend_for_the_caches() -> None:
    class TracingOperations(type(operations_for("sqlite"))):  # type: ignore[misc]
        def boolean_converter(self) -> None:
            return None

    field = models.BooleanField()
    assert field.get_db_converter("sqlite") is bool
    assert field.get_db_converter(TracingOperations()) is None
    assert isinstance(TracingOperations(), DatabaseOperations)
