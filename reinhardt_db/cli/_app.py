"""The ``reinhardt`` typer app and its global options; commands register on ``app``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reinhardt_db.cli._runner import CLIState, set_log_verbosity

__all__ = ["app"]

app = typer.Typer(
    name="reinhardt",
    help="Manage reinhardt_db databases.",
    no_args_is_help=True,
    add_completion=False,
    # Locals can hold database passwords: never print them in a traceback.
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    # Plain help text: "[tool.reinhardt]" must not be read as rich markup.
    rich_markup_mode=None,
)


@app.callback()
def global_options(
    ctx: typer.Context,
    settings: Annotated[
        Path | None,
        typer.Option(
            "--settings",
            metavar="FILE",
            help="Read settings from this TOML file (instead of $REINHARDT_SETTINGS, "
            "./reinhardt.toml or [tool.reinhardt] in ./pyproject.toml).",
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            metavar="URL",
            help="Use this URL for the default database (wins over $REINHARDT_DATABASE_URL).",
        ),
    ] = None,
    verbosity: Annotated[
        int,
        typer.Option(
            "-v",
            "--verbosity",
            min=0,
            max=2,
            metavar="N",
            help="0: errors only, 1: normal, 2: more detail and tracebacks.",
        ),
    ] = 1,
) -> None:
    """Manage reinhardt_db databases."""
    # Settings load when a command runs, not here: `reinhardt CMD --help` must
    # work even while the settings are broken.
    ctx.obj = CLIState(settings_file=settings, database_url=database_url, verbosity=verbosity)
    set_log_verbosity(verbosity)
