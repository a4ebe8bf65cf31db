"""A URL's query-string options reach the driver typed, or are refused when loaded.

``sqlite:///app.db?timeout=5`` is text; sqlite3 wants a number. Handed the
text, drivers failed inside connect(), and the pool retried that as if the
server were down until acquire_timeout. Now each backend types its options
(``backends.<vendor>.url_options``) and the settings refuse a bad one at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import reinhardt_db
from reinhardt_db.backends import Database, connections
from reinhardt_db.backends.handler import backend_module
from reinhardt_db.backends.mysql.driver import _with_ssl_context
from reinhardt_db.conf import parse_database_url, reset_settings
from reinhardt_db.exceptions import ImproperlyConfigured


def with_query(url: str, **query: str) -> str:
    parsed = parse_database_url(url)
    return dataclasses.replace(parsed, query={**parsed.query, **query}).render(hide_password=False)


@contextlib.asynccontextmanager
async def configured(url: str) -> AsyncIterator[Database]:
    reinhardt_db.configure(databases={"default": url})
    try:
        yield connections["default"]
    finally:
        await reinhardt_db.close_all()
        reset_settings()


@pytest.mark.backends("sqlite")
async def test_sqlite_timeout_becomes_the_busy_timeout(backend_url: str) -> None:
    async with configured(with_query(backend_url, timeout="0.25")) as db:
        assert await db.fetch_val("PRAGMA busy_timeout") == 250
        async with db.connection():
            await db.execute("PRAGMA busy_timeout = 1")  # a borrower changes it
        async with db.connection():
            assert await db.fetch_val("PRAGMA busy_timeout") == 250  # the reset restores it


@pytest.mark.backends("mysql")
async def test_mysql_options_are_typed_and_reach_the_session(backend_url: str) -> None:
    # connect_timeout as text made aiomysql fail with a TypeError, retried for 30 s.
    url = with_query(backend_url, connect_timeout="5", charset="latin1")
    async with configured(url) as db:
        assert await db.fetch_val("SELECT @@character_set_client") == "latin1"


@pytest.mark.backends("postgresql")
async def test_postgresql_server_settings_in_the_url_win_over_the_defaults(
    backend_url: str,
) -> None:
    url = with_query(backend_url, application_name="reinhardt_url_test", connect_timeout="5")
    async with configured(url) as db:
        assert await db.fetch_val("SELECT current_setting('application_name')") == (
            "reinhardt_url_test"
        )
        assert await db.fetch_val("SELECT current_setting('TimeZone')") == "UTC"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///x.db?timeout=soon", "?timeout=soon: expected a number such as 5 or 2.5"),
        ("sqlite:///x.db?timeout=-1", "?timeout=-1: expected a finite number of at least 0"),
        ("sqlite:///x.db?timeout=nan", "expected a finite number"),
        ("sqlite:///x.db?cached_statements=1.5", "expected a whole number such as 100"),
        ("sqlite:///x.db?timout=5", "not an option of sqlite URLs (did you mean 'timeout'?)"),
        ("sqlite:///x.db?isolation_level=", "keeps SQLite in autocommit"),
        ("mysql://u@h/db?connect_timeout=five", "?connect_timeout=five: expected a number"),
        ("mysql://u@h/db?local_infile=maybe", "?local_infile=maybe: expected true or false"),
        ("mysql://u@h/db?autocommit=false", "reinhardt_db sets it on every connection"),
        ("mysql://u@h/db?sslmode=require", "of mysql URLs (did you mean 'ssl'?); accepted: "),
        ("mysql://u@h/db?password=hunter2", "?password=***: write it in the URL itself"),
        ("postgresql://u@h/db?TimeZone=Europe/Berlin", "sessions run in UTC"),
        ("postgresql://u@h/db?connect_timeout=x", "?connect_timeout=x: expected a number"),
        ("postgresql://u@h/db?dbname=other", "write it in the URL itself"),
    ],
)
def test_bad_options_are_refused_when_the_settings_load(url: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        reinhardt_db.configure(databases={"default": url})
    reset_settings()
    assert str(info.value).startswith("databases.default.url: URL option ?")
    assert message in str(info.value)
    assert "hunter2" not in str(info.value)


def test_typed_values() -> None:
    sqlite = backend_module("sqlite").url_options
    mysql = backend_module("mysql").url_options
    postgresql = backend_module("postgresql").url_options
    assert sqlite.parse({"timeout": "5", "cached_statements": "10"}) == {
        "timeout": 5.0, "cached_statements": 10,
    }
    assert mysql.parse({"local_infile": "On", "charset": "utf8mb4", "connect_timeout": "2.5"}) == {
        "local_infile": True, "charset": "utf8mb4", "connect_timeout": 2.5,
    }
    # libpq options stay text for asyncpg's DSN; others are server settings.
    assert postgresql.parse({"sslmode": "require", "search_path": "app"}) == {
        "sslmode": "require", "search_path": "app",
    }


@given(st.booleans(), st.sampled_from(["{}", "{}".upper(), "{}".capitalize()]))
def test_booleans_in_any_case(value: bool, case: str) -> None:
    words = ("true", "yes", "on", "1") if value else ("false", "no", "off", "0")
    mysql = backend_module("mysql").url_options
    for word in words:
        assert mysql.parse({"ssl": case.format(word)}) == {"ssl": value}


def test_mysql_ssl_options_make_the_driver_context(tmp_path: Any) -> None:
    assert _with_ssl_context({"charset": "utf8mb4"}) == {"charset": "utf8mb4"}
    assert _with_ssl_context({"ssl": False}) == {}
    made = _with_ssl_context({"ssl": True, "ssl_check_hostname": False})
    assert isinstance(made["ssl"], ssl.SSLContext)
    assert made["ssl"].check_hostname is False
    assert made["ssl"].verify_mode == ssl.CERT_REQUIRED
    with pytest.raises(ImproperlyConfigured, match="needs its certificate; add"):
        _with_ssl_context({"ssl_key": "/k.pem"})
    with pytest.raises(ImproperlyConfigured, match=r"cannot load .*check the paths"):
        _with_ssl_context({"ssl_ca": str(tmp_path / "missing.pem")})


def test_time_zone_other_than_utc_is_refused() -> None:
    for name in ("UTC", "Etc/UTC", None):
        reinhardt_db.configure(databases={"default": {"url": "sqlite://:memory:", "time_zone": name}})
        reset_settings()
    with pytest.raises(ImproperlyConfigured) as info:
        reinhardt_db.configure(
            databases={"default": {"url": "sqlite://:memory:", "time_zone": "Europe/Berlin"}}
        )
    reset_settings()
    assert str(info.value).startswith(
        "databases.default.time_zone: 'Europe/Berlin': only UTC is supported"
    )


#: Per backend, driver options of the wrong type or name (Python values, not checked
#: when the settings load): the driver's connect() refuses them.
BAD_OPTIONS = {
    "sqlite": ({"timeout": "5"}, "SQLite option timeout='5': expected seconds"),
    "postgresql": ({"nosuch": 1}, "unexpected keyword argument 'nosuch'"),
    "mysql": ({"nosuch": 1}, "the aiomysql driver refused its connect() arguments"),
}


async def test_driver_options_the_driver_refuses_fail_at_once(
    backend_url: str, backend_name: str
) -> None:
    options, message = BAD_OPTIONS[backend_name]
    reinhardt_db.configure(databases={"default": {"url": backend_url, "options": options}})
    try:
        db = connections["default"]
        async with asyncio.timeout(5):  # bounds the retrying this must not do (30 s)
            with pytest.raises(ImproperlyConfigured) as info:
                await db.fetch_val("SELECT 1")
        assert message in str(info.value)
        assert "'options'" in str(info.value) or backend_name == "sqlite"
    finally:
        await reinhardt_db.close_all()
        reset_settings()
