"""create_tables / drop_tables on the real databases: the DDL exists and is enforced."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.exceptions import DatabaseError, IntegrityError
from reinhardt_db.models.query_utils import Q
from reinhardt_db.models.schema import create_tables, drop_tables
from reinhardt_db.testing import isolate_apps

UTC = dt.UTC


class Member(models.Model):
    username = models.CharField(max_length=30, unique=True, db_comment="login name")
    age = models.PositiveSmallIntegerField(default=0)
    role = models.CharField(max_length=10, db_default="member", db_index=True)
    balance = models.DecimalField(max_digits=12, decimal_places=2, db_default=Decimal("1.5"))
    active = models.BooleanField(db_default=True)
    joined = models.DateTimeField(db_default=sa.func.current_timestamp())
    settings = models.JSONField(db_default={"theme": "dark"})
    token = models.UUIDField(db_default=uuid.UUID(int=1))
    grace = models.DurationField(db_default=dt.timedelta(days=1, microseconds=5))
    day = models.DateField(db_default=dt.date(2024, 2, 29))

    class Meta:
        app_label = "tests_schema"
        unique_together = [("role", "age")]
        indexes = [
            models.Index(fields=["-joined", "role"], name="member_recent_idx"),
            models.Index(fields=["age"], name="member_adult_idx", condition=Q(age__gte=18)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(age__lte=150), name="member_age_lte_150"),
            models.UniqueConstraint(
                fields=["role"], name="member_one_owner", condition=Q(role="owner")
            ),
        ]


TABLE = "tests_schema_member"


async def index_names(db: Database, table: str) -> set[str]:
    sql = {
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s",
        "postgresql": "SELECT indexname FROM pg_indexes WHERE tablename = %s",
        "mysql": "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS "
                 "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
    }[db.vendor]
    return {row[0] for row in await db.fetch_all(sql, [table])}


async def table_exists(db: Database, table: str) -> bool:
    sql = {
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table' AND name = %s",
        "postgresql": "SELECT tablename FROM pg_tables WHERE tablename = %s",
        "mysql": "SELECT TABLE_NAME FROM information_schema.TABLES "
                 "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
    }[db.vendor]
    return bool(await db.fetch_all(sql, [table]))


async def insert(db: Database, **values: Any) -> None:
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    await db.execute(f"INSERT INTO {TABLE} ({columns}) VALUES ({marks})", list(values.values()))


async def test_indexes_and_constraints_exist(backend: Database, make_tables: Any) -> None:
    await make_tables(Member)
    names = await index_names(backend, TABLE)
    assert {"member_recent_idx", "tests_schema_member_role_idx"} <= names
    if backend.vendor == "mysql":
        assert "member_adult_idx" not in names and "member_one_owner" not in names
    else:
        assert {"member_adult_idx", "member_one_owner"} <= names


async def test_database_defaults_fill_omitted_columns(backend: Database, make_tables: Any) -> None:
    await make_tables(Member)
    await insert(backend, username="ann", age=0)
    meta = Member._meta
    names = ["role", "balance", "active", "joined", "settings", "token", "grace", "day", "age"]
    table = meta.table
    select = sa.select(*[table.c[meta.get_field(n).column] for n in names])
    row = (await backend.fetch_rows(str(select.compile(dialect=backend.dialect)), []))[0]
    values = {}
    for name, raw in zip(names, row, strict=True):
        converter = meta.get_field(name).get_db_converter(backend.vendor)
        values[name] = raw if converter is None else converter(raw)
    assert values["role"] == "member"
    assert values["balance"] == Decimal("1.5")
    assert values["active"] is True
    assert abs(values["joined"] - dt.datetime.now(UTC)) < dt.timedelta(minutes=5)
    assert values["settings"] == {"theme": "dark"}
    assert values["token"] == uuid.UUID(int=1)
    assert values["grace"] == dt.timedelta(days=1, microseconds=5)
    assert values["day"] == dt.date(2024, 2, 29)


async def test_unique_fields_and_unique_together_are_enforced(
    backend: Database, make_tables: Any
) -> None:
    await make_tables(Member)
    await insert(backend, username="ann", age=1, role="a")
    with pytest.raises(IntegrityError):
        await insert(backend, username="ann", age=2, role="b")
    with pytest.raises(IntegrityError):
        await insert(backend, username="bob", age=1, role="a")
    await insert(backend, username="bob", age=2, role="a")


async def test_check_constraints_are_enforced(backend: Database, make_tables: Any) -> None:
    await make_tables(Member)
    with pytest.raises(IntegrityError):
        await insert(backend, username="neg", age=-1)  # PositiveSmallIntegerField
    with pytest.raises(IntegrityError):
        await insert(backend, username="old", age=151)  # CheckConstraint(Q(age__lte=150))
    await insert(backend, username="ok", age=150)


@pytest.mark.backends("sqlite", "postgresql")
async def test_conditional_unique_constraint_is_a_partial_unique_index(
    backend: Database, make_tables: Any
) -> None:
    await make_tables(Member)
    await insert(backend, username="a", role="member", age=1)
    await insert(backend, username="b", role="member", age=2)
    await insert(backend, username="c", role="owner", age=3)
    with pytest.raises(IntegrityError):
        await insert(backend, username="d", role="owner", age=4)


@pytest.mark.backends("postgresql", "mysql")
async def test_column_comments(backend: Database, make_tables: Any) -> None:
    await make_tables(Member)
    if backend.vendor == "postgresql":
        sql = ("SELECT col_description(%s::regclass, ordinal_position) FROM "
               "information_schema.columns WHERE table_name = %s AND column_name = 'username'")
        params = [TABLE, TABLE]
    else:
        sql = ("SELECT COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
               "DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = 'username'")
        params = [TABLE]
    assert (await backend.fetch_one(sql, params))[0] == "login name"  # type: ignore[index]


async def test_create_and_drop_every_registered_model(backend: Database) -> None:
    with isolate_apps():
        class Alpha(models.Model):
            name = models.CharField(max_length=5, unique=True)

            class Meta:
                app_label = "tests_schema_all"

        class Beta(models.Model):
            n = models.IntegerField(db_index=True)

            class Meta:
                app_label = "tests_schema_all"

        class Unmanaged(models.Model):
            class Meta:
                app_label = "tests_schema_all"
                managed = False

        tables = ["tests_schema_all_alpha", "tests_schema_all_beta"]
        await drop_tables(if_exists=True)
        await create_tables()
        try:
            for table in tables:
                assert await table_exists(backend, table)
            assert not await table_exists(backend, "tests_schema_all_unmanaged")
            with pytest.raises(DatabaseError):
                await create_tables([Alpha])
            await create_tables(if_not_exists=True)  # idempotent
        finally:
            await drop_tables()
        for table in tables:
            assert not await table_exists(backend, table)
        await drop_tables([Alpha, Beta], if_exists=True)  # nothing left: no error
        with pytest.raises(TypeError, match="not a concrete model"):
            await create_tables([Unmanaged._meta])  # type: ignore[list-item]


async def test_drop_tables_with_a_foreign_key_cycle(backend: Database) -> None:
    """Two tables pointing at each other, both rows linked: both tables go."""
    with isolate_apps():
        class Left(models.Model):
            right = models.ForeignKey(
                "tests_schema_cycle.Right", on_delete=models.SET_NULL, null=True, related_name="+"
            )

            class Meta:
                app_label = "tests_schema_cycle"

        class Right(models.Model):
            left = models.ForeignKey(Left, on_delete=models.SET_NULL, null=True, related_name="+")

            class Meta:
                app_label = "tests_schema_cycle"

        await drop_tables([Left, Right], if_exists=True)
        await create_tables([Left, Right])
        left = await Left.objects.create()
        right = await Right.objects.create(left=left)
        left.right = right
        await left.save()
        await drop_tables([Left, Right])
        for table in ("tests_schema_cycle_left", "tests_schema_cycle_right"):
            assert not await table_exists(backend, table)
        await drop_tables([Left, Right], if_exists=True)  # nothing left: no error


@pytest.mark.backends("sqlite")
async def test_sqlite_decimal_text_compares_and_sorts_numerically(
    backend: Database, make_tables: Any
) -> None:
    """Exact text storage, numeric ordering through the column's comparator."""
    await make_tables(Member)
    field = Member._meta.get_field("balance")
    for i, amount in enumerate(["10.5", "9.25", "1234567890.12", "-3"]):
        await insert(backend, username=f"u{i}", age=i,
                     balance=field.get_db_prep_value(Decimal(amount), "sqlite"))
    column = Member._meta.table.c.balance
    select = sa.select(column).where(column > sa.bindparam("low")).order_by(column.desc())
    sql = str(select.compile(dialect=backend.dialect))
    rows = await backend.fetch_rows(sql, [field.get_db_prep_value(Decimal("9.3"), "sqlite")])
    assert [r[0] for r in rows] == ["1234567890.12", "10.50"]


def test_create_and_drop_tables_are_package_level_names() -> None:
    import reinhardt_db
    from reinhardt_db.models import schema

    assert reinhardt_db.create_tables is schema.create_tables
    assert reinhardt_db.drop_tables is schema.drop_tables
