"""``reinhardt dbshell``: the client's argv and environment, and exec'ing it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reinhardt_db.cli import app
from reinhardt_db.cli.commands.dbshell import client_command
from reinhardt_db.conf import DatabaseSettings


def command(
    url: str, which: Callable[[str], str | None] | None = None
) -> tuple[list[str], dict[str, str]]:
    return client_command(
        DatabaseSettings(url=url), which=which or (lambda name: f"/usr/bin/{name}")
    )


# -- client_command ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "argv"),
    [
        ("sqlite:///db.sqlite3", ["sqlite3", "db.sqlite3"]),
        ("sqlite:////srv/app/db.sqlite3", ["sqlite3", "/srv/app/db.sqlite3"]),
        ("sqlite://:memory:", ["sqlite3", ":memory:"]),
        ("sqlite:///my%20db.sqlite3?timeout=5", ["sqlite3", "my db.sqlite3"]),
    ],
)
def test_sqlite(url: str, argv: list[str]) -> None:
    assert command(url) == (argv, {})


def test_postgresql() -> None:
    argv, env = command("postgresql://app:s3cr%40t@db.internal:6543/shop")
    assert argv == ["psql", "-h", "db.internal", "-p", "6543", "-U", "app", "-d", "shop"]
    assert env == {"PGPASSWORD": "s3cr@t"}


def test_postgresql_minimal_uses_libpq_defaults() -> None:
    assert command("postgres:///shop") == (["psql", "-d", "shop"], {})


def test_postgresql_query_options_go_to_libpq_env() -> None:
    _, env = command(
        "postgresql://u@h/db?sslmode=require&sslrootcert=/ca.pem&application_name=me&unknown=1"
    )
    assert env == {"PGSSLMODE": "require", "PGSSLROOTCERT": "/ca.pem", "PGAPPNAME": "me"}


def test_postgresql_unix_socket_host() -> None:
    argv, _ = command("postgresql://%2Fvar%2Frun%2Fpostgresql/db")
    assert argv == ["psql", "-h", "/var/run/postgresql", "-d", "db"]


def test_password_never_on_the_command_line() -> None:
    for url in ("postgresql://u:hunter2@h/db", "mysql://u:hunter2@h/db"):
        argv, env = command(url)
        assert not any("hunter2" in arg for arg in argv)
        assert "hunter2" in env.values()


def test_mysql_prefers_mariadb() -> None:
    argv, env = command("mysql://root:pw@127.0.0.1:3307/shop")
    assert argv == ["mariadb", "-h", "127.0.0.1", "-P", "3307", "-u", "root", "shop"]
    assert env == {"MYSQL_PWD": "pw"}


def test_mysql_falls_back_to_mysql_client() -> None:
    argv, _ = command(
        "mariadb://root@h/shop", which=lambda name: "/usr/bin/mysql" if name == "mysql" else None
    )
    assert argv == ["mysql", "-h", "h", "-u", "root", "shop"]


def test_mysql_query_options_become_flags() -> None:
    argv, env = command(
        "mysql+aiomysql://u@localhost/shop?unix_socket=/run/mysqld.sock&charset=utf8mb4"
    )
    assert argv == [
        "mariadb",
        "-h",
        "localhost",
        "-u",
        "u",
        "--socket=/run/mysqld.sock",
        "--default-character-set=utf8mb4",
        "shop",
    ]
    assert env == {}


# -- the command -------------------------------------------------------------


@pytest.fixture
def execs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str], dict[str, str]]]:
    """Capture os.execvpe instead of replacing the test process."""
    calls: list[tuple[str, list[str], dict[str, str]]] = []
    monkeypatch.setattr(os, "execvpe", lambda file, args, env: calls.append((file, args, env)))
    monkeypatch.setattr(shutil, "which", lambda name: f"/opt/bin/{name}")
    return calls


def test_dbshell_execs_the_client_with_password_in_env(
    runner: CliRunner,
    execs: list[tuple[str, list[str], dict[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KEEP_ME", "1")
    result = runner.invoke(app, ["--database-url", "postgresql://app:pw@db/shop", "dbshell"])
    assert result.exit_code == 0, result.output
    [(program, argv, env)] = execs
    assert program == "/opt/bin/psql"
    assert argv == ["psql", "-h", "db", "-U", "app", "-d", "shop"]
    assert env["PGPASSWORD"] == "pw"
    assert env["KEEP_ME"] == "1"


def test_dbshell_database_option(
    runner: CliRunner, tmp_path: Path, execs: list[tuple[str, list[str], dict[str, str]]]
) -> None:
    (tmp_path / "reinhardt.toml").write_text(
        '[databases]\ndefault = "sqlite:///a.db"\nreplica = "sqlite:///b.db"\n'
    )
    assert runner.invoke(app, ["dbshell"]).exit_code == 0
    assert runner.invoke(app, ["dbshell", "--database", "replica"]).exit_code == 0
    assert [argv for _, argv, _ in execs] == [["sqlite3", "a.db"], ["sqlite3", "b.db"]]


def test_dbshell_unknown_alias(
    runner: CliRunner, execs: list[tuple[str, list[str], dict[str, str]]]
) -> None:
    result = runner.invoke(app, ["dbshell", "--database", "defualt"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: databases.defualt: no database 'defualt' is configured "
        "(did you mean 'default'?); configured: default"
    )
    assert execs == []


@pytest.mark.parametrize(
    ("url", "program", "install"),
    [
        ("sqlite:///a.db", "'sqlite3'", "apt install sqlite3"),
        ("postgresql://u@h/db", "'psql'", "apt install postgresql-client"),
        ("mysql://u@h/db", "'mariadb' or 'mysql'", "apt install mariadb-client"),
    ],
)
def test_dbshell_client_not_installed(
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    execs: list[tuple[str, list[str], dict[str, str]]],
    url: str,
    program: str,
    install: str,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = runner.invoke(app, ["--database-url", url, "dbshell"])
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: dbshell: ")
    assert f"{program} is not installed" in line
    assert install in line
    assert execs == []
