"""``reinhardt dbshell``: replace this process with the database's own client."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Annotated

import typer

from reinhardt_db.cli._app import app
from reinhardt_db.cli._runner import CLIState, CommandError, run_command
from reinhardt_db.conf import DEFAULT_DATABASE_ALIAS, DatabaseSettings, Vendor, get_settings

__all__ = ["CLIENTS", "client_command", "dbshell"]

#: Per vendor: the client programs to try, in order, and how to install one.
CLIENTS: dict[Vendor, tuple[tuple[str, ...], str]] = {
    "sqlite": (
        ("sqlite3",),
        "install the sqlite3 shell (Debian/Ubuntu: apt install sqlite3; "
        "macOS: brew install sqlite)",
    ),
    "postgresql": (
        ("psql",),
        "install the PostgreSQL client (Debian/Ubuntu: apt install postgresql-client; "
        "macOS: brew install libpq)",
    ),
    "mysql": (
        ("mariadb", "mysql"),
        "install the MariaDB or MySQL client (Debian/Ubuntu: apt install mariadb-client; "
        "macOS: brew install mysql-client)",
    ),
}

# libpq reads these from the environment; the URL's query options map onto them.
_PG_QUERY_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslpassword": "PGSSLPASSWORD",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "application_name": "PGAPPNAME",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}

# URL query options that the mysql/mariadb client takes as --flags.
_MYSQL_QUERY_FLAGS = {
    "unix_socket": "--socket",
    "charset": "--default-character-set",
    "ssl_ca": "--ssl-ca",
    "ssl_cert": "--ssl-cert",
    "ssl_key": "--ssl-key",
}


@app.command()
def dbshell(
    ctx: typer.Context,
    database: Annotated[
        str,
        typer.Option("--database", metavar="NAME", help="The database alias to open."),
    ] = DEFAULT_DATABASE_ALIAS,
) -> None:
    """Open the database's own command-line client.

    Runs sqlite3, psql, or mariadb/mysql with the connection details from the
    settings; the password goes in the environment, not on the command line.
    """
    run_command(ctx, lambda state: _dbshell(state, database))


def _dbshell(state: CLIState, alias: str) -> None:
    db_settings = get_settings().get_database(alias)
    argv, extra_env = client_command(db_settings)
    program = shutil.which(argv[0])
    if program is None:
        candidates, install = CLIENTS[db_settings.vendor]
        names = " or ".join(f"'{name}'" for name in candidates)
        raise CommandError(
            f"dbshell: the {db_settings.vendor} client {names} is not installed "
            f"or not on PATH; {install}"
        )
    if state.verbosity >= 2:
        typer.echo(f"Running {' '.join(argv)}", err=True)
    os.execvpe(program, argv, {**os.environ, **extra_env})


def client_command(
    db_settings: DatabaseSettings, *, which: Callable[[str], str | None] | None = None
) -> tuple[list[str], dict[str, str]]:
    """Return the client's argv and the environment variables to add for ``db_settings``.

    The password travels in the environment (``PGPASSWORD``, ``MYSQL_PWD``), never
    on the command line. For MySQL/MariaDB the program is the first of ``mariadb``
    and ``mysql`` that ``which`` (default ``shutil.which``) finds, else ``mariadb``.

    >>> client_command(DatabaseSettings(url="postgresql://app:pw@db:5432/app"))
    (['psql', '-h', 'db', '-p', '5432', '-U', 'app', '-d', 'app'], {'PGPASSWORD': 'pw'})
    """
    url = db_settings.parsed
    if url.vendor == "sqlite":
        return ["sqlite3", url.database], {}
    argv: list[str]
    env: dict[str, str] = {}
    if url.vendor == "postgresql":
        argv = ["psql"]
        argv += ["-h", url.host] if url.host else []
        argv += ["-p", str(url.port)] if url.port is not None else []
        argv += ["-U", url.user] if url.user else []
        argv += ["-d", url.database]
        if url.password is not None:
            env["PGPASSWORD"] = url.password
        for option, value in url.query.items():
            if option in _PG_QUERY_ENV:
                env[_PG_QUERY_ENV[option]] = value
        return argv, env
    candidates = CLIENTS["mysql"][0]
    find = which if which is not None else shutil.which
    program = next((name for name in candidates if find(name)), candidates[0])
    argv = [program]
    argv += ["-h", url.host] if url.host else []
    argv += ["-P", str(url.port)] if url.port is not None else []
    argv += ["-u", url.user] if url.user else []
    for option, value in url.query.items():
        if option in _MYSQL_QUERY_FLAGS:
            argv.append(f"{_MYSQL_QUERY_FLAGS[option]}={value}")
    argv.append(url.database)
    if url.password is not None:
        env["MYSQL_PWD"] = url.password
    return argv, env
