"""``reinhardt graphmigrations``: the migration history as a Mermaid or DOT picture."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from reinhardt_db.cli._app import app
from reinhardt_db.cli._runner import CLIState, run_command
from reinhardt_db.cli.commands.makemigrations import check_app_labels, load_project
from reinhardt_db.conf import DEFAULT_DATABASE_ALIAS

if TYPE_CHECKING:
    from reinhardt_db.migrations.graph import MigrationGraph

__all__ = ["dot", "graphmigrations", "mermaid"]

Key = tuple[str, str]


class Format(StrEnum):
    """Output formats."""

    mermaid = "mermaid"
    dot = "dot"


@app.command()
def graphmigrations(
    ctx: typer.Context,
    app_labels: Annotated[
        list[str] | None, typer.Argument(metavar="[APP]...", help="Only these apps.")
    ] = None,
    format: Annotated[
        Format, typer.Option("--format", help="mermaid (Markdown, GitHub) or dot (Graphviz).")
    ] = Format.mermaid,
    applied: Annotated[
        bool, typer.Option("--applied", help="Mark the migrations the database has applied.")
    ] = False,
    database: Annotated[
        str, typer.Option("--database", metavar="NAME", help="The database read by --applied.")
    ] = DEFAULT_DATABASE_ALIAS,
) -> None:
    """Print the migration graph: one box per migration, arrows from dependencies."""
    labels = list(app_labels or [])
    run_command(ctx, lambda state: _graph(state, labels, format, applied, database))


async def _graph(
    state: CLIState, labels: list[str], format: Format, applied: bool, alias: str
) -> int:
    from reinhardt_db.migrations.loader import MigrationLoader

    load_project()
    check_app_labels(labels)
    done: set[Key] = set()
    if applied:
        from reinhardt_db.backends import connections
        from reinhardt_db.migrations.recorder import MigrationRecorder

        done = set(await MigrationRecorder(connections[alias]).applied_migrations())
    loader = MigrationLoader(done)
    draw = mermaid if format is Format.mermaid else dot
    typer.echo(draw(loader.graph, labels, done if applied else None))
    return 0


def _selected(graph: MigrationGraph, labels: list[str]) -> tuple[list[Key], list[tuple[Key, Key]]]:
    chosen = {key for key in graph.nodes if not labels or key[0] in labels}
    edges = sorted(
        (parent, child) for child in chosen for parent in graph.parents[child]
    )
    nodes = set(chosen) | {parent for parent, _ in edges}
    return graph.ordered(nodes), edges


def _is_applied(graph: MigrationGraph, key: Key, applied: set[Key]) -> bool:
    migration = graph.nodes.get(key)
    if migration is not None and migration.replaces:
        return all((r[0], r[1]) in applied for r in migration.replaces)
    return key in applied


def _node_id(key: Key) -> str:
    return re.sub(r"\W", "_", f"{key[0]}__{key[1]}")


def mermaid(graph: MigrationGraph, labels: list[str], applied: set[Key] | None) -> str:
    """Return a Mermaid ``flowchart``: a subgraph per app, applied ones styled when known."""
    nodes, edges = _selected(graph, labels)
    lines = ["flowchart TD"]
    for app_label in sorted({key[0] for key in nodes}):
        lines.append(f"    subgraph {app_label}")
        for key in nodes:
            if key[0] == app_label:
                lines.append(f'        {_node_id(key)}["{key[1]}"]')
        lines.append("    end")
    lines += [f"    {_node_id(parent)} --> {_node_id(child)}" for parent, child in edges]
    if applied is not None:
        lines.append("    classDef applied fill:#d4edda,stroke:#28a745")
        done = [_node_id(key) for key in nodes if _is_applied(graph, key, applied)]
        if done:
            lines.append(f"    class {','.join(done)} applied")
    return "\n".join(lines)


def dot(graph: MigrationGraph, labels: list[str], applied: set[Key] | None) -> str:
    """Return a Graphviz ``digraph``: a cluster per app, applied ones filled when known."""
    nodes, edges = _selected(graph, labels)
    lines = ["digraph migrations {", "    rankdir=TB;", "    node [shape=box];"]
    for app_label in sorted({key[0] for key in nodes}):
        lines.append(f'    subgraph "cluster_{app_label}" {{')
        lines.append(f'        label="{app_label}";')
        for key in nodes:
            if key[0] != app_label:
                continue
            style = ""
            if applied is not None and _is_applied(graph, key, applied):
                style = ', style=filled, fillcolor="#d4edda"'
            lines.append(f'        "{key[0]}.{key[1]}" [label="{key[1]}"{style}];')
        lines.append("    }")
    lines += [
        f'    "{p[0]}.{p[1]}" -> "{c[0]}.{c[1]}";' for p, c in edges
    ]
    lines.append("}")
    return "\n".join(lines)
