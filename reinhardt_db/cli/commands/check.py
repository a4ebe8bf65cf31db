"""``reinhardt check``: the settings against reality, the model checks, and every database."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import TYPE_CHECKING, Annotated

import typer

from reinhardt_db.cli._app import app
from reinhardt_db.cli._runner import CLIState, CommandError, report_error, run_command
from reinhardt_db.conf import get_settings

if TYPE_CHECKING:
    from reinhardt_db.checks import CheckMessage

__all__ = ["check"]

_FAIL_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


@app.command()
def check(
    ctx: typer.Context,
    fail_level: Annotated[
        str,
        typer.Option(
            "--fail-level",
            metavar="LEVEL",
            help="Exit 1 on messages at this level or above: CRITICAL, ERROR (default), "
            "WARNING, INFO or DEBUG.",
        ),
    ] = "ERROR",
) -> None:
    """Run the system checks, then connect to every configured database.

    Imports every installed app and router, runs the model checks (each problem
    printed on stderr as one line with its id and a hint) and prints one line
    per database (alias, vendor, server version). Exits 1 on any error (or
    message at --fail-level) and when a database cannot be reached.
    """
    run_command(ctx, lambda state: _check(state, fail_level))


async def _check(state: CLIState, fail_level: str) -> int:
    from reinhardt_db import checks  # the checks import the models layer

    threshold = _level(fail_level)
    settings = get_settings()
    aliases = list(settings.databases)
    messages = checks.run_checks(databases=aliases)
    _print_messages(messages, state.verbosity)
    failed = sum(1 for message in messages if message.is_serious(threshold))
    # Probe concurrently: an unreachable database waits out its acquire_timeout,
    # and the others should not wait behind it.
    outcomes = await asyncio.gather(*(_server_version(alias) for alias in aliases))
    rows: list[tuple[str, ...]] = []
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


def _level(name: str) -> int:
    from reinhardt_db.checks import LEVEL_NAMES

    levels = {level_name: level for level, level_name in LEVEL_NAMES.items()}
    level = levels.get(name.upper())
    if level is None:
        raise CommandError(f"--fail-level: unknown level {name!r}; use one of "
                           f"{', '.join(_FAIL_LEVELS)}")
    return level


def _print_messages(messages: list[CheckMessage], verbosity: int) -> None:
    """Print each message as one line on stderr, worst first; at -v 0 only errors."""
    from reinhardt_db.checks import ERROR

    shown = [m for m in messages if verbosity >= 1 or m.is_serious(ERROR)]
    shown.sort(key=lambda m: -m.level)
    for message in shown:
        typer.echo(f"{message.level_name.capitalize()}: {message}", err=True)
    if shown and verbosity >= 1:
        counts = Counter(m.level_name.lower() for m in shown)
        parts = ", ".join(_count(n, name) for name, n in counts.items())
        typer.echo(f"System check identified {_count(len(shown), 'issue')} ({parts}).", err=True)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 or noun == 'info' else 's'}"


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
