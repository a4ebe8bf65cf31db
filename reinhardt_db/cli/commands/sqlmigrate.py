"""``reinhardt sqlmigrate``: print the SQL a migration runs (forwards or backwards), run nothing."""

from __future__ import annotations

from typing import Annotated

import typer

from reinhardt_db.cli._app import app
from reinhardt_db.cli._runner import CLIState, run_command
from reinhardt_db.cli.commands.makemigrations import check_app_labels, load_project
from reinhardt_db.conf import DEFAULT_DATABASE_ALIAS

__all__ = ["sqlmigrate"]


@app.command()
def sqlmigrate(
    ctx: typer.Context,
    app_label: Annotated[str, typer.Argument(metavar="APP", help="The app of the migration.")],
    migration_name: Annotated[
        str, typer.Argument(metavar="MIGRATION", help="The migration (name or number prefix).")
    ],
    backwards: Annotated[
        bool, typer.Option("--backwards", help="Show the SQL that unapplies it.")
    ] = False,
    database: Annotated[
        str, typer.Option("--database", metavar="NAME", help="Write SQL for this database alias.")
    ] = DEFAULT_DATABASE_ALIAS,
) -> None:
    """Print the SQL statements of one migration for a database (nothing runs)."""
    run_command(ctx, lambda state: _sqlmigrate(state, app_label, migration_name, backwards,
                                               database))


async def _sqlmigrate(
    state: CLIState, app_label: str, name: str, backwards: bool, alias: str
) -> int:
    from reinhardt_db.backends import connections
    from reinhardt_db.migrations.loader import MigrationLoader

    load_project()
    check_app_labels([app_label])
    db = connections[alias]
    loader = MigrationLoader(replace_migrations=False)
    migration = loader.get_migration_by_prefix(app_label, name)
    before = loader.project_state(migration.key, at_end=False)
    async with db.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
        if backwards:
            await migration.unapply(before, editor)
        else:
            await migration.apply(before, editor)
    transactional = migration.atomic and db.features.supports_transactional_ddl
    if transactional:
        typer.echo("BEGIN;")
    for sql in editor.collected_sql:
        typer.echo(sql if sql.startswith("--") else f"{sql};")
    if transactional:
        typer.echo("COMMIT;")
    return 0
