"""``db.features``: read from each live server at first connect, and true of it.

The live tests ask the server for its version, check the features report it,
then run one probe statement per capability: the probe works exactly when the
feature says it does.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.dialects.mysql import aiomysql
from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.dialects.sqlite import aiosqlite
from sqlalchemy.schema import DropConstraint

import reinhardt_db
from reinhardt_db import models
from reinhardt_db.backends import Database, DatabaseFeatures, connections
from reinhardt_db.backends import mysql as mysql_backend
from reinhardt_db.backends import postgresql as pg_backend
from reinhardt_db.backends import sqlite as sqlite_backend
from reinhardt_db.backends.base.features import parse_version
from reinhardt_db.conf import reset_settings
from reinhardt_db.exceptions import DatabaseError
from reinhardt_db.models.sql.cache import statement_cache


class Gauge(models.Model):
    reading = models.IntegerField()

    class Meta:
        app_label = "tests_features"


VERSION_SQL = {
    "sqlite": "SELECT sqlite_version()",
    "postgresql": "SELECT version()",
    "mysql": "SELECT version()",
}


# -- what each live server reports ------------------------------------------------------
async def test_features_are_the_servers_after_the_first_query(backend: Database) -> None:
    before = backend.features
    assert before.server_version == (), "nothing is known before the first connect"
    version = str(await backend.fetch_val(VERSION_SQL[backend.vendor]))
    features = backend.features
    assert features is not before
    assert features.vendor == backend.vendor
    assert features.server_version == parse_version(version.removeprefix("5.5.5-"))
    if backend.vendor == "sqlite":
        assert features.server_version == sqlite3.sqlite_version_info
    assert features.is_mariadb == ("mariadb" in version.lower())


@pytest.mark.backends("postgresql")
async def test_postgresql_15_reports_what_it_supports(backend: Database) -> None:
    version = await backend.fetch_val("SHOW server_version")
    f = backend.features
    assert f.server_version[0] == 15 and str(version).startswith("15.")
    assert not f.is_mariadb
    assert f.supports_insert_returning and f.supports_update_returning
    assert f.supports_delete_returning and f.can_return_rows_from_bulk_insert
    assert f.supports_intersect_except and f.supports_window_functions
    assert f.supports_distinct_on and f.supports_json_operators
    assert f.supports_select_for_update_nowait and f.supports_select_for_update_skip_locked
    assert f.supports_select_for_update_of
    assert f.supports_transactional_ddl and f.supports_partial_indexes
    assert f.supports_index_if_not_exists and f.supports_alter_table_constraints
    assert f.can_defer_constraint_checks
    assert f.max_query_params == 32767


@pytest.mark.backends("mysql")
async def test_mariadb_10_11_reports_what_it_supports(backend: Database) -> None:
    version = str(await backend.fetch_val("SELECT version()"))
    f = backend.features
    assert "MariaDB" in version and f.is_mariadb
    assert f.server_version[:2] == (10, 11)
    # INSERT and DELETE ... RETURNING (10.5, 10.0.5), never UPDATE ... RETURNING.
    assert f.supports_insert_returning and f.supports_delete_returning
    assert not f.supports_update_returning
    assert f.supports_intersect_except and f.supports_window_functions  # 10.3, 10.2
    assert f.supports_select_for_update_nowait and f.supports_select_for_update_skip_locked
    assert not f.supports_select_for_update_of
    assert not f.supports_json_operators, "MariaDB has JSON_EXTRACT but no -> operator"
    assert not f.supports_distinct_on and not f.supports_partial_indexes
    assert not f.supports_transactional_ddl and not f.can_defer_constraint_checks
    assert f.supports_index_if_not_exists  # MariaDB 10.1.4+, unlike MySQL
    assert f.supports_expression_defaults and f.supports_alter_table_constraints
    assert f.max_query_params == 65535


@pytest.mark.backends("sqlite")
async def test_sqlite_reports_what_its_library_supports(backend: Database) -> None:
    await backend.fetch_val("SELECT 1")
    f = backend.features
    assert f.server_version == sqlite3.sqlite_version_info
    v = f.server_version
    assert f.supports_insert_returning == (v >= (3, 35)) == f.supports_update_returning
    assert f.supports_json_operators == (v >= (3, 38))
    assert not f.supports_distinct_on and not f.supports_select_for_update
    assert not f.supports_alter_table_constraints and f.supports_transactional_ddl


def _probes(vendor: str, t: str) -> dict[str, str]:
    json_probe = (
        "SELECT CAST('{\"a\": 1}' AS JSONB) -> 'a'" if vendor == "postgresql"
        else "SELECT '{\"a\": 1}' -> '$.a'"
    )
    return {
        "supports_insert_returning": f"INSERT INTO {t} (id, a) VALUES (1, 1) RETURNING a",
        "supports_update_returning": f"UPDATE {t} SET a = 2 RETURNING a",
        "supports_delete_returning": f"DELETE FROM {t} WHERE id = 99 RETURNING a",
        "supports_intersect_except": "SELECT 1 INTERSECT SELECT 1",
        "supports_window_functions": f"SELECT ROW_NUMBER() OVER (ORDER BY a) FROM {t}",
        "supports_distinct_on": f"SELECT DISTINCT ON (a) a FROM {t}",
        "supports_select_for_update": f"SELECT a FROM {t} FOR UPDATE",
        "supports_select_for_update_nowait": f"SELECT a FROM {t} FOR UPDATE NOWAIT",
        "supports_select_for_update_skip_locked": f"SELECT a FROM {t} FOR UPDATE SKIP LOCKED",
        "supports_select_for_update_of": f"SELECT a FROM {t} FOR UPDATE OF {t}",
        "supports_json_operators": json_probe,
        "supports_partial_indexes": f"CREATE INDEX {t}_p ON {t} (a) WHERE a > 0",
        "supports_index_if_not_exists": f"CREATE INDEX IF NOT EXISTS {t}_q ON {t} (a)",
        "supports_expression_defaults": f"CREATE TABLE {t}_d (x TEXT DEFAULT ('x'))",
        "supports_alter_table_constraints": f"ALTER TABLE {t} ADD CONSTRAINT {t}_c CHECK (a > -9)",
        "can_defer_constraint_checks": (
            f"CREATE TABLE {t}_f (x INTEGER, CONSTRAINT {t}_fk FOREIGN KEY (x) "
            f"REFERENCES {t} (id) DEFERRABLE INITIALLY DEFERRED)"
        ),
    }


async def _works(db: Database, sql: str) -> bool:
    try:
        await db.fetch_all(sql)
    except DatabaseError:
        return False
    return True


async def test_every_reported_feature_is_true_of_the_server(backend: Database) -> None:
    t = "p_" + uuid.uuid4().hex[:8]
    await backend.execute(f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, a INTEGER)")
    features = backend.features
    wrong = {}
    for name, sql in _probes(backend.vendor, t).items():
        works = await _works(backend, sql)
        if works != getattr(features, name):
            wrong[name] = f"feature says {getattr(features, name)}, server {works}: {sql}"
    assert not wrong


async def test_transactional_ddl_is_true_of_the_server(backend: Database) -> None:
    t = "tx_" + uuid.uuid4().hex[:8]
    with pytest.raises(RuntimeError):
        async with backend.transaction():
            await backend.execute(f"CREATE TABLE {t} (a INTEGER)")
            raise RuntimeError("roll back")
    kept = await _works(backend, f"SELECT a FROM {t}")
    assert kept == (not backend.features.supports_transactional_ddl)


async def test_max_query_params_are_accepted(backend: Database) -> None:
    n = backend.features.max_query_params
    marks = ", ".join(["%s"] * n)
    assert await backend.fetch_val(f"SELECT 1 WHERE 1 IN ({marks})", list(range(n))) == 1
    if backend.vendor == "postgresql":  # asyncpg's hard limit; others bind more
        with pytest.raises(DatabaseError):
            await backend.fetch_val(f"SELECT 1 WHERE 1 IN ({marks}, %s)", list(range(n + 1)))


# -- the dialect follows the server ------------------------------------------------------
async def test_dialect_is_initialised_with_the_server_version(backend: Database) -> None:
    default = backend.dialect
    await backend.fetch_val("SELECT 1")
    dialect = backend.dialect
    assert dialect is not default, "replaced, so nothing compiled before is served again"
    assert dialect.server_version_info == backend.features.server_version
    if backend.vendor == "mysql":
        assert dialect.is_mariadb == backend.features.is_mariadb  # type: ignore[attr-defined]
    assert dialect.insert_returning == backend.features.supports_insert_returning


async def test_statements_compiled_before_the_first_connect_are_not_served_after(
    backend: Database, make_tables: Any
) -> None:
    await make_tables(Gauge)  # connects: features and dialect are the server's now
    await reinhardt_db.close_all()
    reset_settings()
    reinhardt_db.configure(databases={"default": backend.settings.url})
    db = connections["default"]  # a new Database: defaults again
    first = db.dialect
    misses = statement_cache.misses
    assert await Gauge.objects.filter(reading__gte=0).count() == 0  # compiled with `first`
    assert db.dialect is not first
    assert await Gauge.objects.filter(reading__gte=0).count() == 0
    assert statement_cache.misses == misses + 2, "compiled again for the server's dialect"
    assert await Gauge.objects.filter(reading__gte=0).count() == 0
    assert statement_cache.misses == misses + 2


async def test_features_are_read_once_per_database(
    backend: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    original = backend.driver.server_version

    async def counted(raw: Any) -> str:
        calls.append(raw)
        return await original(raw)

    monkeypatch.setattr(backend.driver, "server_version", counted)
    await backend.fetch_val("SELECT 1")
    features = backend.features

    async def hold() -> None:
        async with backend.connection():
            await asyncio.sleep(0.05)

    if backend.vendor != "sqlite":  # a second connection opens while the first is held
        await asyncio.gather(hold(), hold())
        assert backend.pool.size == 2
    await reinhardt_db.close_all()  # the next use opens a new pool
    await backend.fetch_val("SELECT 1")
    assert len(calls) == 1
    assert backend.features is features


def test_features_are_read_once_across_event_loops(backend_url: str) -> None:
    reinhardt_db.configure(databases={"default": backend_url})
    try:
        db = connections["default"]
        calls = []
        original = db.driver.server_version

        async def counted(raw: Any) -> str:
            calls.append(raw)
            return await original(raw)

        db.driver.server_version = counted  # type: ignore[method-assign]

        async def use() -> DatabaseFeatures:
            await db.fetch_val("SELECT 1")
            await reinhardt_db.close_all()
            return db.features

        first = asyncio.run(use())
        second = asyncio.run(use())
        assert first is second and first.server_version
        assert len(calls) == 1
    finally:
        reset_settings()


async def test_a_failing_version_read_fails_the_connect_and_is_retried(
    backend: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = []
    original = backend.driver.server_version

    async def flaky(raw: Any) -> str:
        attempts.append(raw)
        if len(attempts) == 1:
            raise OSError("lost while reading the version")
        return await original(raw)

    monkeypatch.setattr(backend.driver, "server_version", flaky)
    assert await backend.fetch_val("SELECT 1") == 1
    assert len(attempts) == 2 and backend.features.server_version


# -- deriving features from a version string (no server) --------------------------------
def test_mysql_and_mariadb_versions() -> None:
    mysql = mysql_backend.server_features("8.0.36")
    assert not mysql.is_mariadb and mysql.server_version == (8, 0, 36)
    assert mysql.supports_intersect_except and mysql.supports_json_operators
    assert mysql.supports_select_for_update_of and not mysql.supports_index_if_not_exists
    assert not mysql.supports_insert_returning
    old = mysql_backend.server_features("8.0.30")
    assert not old.supports_intersect_except
    assert not mysql_backend.server_features("8.0.12").supports_expression_defaults
    maria = mysql_backend.server_features("5.5.5-10.4.32-MariaDB-log")
    assert maria.is_mariadb and maria.server_version == (10, 4, 32)
    assert not maria.supports_insert_returning and maria.supports_delete_returning
    assert not maria.supports_select_for_update_skip_locked
    assert maria.supports_intersect_except and not maria.supports_json_operators
    new = mysql_backend.server_features("11.4.2-MariaDB")
    assert new.supports_insert_returning and not new.supports_update_returning


def test_sqlite_and_postgresql_versions() -> None:
    old = sqlite_backend.server_features("3.31.1")
    assert old.max_query_params == 999 and not old.supports_insert_returning
    assert not old.can_return_rows_from_bulk_insert and not old.supports_json_operators
    new = sqlite_backend.server_features("3.45.0")
    assert new.max_query_params == 32766 and new.supports_update_returning
    pg = pg_backend.server_features("15.20 (Debian 15.20-0+deb12u1)")
    assert pg.server_version == (15, 20) and pg.supports_distinct_on
    assert not pg_backend.server_features("9.4.26").supports_select_for_update_skip_locked
    assert parse_version("garbage") == ()


def test_features_stay_frozen_and_new_flags_are_keyword_only() -> None:
    features = pg_backend.features
    with pytest.raises(AttributeError):
        features.supports_distinct_on = False  # type: ignore[misc]
    assert replace(features, supports_distinct_on=False).supports_distinct_on is False


# -- SQLAlchemy's private dialect set-up, pinned ------------------------------------------
def test_mariadb_dialect_setup_matches_sqlalchemy_initialize() -> None:
    """Fails loudly if SQLAlchemy renames what ``initialize_dialect`` relies on."""
    dialect = aiomysql.dialect(paramstyle="format")
    mysql_backend.initialize_dialect(
        dialect, mysql_backend.server_features("10.11.6-MariaDB")
    )
    assert dialect.is_mariadb and dialect.server_version_info == (10, 11, 6)
    assert dialect.insert_returning and dialect.delete_returning
    assert dialect.supports_sequences  # set by _initialize_mariadb (10.3+)
    import sqlalchemy as sa

    table = sa.Table("t", sa.MetaData(), sa.Column("a", sa.Integer))
    check = sa.CheckConstraint("a > 0", name="c")
    table.append_constraint(check)
    # MariaDB has no DROP CHECK: the dialect must know it talks to MariaDB.
    assert str(DropConstraint(check).compile(dialect=dialect)) == "ALTER TABLE t DROP CONSTRAINT c"


def test_mysql_dialect_setup_matches_sqlalchemy_initialize() -> None:
    dialect = aiomysql.dialect(paramstyle="format")
    mysql_backend.initialize_dialect(dialect, mysql_backend.server_features("8.0.36"))
    assert not dialect.is_mariadb and dialect.server_version_info == (8, 0, 36)
    assert dialect.supports_for_update_of  # set by _initialize_mysql (8.0+)
    assert dialect._requires_alias_for_on_duplicate_key  # 8.0.20+


def test_postgresql_and_sqlite_dialect_setup() -> None:
    pg = asyncpg.dialect(paramstyle="numeric_dollar")
    pg_backend.initialize_dialect(pg, pg_backend.server_features("15.20"))
    assert pg.server_version_info == (15, 20)
    assert pg.supports_identity_columns and not pg.supports_virtual_generated_columns
    lite = aiosqlite.dialect(paramstyle="qmark")
    sqlite_backend.initialize_dialect(lite, sqlite_backend.server_features("3.31.1"))
    assert lite.server_version_info == (3, 31, 1)
    assert not lite.insert_returning and lite.insertmanyvalues_max_parameters == 999
