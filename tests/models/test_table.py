"""The SQLAlchemy Table of each model, compiled to DDL for every dialect."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.mysql import aiomysql
from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.dialects.sqlite import aiosqlite

from reinhardt_db import models
from reinhardt_db.models.indexes import constraint_name
from reinhardt_db.models.query_utils import Q
from reinhardt_db.models.schema import create_statements, drop_statements

DIALECTS = {
    "sqlite": aiosqlite.dialect(paramstyle="qmark"),
    "postgresql": asyncpg.dialect(paramstyle="numeric_dollar"),
    "mysql": aiomysql.dialect(paramstyle="format"),
}


class Account(models.Model):
    username = models.CharField(max_length=30, unique=True, db_comment="login name")
    age = models.PositiveSmallIntegerField(default=0)
    role = models.CharField(max_length=10, db_default="member", db_index=True)
    balance = models.DecimalField(max_digits=12, decimal_places=2, db_default=Decimal("0"))
    active = models.BooleanField(db_default=True)
    joined = models.DateTimeField(db_default=sa.func.current_timestamp())
    settings = models.JSONField(db_default={"theme": "dark"})
    token = models.UUIDField(db_default=uuid.UUID(int=1))
    grace = models.DurationField(db_default=dt.timedelta(days=1, microseconds=5))
    avatar = models.BinaryField(null=True, db_default=b"\x00\xff")
    order = models.IntegerField(null=True, db_column="sort_order")

    class Meta:
        app_label = "tests_table"
        unique_together = [("role", "age")]
        indexes = [
            models.Index(fields=["-joined", "role"], name="acct_recent_idx"),
            models.Index(fields=["age"], name="acct_adult_idx", condition=Q(age__gte=18)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(age__lte=150), name="acct_age_lte_150"),
            models.UniqueConstraint(fields=["username", "role"], name="acct_user_role_uniq"),
            models.UniqueConstraint(
                fields=["role"], name="acct_one_owner", condition=Q(role="owner")
            ),
        ]


class Line(models.Model):
    order_id = models.BigIntegerField()
    line_no = models.SmallIntegerField()
    sku = models.SlugField()
    pk = models.CompositePrimaryKey("order_id", "line_no")

    class Meta:
        app_label = "tests_table"


class Counter(models.Model):
    id = models.SmallAutoField(primary_key=True)
    code = models.IntegerField(unique=True)

    class Meta:
        app_label = "tests_table"


class Natural(models.Model):
    code = models.CharField(max_length=5, primary_key=True)
    number = models.IntegerField()

    class Meta:
        app_label = "tests_table"


def ddl(model: type[models.Model], vendor: str) -> str:
    return "\n".join(create_statements(model, DIALECTS[vendor]))


def test_table_shape() -> None:
    table = Account._meta.table
    assert table is Account._meta.table, "built once"
    assert table.name == "tests_table_account"
    assert list(table.c.keys())[:3] == ["id", "username", "age"]
    assert "sort_order" in table.c and table.c.sort_order.nullable
    assert table.info["model"] is Account
    assert table.c.username.info["field"] is Account._meta.get_field("username")


def test_postgresql_ddl() -> None:
    sql = ddl(Account, "postgresql")
    for fragment in [
        "id BIGSERIAL NOT NULL",
        "username VARCHAR(30) NOT NULL",
        "age SMALLINT NOT NULL",
        "role VARCHAR(10) DEFAULT 'member' NOT NULL",
        "balance NUMERIC(12, 2) DEFAULT 0 NOT NULL",
        "active BOOLEAN DEFAULT true NOT NULL",
        "joined TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL",
        "settings JSONB DEFAULT '{\"theme\": \"dark\"}' NOT NULL",
        "token UUID DEFAULT '00000000-0000-0000-0000-000000000001' NOT NULL",
        "grace INTERVAL DEFAULT '86400000005 microseconds'::interval NOT NULL",
        "avatar BYTEA DEFAULT '\\x00ff'::bytea",
        "sort_order INTEGER",
        "PRIMARY KEY (id)",
        "CONSTRAINT tests_table_account_username_uniq UNIQUE (username)",
        "CONSTRAINT tests_table_account_age_check CHECK (age >= 0)",
        "CONSTRAINT tests_table_account_role_age_uniq UNIQUE (role, age)",
        "CONSTRAINT acct_age_lte_150 CHECK (age <= 150)",
        "CONSTRAINT acct_user_role_uniq UNIQUE (username, role)",
        "CREATE INDEX acct_adult_idx ON tests_table_account (age) WHERE age >= 18",
        "CREATE INDEX acct_recent_idx ON tests_table_account (joined DESC, role)",
        "CREATE UNIQUE INDEX acct_one_owner ON tests_table_account (role) WHERE role = 'owner'",
        "CREATE INDEX tests_table_account_role_idx ON tests_table_account (role)",
        "COMMENT ON COLUMN tests_table_account.username IS 'login name'",
    ]:
        assert fragment in sql, fragment


def test_mysql_ddl() -> None:
    sql = ddl(Account, "mysql")
    for fragment in [
        "id BIGINT NOT NULL AUTO_INCREMENT",
        "username VARCHAR(30) NOT NULL COMMENT 'login name'",
        "active BOOL NOT NULL DEFAULT 1",
        "joined DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP",
        "settings JSON NOT NULL DEFAULT ('{\"theme\": \"dark\"}')",
        "token CHAR(32) NOT NULL DEFAULT '00000000000000000000000000000001'",
        "grace BIGINT NOT NULL DEFAULT 86400000005",
        "avatar LONGBLOB DEFAULT (X'00ff')",
        "CONSTRAINT tests_table_account_age_check CHECK (age >= 0)",
        "CONSTRAINT acct_age_lte_150 CHECK (age <= 150)",
        "ENGINE=InnoDB CHARSET=utf8mb4",
        "CREATE INDEX acct_recent_idx ON tests_table_account (joined DESC, `role`)",
    ]:
        assert fragment in sql, fragment
    assert "acct_adult_idx" not in sql, "MySQL has no partial indexes"
    assert "acct_one_owner" not in sql
    assert "COMMENT ON" not in sql


def test_sqlite_ddl() -> None:
    sql = ddl(Account, "sqlite")
    for fragment in [
        "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT",
        "balance DECIMAL_TEXT(12, 2) DEFAULT '0.00' NOT NULL",
        "active BOOLEAN DEFAULT 1 NOT NULL",
        "joined DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL",
        "token CHAR(32) DEFAULT '00000000000000000000000000000001' NOT NULL",
        "grace BIGINT DEFAULT 86400000005 NOT NULL",
        "avatar BLOB DEFAULT (X'00ff')",
        "CREATE INDEX acct_adult_idx ON tests_table_account (age) WHERE age >= 18",
        "CREATE UNIQUE INDEX acct_one_owner ON tests_table_account (role) WHERE role = 'owner'",
    ]:
        assert fragment in sql, fragment
    assert "COMMENT" not in sql


@pytest.mark.parametrize("vendor", list(DIALECTS))
def test_composite_and_natural_keys(vendor: str) -> None:
    line = ddl(Line, vendor)
    assert "PRIMARY KEY (order_id, line_no)" in line
    assert "AUTO_INCREMENT" not in line and "SERIAL" not in line and "AUTOINCREMENT" not in line
    assert "tests_table_line_sku_idx" in line, "SlugField is indexed by default"
    natural = ddl(Natural, vendor)
    assert "PRIMARY KEY (code)" in natural and "SERIAL" not in natural
    counter = ddl(Counter, vendor)
    expected = {"sqlite": "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT",
                "postgresql": "id SMALLSERIAL NOT NULL",
                "mysql": "id SMALLINT NOT NULL AUTO_INCREMENT"}[vendor]
    assert expected in counter
    assert "tests_table_counter_code_uniq UNIQUE (code)" in counter


@pytest.mark.parametrize("vendor", list(DIALECTS))
def test_drop_statements(vendor: str) -> None:
    assert drop_statements(Line, DIALECTS[vendor], if_exists=True) == [
        "DROP TABLE IF EXISTS tests_table_line"
    ]


def test_choices_are_not_in_ddl() -> None:
    class Color(models.TextChoices):
        RED = "red"

    from reinhardt_db.testing import isolate_apps

    with isolate_apps():
        class Paint(models.Model):
            color = models.CharField(max_length=5, choices=Color.choices)

            class Meta:
                app_label = "t"

        for vendor in DIALECTS:
            assert "red" not in ddl(Paint, vendor)


def test_constraint_names_fit_identifier_limits() -> None:
    short = constraint_name("t", ["a", "b"], "uniq")
    assert short == "t_a_b_uniq"
    long = constraint_name("a_very_long_application_label_with_a_long_model_name",
                           ["first_column", "second_column"], "uniq")
    assert len(long) == 63 and long.endswith("_uniq")
    assert long == constraint_name("a_very_long_application_label_with_a_long_model_name",
                                   ["first_column", "second_column"], "uniq")
