"""``reinhardt makemigrations``: write migration files for model changes (no database needed)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reinhardt_db.cli._app import app
from reinhardt_db.cli._runner import CLIState, CommandError, run_command

if TYPE_CHECKING:
    from reinhardt_db.migrations.loader import MigrationLoader
    from reinhardt_db.migrations.migration import Migration
    from reinhardt_db.migrations.state import ProjectState

__all__ = ["load_project", "makemigrations"]


def load_project() -> None:
    """Import the installed apps and their ``models`` modules so every model is registered."""
    import reinhardt_db
    from reinhardt_db.apps import apps

    setup = getattr(reinhardt_db, "setup", None)
    if callable(setup):
        setup()
        return
    # Until reinhardt_db.setup() exists everywhere: import each app and its models module.
    for name in apps.installed_app_names():
        importlib.import_module(name)
        try:
            importlib.import_module(f"{name}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"{name}.models":
                raise


def check_app_labels(labels: list[str]) -> None:
    """Raise ``CommandError`` for a label that is not an installed app."""
    from reinhardt_db.apps import apps

    for label in labels:
        try:
            apps.get_app_config(label)
        except LookupError as exc:
            raise CommandError(str(exc)) from None


@app.command()
def makemigrations(
    ctx: typer.Context,
    app_labels: Annotated[
        list[str] | None, typer.Argument(metavar="[APP]...", help="Only these apps.")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", "-n", metavar="N", help="Name the migration(s).")
    ] = None,
    empty: Annotated[bool, typer.Option("--empty", help="Write an empty migration.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be written; write nothing.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 when model changes have no migration.")
    ] = False,
    merge: Annotated[
        bool, typer.Option("--merge", help="Write merge migrations for conflicting apps.")
    ] = False,
    noinput: Annotated[
        bool, typer.Option("--noinput", "--no-input", help="Never ask; never guess a rename.")
    ] = False,
) -> None:
    """Write migration files for the changes in the models."""
    options = _Options(list(app_labels or []), name, empty, dry_run, check, merge, noinput)
    run_command(ctx, lambda state: _makemigrations(state, options))


class _Options:
    def __init__(self, labels: list[str], name: str | None, empty: bool, dry_run: bool,
                 check: bool, merge: bool, noinput: bool) -> None:
        self.labels, self.name, self.empty = labels, name, empty
        self.dry_run, self.check, self.merge, self.noinput = dry_run, check, merge, noinput


def _makemigrations(state: CLIState, options: _Options) -> int:
    from reinhardt_db.migrations.autodetector import MigrationAutodetector
    from reinhardt_db.migrations.loader import MigrationLoader
    from reinhardt_db.migrations.questioner import (
        InteractiveMigrationQuestioner,
        MigrationQuestioner,
        NonInteractiveMigrationQuestioner,
    )
    from reinhardt_db.migrations.state import ProjectState

    if options.name is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", options.name):
        raise CommandError(f"--name {options.name!r} is not a valid Python identifier.")
    load_project()
    check_app_labels(options.labels)
    loader = MigrationLoader()
    conflicts = loader.detect_conflicts()
    if options.labels:
        conflicts = {app: leaves for app, leaves in conflicts.items() if app in options.labels}
    if options.merge:
        return _merge(loader, conflicts, options)
    if conflicts:
        loader.check_conflicts()
    questioner: MigrationQuestioner = (
        NonInteractiveMigrationQuestioner(log=typer.echo) if options.noinput
        else InteractiveMigrationQuestioner()
    )
    if options.empty:
        if not options.labels:
            raise CommandError("--empty needs the app(s) to write the migration for, e.g. "
                               "'reinhardt makemigrations --empty blog'.")
        return _write_empty(loader, options)
    detector = MigrationAutodetector(loader.project_state(), ProjectState.from_apps(), questioner)
    changes = detector.changes(loader.graph, trim_to_apps=options.labels or None,
                               migration_name=options.name)
    if not changes:
        where = f" in app(s) {', '.join(options.labels)}" if options.labels else ""
        typer.echo(f"No changes detected{where}")
        return 0
    _report(changes, loader.project_state(), write=not (options.dry_run or options.check))
    return 1 if options.check else 0


def _report(changes: dict[str, list[Migration]], before: ProjectState, write: bool) -> None:
    from reinhardt_db.conf import get_settings
    from reinhardt_db.migrations.safety import safety_warnings
    from reinhardt_db.migrations.writer import MigrationWriter

    vendors = {db.vendor for db in get_settings().databases.values()}
    state = before.clone()
    for app_label, migrations in changes.items():
        typer.echo(f"Migrations for '{app_label}':")
        for migration in migrations:
            writer = MigrationWriter(migration)
            path = writer.write() if write else writer.path
            typer.echo(f"  {_relative(path)}")
            for operation in migration.operations:
                typer.echo(f"    + {operation.describe()}")
            for warning in safety_warnings(app_label, migration.operations, state, vendors):
                typer.secho(f"    warning: {warning}", fg=typer.colors.YELLOW, err=True)
            # An app's next migration (a split one) starts from this one's state.
            migration.mutate_state(state, preserve=False)


def _write_empty(loader: MigrationLoader, options: _Options) -> int:
    from reinhardt_db.migrations.migration import Migration

    changes: dict[str, list[Migration]] = {}
    for label in options.labels:
        leaves = loader.graph.leaf_nodes(label)
        number = _number(leaves[-1][1]) + 1 if leaves else 1
        migration = Migration(f"{number:04d}_{options.name or 'empty'}", label)
        migration.dependencies = list(leaves[-1:])
        migration.initial = not leaves or None
        changes[label] = [migration]
    _report(changes, loader.project_state(), write=not (options.dry_run or options.check))
    return 0


def _merge(loader: MigrationLoader, conflicts: dict[str, list[str]], options: _Options) -> int:
    from reinhardt_db.migrations.migration import Migration

    if not conflicts:
        typer.echo("No conflicts detected to merge.")
        return 0
    changes: dict[str, list[Migration]] = {}
    for label, leaves in conflicts.items():
        number = max(_number(leaf) for leaf in leaves) + 1
        suffix = options.name or "merge_" + "_".join(_stem(leaf) for leaf in sorted(leaves))
        migration = Migration(f"{number:04d}_{suffix}"[:80], label)
        migration.dependencies = [(label, leaf) for leaf in sorted(leaves)]
        changes[label] = [migration]
    _report(changes, loader.project_state(), write=not options.dry_run)
    return 0


def _number(name: str) -> int:
    match = re.match(r"\d+", name)
    return int(match.group()) if match else 0


def _stem(name: str) -> str:
    return re.sub(r"^\d+_?", "", name) or name


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
