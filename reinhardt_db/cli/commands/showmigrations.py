"""``reinhardt showmigrations``: every migration and whether the database has applied it."""

from __future__ import annotations

from typing import Annotated

import typer

from reinhardt_db.cli._app import app
from reinhardt_db.cli._runner import CLIState, run_command
from reinhardt_db.cli.commands.makemigrations import check_app_labels, load_project
from reinhardt_db.conf import DEFAULT_DATABASE_ALIAS

__all__ = ["showmigrations"]


@app.command()
def showmigrations(
    ctx: typer.Context,
    app_labels: Annotated[
        list[str] | None, typer.Argument(metavar="[APP]...", help="Only these apps.")
    ] = None,
    plan: Annotated[
        bool, typer.Option("--plan", help="List all migrations in the order they apply.")
    ] = False,
    database: Annotated[
        str, typer.Option("--database", metavar="NAME", help="The database alias to read.")
    ] = DEFAULT_DATABASE_ALIAS,
) -> None:
    """Show every migration and whether it is applied ([X]) or not ([ ])."""
    run_command(ctx, lambda state: _show(state, list(app_labels or []), plan, database))


async def _show(state: CLIState, labels: list[str], plan: bool, alias: str) -> int:
    from reinhardt_db.backends import connections
    from reinhardt_db.migrations.loader import MigrationLoader

    load_project()
    check_app_labels(labels)
    loader = await MigrationLoader.from_database(connections[alias])
    graph = loader.graph
    applied = set(loader.applied)

    def mark(key: tuple[str, str]) -> str:
        migration = graph.nodes[key]
        done = key in applied or bool(
            migration is not None and migration.replaces
            and all((r[0], r[1]) in applied for r in migration.replaces)
        )
        return "[X]" if done else "[ ]"

    if plan:
        targets = [leaf for leaf in graph.leaf_nodes() if not labels or leaf[0] in labels]
        seen: set[tuple[str, str]] = set()
        for target in targets:
            for key in graph.forwards_plan(target):
                if key not in seen:
                    seen.add(key)
                    typer.echo(f"{mark(key)}  {key[0]}.{key[1]}")
        return 0
    from reinhardt_db.apps import apps

    shown = labels or sorted(c.label for c in apps.get_app_configs() if c.installed)
    for label in shown:
        typer.echo(label)
        keys = [key for key in graph.nodes if key[0] == label]
        if not keys:
            typer.echo(" (no migrations)")
            continue
        seen_keys: set[tuple[str, str]] = set()
        for leaf in graph.leaf_nodes(label):
            for key in graph.forwards_plan(leaf):
                if key[0] == label and key not in seen_keys:
                    seen_keys.add(key)
                    migration = graph.nodes[key]
                    squash = f" ({len(migration.replaces)} squashed migrations)" if (
                        migration is not None and migration.replaces) else ""
                    typer.echo(f" {mark(key)} {key[1]}{squash}")
    return 0
