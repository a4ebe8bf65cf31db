"""The ``reinhardt`` command line (also ``python -m reinhardt_db``).

Each command is one module in ``reinhardt_db/cli/commands/`` that registers
itself on :data:`app`; ``commands/__init__.py`` imports them.
"""

from __future__ import annotations

import os
import sys

from reinhardt_db.cli import commands as _commands  # noqa: F401  (registers the commands)
from reinhardt_db.cli._app import app
from reinhardt_db.cli._runner import CLIState, CommandError, install_log_handler, run_command

__all__ = ["CLIState", "CommandError", "app", "main", "run_command"]


def main(argv: list[str] | None = None, prog_name: str = "reinhardt") -> None:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``) and exit."""
    # Like Django's manage.py: the project's apps import from the working directory.
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    install_log_handler()
    app(args=argv, prog_name=prog_name)
