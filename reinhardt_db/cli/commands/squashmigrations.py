"""``reinhardt squashmigrations``: fold a run of an app's migrations into one (``replaces``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from reinhardt_db.cli._app import app
from reinhardt_db.cli._runner import CLIState, CommandError, run_command
from reinhardt_db.cli.commands.makemigrations import check_app_labels, load_project

if TYPE_CHECKING:
    from reinhardt_db.migrations.loader import MigrationLoader
    from reinhardt_db.migrations.migration import Migration

__all__ = ["squash", "squashmigrations"]


@app.command()
def squashmigrations(
    ctx: typer.Context,
    app_label: Annotated[str, typer.Argument(metavar="APP", help="The app to squash.")],
    first: Annotated[
        str, typer.Argument(metavar="[START] END", help="Squash from START (default: the "
                            "first migration) to END, names or number prefixes.")
    ],
    last: Annotated[str | None, typer.Argument(hidden=True)] = None,
    name: Annotated[
        str | None, typer.Option("--squashed-name", metavar="N", help="Name the new migration.")
    ] = None,
) -> None:
    """Write one migration that replaces a run of an app's migrations, optimized."""
    start, end = (None, first) if last is None else (first, last)
    run_command(ctx, lambda state: _squash(state, app_label, start, end, name))


def _squash(
    state: CLIState, app_label: str, start: str | None, end: str, name: str | None
) -> int:
    from reinhardt_db.migrations.loader import MigrationLoader
    from reinhardt_db.migrations.writer import MigrationWriter

    load_project()
    check_app_labels([app_label])
    loader = MigrationLoader(replace_migrations=False)
    migration, before = squash(loader, app_label, start, end, name)
    path = MigrationWriter(migration).write()
    typer.echo(
        f"Created {path.name}, replacing {len(migration.replaces)} migrations of "
        f"'{app_label}': {before} operations optimized to {len(migration.operations)}."
    )
    typer.echo(
        "Keep the replaced migrations until every database has applied them (or the squash); "
        "then delete them and remove 'replaces' from the new file."
    )
    return 0


def squash(
    loader: MigrationLoader, app_label: str, start: str | None, end: str, name: str | None = None
) -> tuple[Migration, int]:
    """Return the squashed migration of ``app_label`` from ``start`` to ``end`` (not written).

    Also return how many operations the originals had. The migrations must
    follow one another (no branch of the app in between).
    """
    from reinhardt_db.migrations.migration import Migration
    from reinhardt_db.migrations.optimizer import optimize

    last = loader.get_migration_by_prefix(app_label, end)
    migrations = [
        migration for key in loader.graph.forwards_plan(last.key)
        if key[0] == app_label and (migration := loader.graph.nodes[key]) is not None
    ]
    if start is not None:
        first = loader.get_migration_by_prefix(app_label, start)
        if first not in migrations:
            raise CommandError(f"{first} does not come before {last}; give START before END")
        migrations = migrations[migrations.index(first):]
    keys = {m.key for m in migrations}
    for migration in migrations[1:]:
        inside = [d for d in migration.dependencies if tuple(d) in keys]
        if not inside:
            raise CommandError(
                f"{migration} does not depend on the migrations before it in the range; "
                "squash a range without branches (merge migrations split it)"
            )
    operations = [op for m in migrations for op in m.operations]
    dependencies: list[tuple[str, str]] = []
    for migration in migrations:
        for dependency in migration.dependencies:
            dep = (dependency[0], dependency[1])
            if dep not in keys and dep not in dependencies:
                dependencies.append(dep)
    replaces: list[tuple[str, str]] = []
    for migration in migrations:
        replaces += migration.replaces or [migration.key]
    first_name, last_name = migrations[0].name, migrations[-1].name
    suffix = name or f"squashed_{last_name}"
    squashed = Migration(f"{first_name[:4]}_{suffix}", app_label)
    squashed.operations = optimize(operations, app_label)
    squashed.dependencies = dependencies
    squashed.replaces = replaces
    squashed.initial = True if migrations[0].initial else None
    squashed.atomic = all(m.atomic for m in migrations)
    return squashed, len(operations)
