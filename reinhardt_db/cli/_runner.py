"""Run a command body: load settings, run it (async or not), turn errors into exit 1.

Every command goes through :func:`run_command`, so error handling lives in one
place: a ``ReinhardtError`` or pool error prints one line ``Error: ...`` on
stderr and exits 1; the traceback is printed too only at ``-v 2``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from reinhardt_db.conf import Settings, load_settings, parse_database_url
from reinhardt_db.exceptions import ReinhardtError
from reinhardt_db.pool.errors import PoolError

__all__ = [
    "CLIState",
    "CommandBody",
    "CommandError",
    "describe_error",
    "get_state",
    "install_log_handler",
    "report_error",
    "run_command",
    "set_log_verbosity",
]

#: A command's body: gets the CLI state, returns an exit code (None means 0).
CommandBody = Callable[["CLIState"], Awaitable[int | None] | int | None]


class CommandError(ReinhardtError):
    """A command cannot do what was asked; the message says why and what to do."""


@dataclass
class CLIState:
    """The global options, kept on ``ctx.obj`` for the commands."""

    settings_file: Path | None = None
    database_url: str | None = None
    verbosity: int = 1

    def load_settings(self) -> Settings:
        """Load and install settings from ``--settings``/``--database-url`` and the usual places."""
        if self.settings_file is not None and not self.settings_file.is_file():
            raise CommandError(
                f"--settings: {self.settings_file} does not exist; pass an existing TOML file"
            )
        if self.database_url is not None:
            parse_database_url(self.database_url, key="--database-url")
        return load_settings(self.settings_file, self.database_url)


def get_state(ctx: typer.Context) -> CLIState:
    """Return the CLI state the callback stored (a default one when run bare)."""
    state = ctx.find_root().obj
    return state if isinstance(state, CLIState) else CLIState()


def run_command(ctx: typer.Context, body: CommandBody, *, needs_settings: bool = True) -> None:
    """Run ``body``; exit 1 with one ``Error: ...`` line on a reinhardt or pool error.

    An awaitable result runs under ``asyncio.run``, and the pools it opened are
    closed before the loop ends. An int result becomes the exit code.
    """
    state = get_state(ctx)
    try:
        if needs_settings:
            state.load_settings()
        result = body(state)
        if inspect.isawaitable(result):
            result = asyncio.run(_close_pools_after(result))
    except (ReinhardtError, PoolError) as exc:
        report_error(exc, state.verbosity)
        raise typer.Exit(1) from exc
    if result:
        raise typer.Exit(result)


def report_error(exc: BaseException, verbosity: int, prefix: str = "") -> None:
    """Print ``Error: <prefix><message>`` on one line of stderr (and the traceback at -v 2)."""
    if verbosity >= 2:
        traceback.print_exception(exc, file=sys.stderr)
    typer.echo(f"Error: {prefix}{describe_error(exc)}", err=True)


def describe_error(exc: BaseException) -> str:
    """Return the error's message as one line.

    Reinhardt and pool errors already carry their cause's text, so ``__cause__``
    is used only when the error itself says nothing.
    """
    message = str(exc)
    if not message and exc.__cause__ is not None:
        message = f"{type(exc).__name__}: {describe_error(exc.__cause__)}"
    if not isinstance(exc, ReinhardtError | PoolError):
        message = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return " ".join(line.strip() for line in message.splitlines() if line.strip())


class _StderrLogHandler(logging.Handler):
    """Write ``reinhardt_db`` log records to the current stderr, as many as ``-v`` asks for.

    Without it, Python's last-resort handler prints every pool warning (e.g. each
    connect retry) and the one-line error would drown.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.verbosity = 1

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < (logging.INFO if self.verbosity >= 2 else logging.ERROR):
            return
        try:
            typer.echo(f"{record.levelname.lower()}: {self.format(record)}", err=True)
        except Exception:
            self.handleError(record)


_log_handler: _StderrLogHandler | None = None


def install_log_handler() -> None:
    """Route ``reinhardt_db`` logging to stderr, filtered by ``-v`` (the CLI process only).

    Does nothing when the application already configured logging.
    """
    global _log_handler
    if _log_handler is not None or logging.getLogger().handlers:
        return
    _log_handler = _StderrLogHandler()
    logger = logging.getLogger("reinhardt_db")
    logger.addHandler(_log_handler)
    logger.setLevel(logging.INFO)


def set_log_verbosity(verbosity: int) -> None:
    """Show INFO and up at ``-v 2``, only errors below it."""
    if _log_handler is not None:
        _log_handler.verbosity = verbosity


async def _close_pools_after(awaitable: Awaitable[Any]) -> Any:
    try:
        return await awaitable
    finally:
        await _close_pools()


async def _close_pools() -> None:
    from reinhardt_db import close_all  # the CLI sits above the backends

    await close_all()
