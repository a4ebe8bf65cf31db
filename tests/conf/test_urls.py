"""Database URLs: every accepted form, every rejected one, and render/parse round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reinhardt_db.conf import DatabaseURL, parse_database_url
from reinhardt_db.exceptions import ImproperlyConfigured


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///relative.db", DatabaseURL("sqlite", database="relative.db")),
        ("sqlite:///sub/dir/app.sqlite3", DatabaseURL("sqlite", database="sub/dir/app.sqlite3")),
        ("sqlite:////abs/path.db", DatabaseURL("sqlite", database="/abs/path.db")),
        ("sqlite://:memory:", DatabaseURL("sqlite", database=":memory:")),
        ("sqlite:///:memory:", DatabaseURL("sqlite", database=":memory:")),
        ("sqlite+aiosqlite:///x.db", DatabaseURL("sqlite", database="x.db")),
        ("sqlite:///my%20db.sqlite3", DatabaseURL("sqlite", database="my db.sqlite3")),
        (
            "sqlite:///x.db?timeout=5&isolation_level=",
            DatabaseURL("sqlite", database="x.db", query={"timeout": "5", "isolation_level": ""}),
        ),
        (
            "postgresql://user:pass@host:5432/db",
            DatabaseURL("postgresql", "host", 5432, "user", "pass", "db"),
        ),
        ("postgres://user@host/db", DatabaseURL("postgresql", "host", None, "user", None, "db")),
        (
            "postgresql+asyncpg://u:p@10.0.0.2:6543/app",
            DatabaseURL("postgresql", "10.0.0.2", 6543, "u", "p", "app"),
        ),
        ("postgresql:///app", DatabaseURL("postgresql", None, None, None, None, "app")),
        (
            "postgresql://%2Fvar%2Frun%2Fpostgresql/app",
            DatabaseURL("postgresql", "/var/run/postgresql", None, None, None, "app"),
        ),
        ("postgresql://[::1]:5432/app", DatabaseURL("postgresql", "::1", 5432, None, None, "app")),
        (
            "postgresql://app:s%40cr%3At%2F%23@db/app?sslmode=require",
            DatabaseURL(
                "postgresql", "db", None, "app", "s@cr:t/#", "app", query={"sslmode": "require"}
            ),
        ),
        ("PostgreSQL://u@h/app", DatabaseURL("postgresql", "h", None, "u", None, "app")),
        (
            "mysql://user:pass@host:3306/db",
            DatabaseURL("mysql", "host", 3306, "user", "pass", "db"),
        ),
        (
            "mariadb://root@127.0.0.1/shop",
            DatabaseURL("mysql", "127.0.0.1", None, "root", None, "shop"),
        ),
        (
            "mysql+aiomysql://u:@h:3307/db?charset=utf8mb4",
            DatabaseURL("mysql", "h", 3307, "u", "", "db", query={"charset": "utf8mb4"}),
        ),
        (
            "mysql://us%20er:p%25w@h/d%C3%A9b",
            DatabaseURL("mysql", "h", None, "us er", "p%w", "déb"),
        ),
    ],
)
def test_accepted_forms(url: str, expected: DatabaseURL) -> None:
    assert parse_database_url(url) == expected


def test_relative_sqlite_path_is_kept_relative_to_the_working_directory() -> None:
    assert parse_database_url("sqlite:///db.sqlite3").database == "db.sqlite3"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysqll://u@h/db", "did you mean 'mysql://'?"),
        ("oracle://u@h/db", "unknown database URL scheme 'oracle://'"),
        ("db.sqlite3", "for a SQLite file write sqlite:///db.sqlite3"),
        ("", "not a database URL"),
        ("postgresql://u:p@host:5432", "names no database"),
        ("postgresql://u:p@host:5432/", "names no database"),
        ("mysql://u@host", "names no database"),
        ("postgresql://u@host/db/extra", "contains '/'"),
        ("postgresql://u@host:port/db", "bad port"),
        ("postgresql://u@host:0/db", "bad port"),
        ("postgresql://u@host:65536/db", "bad port"),
        ("postgresql://u@[::1/db", "unclosed '['"),
        ("postgresql://u:p#ss@host/db", "percent-encode"),
        ("sqlite://", "names no file"),
        ("sqlite:///", "names no file"),
        ("sqlite://host/x.db", "has no host"),
    ],
)
def test_rejected_urls_name_the_key_and_the_fix(url: str, fragment: str) -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        parse_database_url(url, key="databases.default.url")
    message = str(info.value)
    assert message.startswith("databases.default.url: ")
    assert fragment in message


def test_errors_never_echo_the_password() -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        # an unencoded '/' splits the password into the "port"
        parse_database_url("postgresql://user:hunter/2@host/db")
    assert "hunter" not in str(info.value)


def test_render_hides_the_password_unless_asked() -> None:
    url = parse_database_url("postgresql://app:secret@db:5432/app?sslmode=require")
    assert url.render() == "postgresql://app:***@db:5432/app?sslmode=require"
    assert str(url) == url.render()
    assert "secret" not in repr(url)
    assert url.render(hide_password=False) == "postgresql://app:secret@db:5432/app?sslmode=require"


@pytest.mark.parametrize(
    ("url", "rendered"),
    [
        ("sqlite:///:memory:", "sqlite://:memory:"),
        ("sqlite:////abs/x.db", "sqlite:////abs/x.db"),
        ("postgres://u@h/db", "postgresql://u@h/db"),
        ("mariadb://u@[::1]:3306/db", "mysql://u@[::1]:3306/db"),
    ],
)
def test_render_writes_the_canonical_form(url: str, rendered: str) -> None:
    assert parse_database_url(url).render() == rendered


def test_with_database_changes_only_the_name() -> None:
    url = parse_database_url("postgresql://u:p@h:5432/app?sslmode=require")
    test_url = url.with_database("test_app")
    assert test_url.database == "test_app"
    assert (test_url.host, test_url.port, test_url.user, test_url.password) == ("h", 5432, "u", "p")
    assert test_url.query == {"sslmode": "require"}
    assert url.database == "app"
    assert test_url.query is not url.query


def test_is_memory() -> None:
    assert parse_database_url("sqlite://:memory:").is_memory
    assert not parse_database_url("sqlite:///x.db").is_memory


def test_urls_are_hashable_values() -> None:
    a = parse_database_url("postgresql://u@h/db?x=1")
    assert a == parse_database_url("postgresql://u@h/db?x=1")
    assert hash(a) == hash(parse_database_url("postgresql://u@h/db?x=1"))


_text = st.text(min_size=1, max_size=20)
_hosts = st.one_of(
    st.none(),
    st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?", fullmatch=True),
    st.ip_addresses().map(str),
    st.just("/var/run/postgresql"),
    _text,
)
_query = st.dictionaries(_text, st.text(max_size=10), max_size=3)


@st.composite
def _server_urls(draw: st.DrawFn) -> DatabaseURL:
    return DatabaseURL(
        vendor=draw(st.sampled_from(["postgresql", "mysql"])),
        host=draw(_hosts),
        port=draw(st.none() | st.integers(1, 65535)),
        user=draw(st.none() | _text),
        password=draw(st.none() | st.text(max_size=20)),
        database=draw(_text),
        query=draw(_query),
    )


_sqlite_urls = st.builds(
    DatabaseURL,
    vendor=st.just("sqlite"),
    database=st.one_of(st.just(":memory:"), _text, _text.map(lambda p: "/" + p)),
    query=_query,
)


@given(_server_urls() | _sqlite_urls)
def test_render_then_parse_round_trips(url: DatabaseURL) -> None:
    assert parse_database_url(url.render(hide_password=False)) == url


@given(_server_urls() | _sqlite_urls)
def test_rendering_is_stable(url: DatabaseURL) -> None:
    rendered = url.render(hide_password=False)
    assert parse_database_url(rendered).render(hide_password=False) == rendered
