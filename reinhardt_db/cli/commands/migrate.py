"""``reinhardt migrate``: bring a database's schema to the migration files (or a target)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from reinhardt_db.cli._app import app
from reinhardt_db.cli._runner import CLIState, CommandError, run_command
from reinhardt_db.cli.commands.makemigrations import check_app_labels, load_project
from reinhardt_db.conf import DEFAULT_DATABASE_ALIAS

if TYPE_CHECKING:
    from reinhardt_db.migrations.executor import MigrationExecutor, Plan, Step

__all__ = ["describe_plan", "migrate"]


@app.command()
def migrate(
    ctx: typer.Context,
    app_label: Annotated[
        str | None, typer.Argument(metavar="[APP]", help="Only this app (and what it needs).")
    ] = None,
    migration_name: Annotated[
        str | None,
        typer.Argument(
            metavar="[MIGRATION|zero]",
            help="Migrate the app to this migration (a name or its number prefix), forwards "
            "or backwards; 'zero' unapplies all of the app's migrations.",
        ),
    ] = None,
    database: Annotated[
        str, typer.Option("--database", metavar="NAME", help="The database alias to migrate.")
    ] = DEFAULT_DATABASE_ALIAS,
    fake: Annotated[
        bool, typer.Option("--fake", help="Record the migrations as run without running them.")
    ] = False,
    fake_initial: Annotated[
        bool,
        typer.Option(
            "--fake-initial",
            help="Record an initial migration as run when its tables exist already.",
        ),
    ] = False,
    plan: Annotated[
        bool, typer.Option("--plan", help="Show the operations that would run; run nothing.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 when migrations are unapplied; run nothing.")
    ] = False,
    noinput: Annotated[
        bool, typer.Option("--noinput", "--no-input", help="Never ask (migrate asks nothing).")
    ] = False,
) -> None:
    """Apply (or unapply) migrations so the database matches the migration files."""
    if migration_name is not None and app_label is None:
        raise typer.BadParameter("give the APP before the MIGRATION")
    options = _Options(app_label, migration_name, database, fake, fake_initial, plan, check)
    run_command(ctx, lambda state: _migrate(state, options))


class _Options:
    def __init__(self, app_label: str | None, migration: str | None, database: str, fake: bool,
                 fake_initial: bool, plan: bool, check: bool) -> None:
        self.app_label, self.migration, self.database = app_label, migration, database
        self.fake, self.fake_initial, self.plan, self.check = fake, fake_initial, plan, check


async def _migrate(state: CLIState, options: _Options) -> int:
    from reinhardt_db.backends import connections
    from reinhardt_db.migrations.executor import MigrationExecutor
    from reinhardt_db.migrations.lock import migrate_lock

    if options.fake and options.fake_initial:
        raise CommandError("--fake and --fake-initial do not go together; pick one")
    load_project()
    if options.app_label is not None:
        check_app_labels([options.app_label])
    db = connections[options.database]
    if options.plan or options.check:
        executor = await MigrationExecutor.create(db)
        planned = _plan(executor, options)
        if options.plan:
            for line in describe_plan(planned):
                typer.echo(line)
        return 1 if options.check and planned else 0

    def waiting() -> None:
        typer.echo(
            f"Waiting for another migrate run on database {db.alias!r} to finish...", err=True
        )

    async with migrate_lock(db, on_wait=waiting):
        # Read what is applied only now, holding the lock: a run that waited sees it all.
        executor = await MigrationExecutor.create(db)
        planned = _plan(executor, options)
        _header(executor, options)
        typer.echo("Running migrations:")
        if not planned:
            typer.echo("  No migrations to apply.")
        await executor.migrate(
            planned, fake=options.fake, fake_initial=options.fake_initial, progress=_progress
        )
    return 0


def _plan(executor: MigrationExecutor, options: _Options) -> Plan:
    executor.loader.check_conflicts()
    executor.loader.check_consistent_history()
    return executor.migration_plan(executor.targets(options.app_label, options.migration))


def _header(executor: MigrationExecutor, options: _Options) -> None:
    typer.echo("Operations to perform:")
    if options.app_label is None:
        apps = ", ".join(sorted(executor.loader.migrated_apps)) or "(none)"
        typer.echo(f"  Apply all migrations: {apps}")
    elif options.migration is None:
        typer.echo(f"  Apply all migrations: {options.app_label}")
    elif options.migration == "zero":
        typer.echo(f"  Unapply all migrations: {options.app_label}")
    else:
        target = executor.targets(options.app_label, options.migration)[0]
        typer.echo(f"  Target specific migration: {target[1]}, from {options.app_label}")


def _progress(step: Step) -> None:
    verb = "Unapplying" if step.backwards else "Applying"
    if step.seconds is None:
        typer.echo(f"  {verb} {step.migration}...", nl=False)
        return
    word = {"faked": "FAKED", "faked-initial": "FAKED (tables exist)"}.get(step.how, "OK")
    typer.secho(f" {word}", fg=typer.colors.GREEN, nl=False)
    typer.echo(f" ({step.seconds:.3f}s)")


def describe_plan(plan: Plan) -> list[str]:
    """Return ``migrate --plan``'s lines: each migration, then what each operation does."""
    if not plan:
        return ["Planned operations:", "  No planned migration operations."]
    lines = ["Planned operations:"]
    for migration, backwards in plan:
        lines.append(f"{migration}{' (backwards)' if backwards else ''}")
        operations = list(reversed(migration.operations)) if backwards else migration.operations
        if not operations:
            lines.append("    (no operations)")
        for operation in operations:
            text = operation.describe()
            if backwards:
                text = f"Undo {text}" if operation.reversible else f"{text} (IRREVERSIBLE)"
            lines.append(f"    {text}")
    return lines
