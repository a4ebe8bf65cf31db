"""``reinhardt check``: validate the settings and connect to every database."""

from __future__ import annotations

import asyncio

import typer

from reinhardt_db.cli._app import app
from reinhardt_db.cli._runner import CLIState, report_error, run_command
from reinhardt_db.conf import get_settings

__all__ = ["check"]


@app.command()
def check(ctx: typer.Context) -> None:
    """Check the settings and connect to every configured database.

    Prints one line per database (alias, vendor, server version); exits 1 if
    any database cannot be reached, naming it and the error.
    """
    run_command(ctx, _check)


async def _check(state: CLIState) -> int:
    settings = get_settings()
    aliases = list(settings.databases)
    # Probe concurrently: an unreachable database waits out its acquire_timeout,
    # and the others should not wait behind it.
    outcomes = await asyncio.gather(*(_server_version(alias) for alias in aliases))
    rows: list[tuple[str, ...]] = []
    failed = 0
    for alias, outcome in zip(aliases, outcomes, strict=True):
        db_settings = settings.databases[alias]
        if isinstance(outcome, BaseException):
            failed += 1
            report_error(outcome, state.verbosity, prefix=f"{alias} ({db_settings.vendor}): ")
            continue
        row: tuple[str, ...] = (alias, db_settings.vendor, outcome)
        if state.verbosity >= 2:
            row += (db_settings.parsed.render(hide_password=True),)
        rows.append(row)
    if state.verbosity >= 1:
        for line in _columns(rows):
            typer.echo(line)
    return 1 if failed else 0


async def _server_version(alias: str) -> str | Exception:
    """Return the server version of ``alias``, or the error that prevented it."""
    from reinhardt_db.backends import connections  # the CLI sits above the backends

    try:
        return await connections[alias].server_version()
    except Exception as exc:  # reported per database; check must go on with the others
        return exc


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip()
        for row in rows
    ]
