"""``MigrationGraph``: migrations as nodes, dependencies as edges, ordered with ``graphlib``.

A node is ``(app_label, migration_name)``. An edge runs from a migration to
each of its dependencies (its parents). Plans are topological orders of part
of the graph; ready nodes are taken in sorted order so plans are the same on
every run.
"""

from __future__ import annotations

import graphlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from reinhardt_db.migrations.exceptions import (
    CircularDependencyError,
    NodeNotFoundError,
    format_key,
)

if TYPE_CHECKING:
    from reinhardt_db.migrations.migration import Migration
    from reinhardt_db.migrations.state import ProjectState

__all__ = ["Key", "MigrationGraph"]

Key = tuple[str, str]


class MigrationGraph:
    """The dependency graph of every migration on disk (and of squashed replacements)."""

    def __init__(self) -> None:
        self.nodes: dict[Key, Migration | None] = {}
        self.parents: dict[Key, set[Key]] = {}
        self.children: dict[Key, set[Key]] = {}
        # Placeholders for dependencies that are missing, with the error to raise.
        self._dummies: dict[Key, NodeNotFoundError] = {}

    def __repr__(self) -> str:
        edges = sum(len(p) for p in self.parents.values())
        return f"<MigrationGraph: nodes={len(self.nodes)}, edges={edges}>"

    def __contains__(self, key: object) -> bool:
        return key in self.nodes

    def add_node(self, key: Key, migration: Migration | None) -> None:
        """Add a migration (replacing a placeholder of the same key, keeping its edges)."""
        self._dummies.pop(key, None)
        self.nodes[key] = migration
        self.parents.setdefault(key, set())
        self.children.setdefault(key, set())

    def add_dummy_node(self, key: Key, origin: Key, error: NodeNotFoundError) -> None:
        """Add a placeholder for a missing migration; ``validate_consistency`` raises ``error``."""
        if key in self.nodes:
            return
        self.add_node(key, None)
        self._dummies[key] = error

    def add_dependency(self, child: Key, parent: Key) -> None:
        """Record that ``child`` depends on ``parent``; both must be nodes already."""
        for key, role in ((child, "migration"), (parent, "dependency")):
            if key not in self.nodes:
                raise NodeNotFoundError(
                    f"Migration {format_key(child)} depends on {format_key(parent)}, but the "
                    f"{role} {format_key(key)} does not exist.",
                    key, child,
                )
        self.parents[child].add(parent)
        self.children[parent].add(child)

    def remove_node(self, key: Key) -> None:
        """Remove a node and every edge touching it."""
        for parent in self.parents.pop(key, set()):
            self.children[parent].discard(key)
        for child in self.children.pop(key, set()):
            self.parents[child].discard(key)
        self.nodes.pop(key, None)
        self._dummies.pop(key, None)

    def remove_replaced_nodes(self, replacement: Key, replaced: Iterable[Key]) -> None:
        """Use ``replacement`` instead of the migrations it replaces (rewiring their edges)."""
        replaced = [key for key in replaced if key in self.nodes]
        replaced_set = set(replaced)
        for key in replaced:
            for child in list(self.children.get(key, ())):
                if child not in replaced_set and child != replacement:
                    self.add_dependency(child, replacement)
            for parent in list(self.parents.get(key, ())):
                if parent not in replaced_set and parent != replacement:
                    self.add_dependency(replacement, parent)
            self.remove_node(key)

    def remove_replacement_node(self, replacement: Key, replaced: list[Key]) -> None:
        """Drop ``replacement`` and keep the migrations it replaces (partly applied)."""
        if replacement not in self.nodes:
            return
        last = replaced[-1] if replaced else None
        for child in list(self.children[replacement]):
            if last is not None and last in self.nodes and child not in replaced:
                self.add_dependency(child, last)
        self.remove_node(replacement)

    def validate_consistency(self) -> None:
        """Raise the ``NodeNotFoundError`` of the first missing dependency, if any."""
        for key in sorted(self._dummies):
            raise self._dummies[key]

    def ensure_not_cyclic(self) -> None:
        """Raise ``CircularDependencyError`` naming the migrations of a cycle."""
        graph = {key: sorted(self.parents[key]) for key in sorted(self.nodes)}
        sorter = graphlib.TopologicalSorter(graph)
        try:
            sorter.prepare()
        except graphlib.CycleError as exc:
            raise CircularDependencyError(list(reversed(exc.args[1]))) from None

    def _ordered(self, keys: set[Key]) -> list[Key]:
        sorter = graphlib.TopologicalSorter(
            {key: sorted(self.parents[key] & keys) for key in keys}
        )
        try:
            sorter.prepare()
        except graphlib.CycleError as exc:
            raise CircularDependencyError(list(reversed(exc.args[1]))) from None
        order: list[Key] = []
        while sorter.is_active():
            ready = sorted(sorter.get_ready())
            order.extend(ready)
            sorter.done(*ready)
        return order

    def _closure(self, start: Key, edges: dict[Key, set[Key]]) -> set[Key]:
        self._require(start)
        seen = {start}
        todo = [start]
        while todo:
            for other in edges[todo.pop()]:
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        return seen

    def _require(self, key: Key) -> None:
        if key not in self.nodes:
            raise NodeNotFoundError(f"Migration {format_key(key)} does not exist.", key)
        if key in self._dummies:
            raise self._dummies[key]

    def ordered(self, keys: Iterable[Key]) -> list[Key]:
        """Return ``keys`` in an order where every migration follows its dependencies."""
        return self._ordered(set(keys))

    def ancestors(self, key: Key) -> set[Key]:
        """Return ``key`` and every migration it depends on, directly or not."""
        return self._closure(key, self.parents)

    def descendants(self, key: Key) -> set[Key]:
        """Return ``key`` and every migration that depends on it, directly or not."""
        return self._closure(key, self.children)

    def forwards_plan(self, target: Key) -> list[Key]:
        """Return the migrations to apply, dependencies first, to reach ``target`` (last)."""
        order = self._ordered(self.ancestors(target))
        order.remove(target)
        return [*order, target]

    def backwards_plan(self, target: Key) -> list[Key]:
        """Return the migrations to unapply, dependents first, to remove ``target`` (last)."""
        order = self._ordered(self.descendants(target))
        order.remove(target)
        return [*reversed(order), target]

    def iterative_dfs(self, start: Key, forwards: bool = True) -> list[Key]:
        """Return ``forwards_plan(start)`` (or ``backwards_plan``)."""
        return self.forwards_plan(start) if forwards else self.backwards_plan(start)

    def root_nodes(self, app: str | None = None) -> list[Key]:
        """Return the migrations without a parent in their own app, sorted."""
        return sorted(
            key for key in self.nodes
            if (app is None or key[0] == app)
            and not any(parent[0] == key[0] for parent in self.parents[key])
        )

    def leaf_nodes(self, app: str | None = None) -> list[Key]:
        """Return the migrations without a child in their own app, sorted."""
        return sorted(
            key for key in self.nodes
            if (app is None or key[0] == app)
            and not any(child[0] == key[0] for child in self.children[key])
        )

    def make_state(
        self, nodes: Key | Iterable[Key] | None = None, at_end: bool = True
    ) -> ProjectState:
        """Return the state after replaying the migrations up to ``nodes`` in plan order.

        ``nodes`` defaults to every leaf; with ``at_end=False`` the ``nodes``
        themselves are not applied (the state just before them).
        """
        from reinhardt_db.migrations.state import ProjectState

        if nodes is None:
            targets = self.leaf_nodes()
        elif isinstance(nodes, tuple) and len(nodes) == 2 and isinstance(nodes[0], str):
            targets = [nodes]
        else:
            targets = list(nodes)
        if not targets:
            return ProjectState()
        wanted: set[Key] = set()
        for target in targets:
            wanted |= self.ancestors(target)
        if not at_end:
            wanted -= set(targets)
        state = ProjectState()
        for key in self._ordered(wanted):
            migration = self.nodes[key]
            if migration is not None:
                migration.mutate_state(state, preserve=False)
        return state
