"""``reinhardt startapp``: write a new app package (``models.py``, ``migrations/``)."""

from __future__ import annotations

import importlib.util
import keyword
from pathlib import Path
from typing import Annotated

import typer

from reinhardt_db.cli._app import app
from reinhardt_db.cli._runner import CLIState, CommandError, run_command

__all__ = ["APP_FILES", "startapp"]

#: Template (in ``migrations_template/``) -> file written, relative to the app folder.
APP_FILES = {
    "app_init.py-tpl": "__init__.py",
    "app_models.py-tpl": "models.py",
    "app_migrations_init.py-tpl": "migrations/__init__.py",
}


@app.command()
def startapp(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The app's package name.")],
    directory: Annotated[
        Path | None,
        typer.Option("--directory", metavar="DIR", help="Where to create it (default: here)."),
    ] = None,
) -> None:
    """Create the app package NAME with a models module and an empty migrations package."""
    run_command(ctx, lambda state: _startapp(state, name, directory), needs_settings=False)


def _startapp(state: CLIState, name: str, directory: Path | None) -> int:
    from reinhardt_db.migrations.writer import load_template

    if not name.isidentifier() or keyword.iskeyword(name):
        raise CommandError(
            f"{name!r} is not a valid app name: use a Python identifier such as 'blog'"
        )
    target = (directory or Path.cwd()) / name
    if target.exists():
        raise CommandError(f"{target} already exists; pick another name or remove it")
    if importlib.util.find_spec(name) is not None:
        raise CommandError(
            f"{name!r} is the name of an existing Python module; pick another app name"
        )
    for template, relative in APP_FILES.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(load_template(template).substitute(name=name), encoding="utf-8")
    typer.echo(f"Created app '{name}' in {target}")
    typer.echo(
        f"Next: add \"{name}\" to installed_apps, declare models in {name}/models.py, then "
        f"run 'reinhardt makemigrations {name}' and 'reinhardt migrate'."
    )
    return 0
