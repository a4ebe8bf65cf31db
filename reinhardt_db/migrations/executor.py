"""``MigrationExecutor``: plan which migrations to apply or unapply, and record them.

This part plans and keeps the books; applying a plan's DDL (one schema-editor
block per migration, the migrate lock) comes with the executor's second half.
What exists:

* ``migration_plan(targets)``: the ``(migration, backwards)`` steps that bring
  the database to ``targets`` (``("blog", "0002_x")``, or ``("blog", None)``
  for "zero": nothing of blog applied);
* ``fake(plan)``: record the steps as done without running them (``--fake``);
* ``check_replacements()``: mark a squashed migration applied once everything
  it replaces is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from reinhardt_db.migrations.exceptions import InvalidMigrationPlan, NodeNotFoundError
from reinhardt_db.migrations.loader import MigrationLoader
from reinhardt_db.migrations.recorder import MigrationRecorder

if TYPE_CHECKING:
    from reinhardt_db.backends import Database
    from reinhardt_db.migrations.migration import Migration

__all__ = ["MigrationExecutor", "Plan", "Target"]

#: ``(app_label, migration name)``, or ``(app_label, None)`` for "zero".
Target = tuple[str, str | None]
#: Steps in order: ``(migration, backwards)``.
Plan = list[tuple["Migration", bool]]


class MigrationExecutor:
    """Plan and record migrations on one database.

    Build it with ``await MigrationExecutor.create(db)`` so the loader knows
    what the database has applied.
    """

    def __init__(self, db: Database, loader: MigrationLoader) -> None:
        self.db = db
        self.loader = loader
        self.recorder = MigrationRecorder(db)

    @classmethod
    async def create(cls, db: Database, **loader_kwargs: object) -> MigrationExecutor:
        """Return an executor whose loader has read ``db``'s applied migrations."""
        loader = await MigrationLoader.from_database(db, **loader_kwargs)
        return cls(db, loader)

    # -- targets --------------------------------------------------------------------

    def targets(self, app_label: str | None = None, migration: str | None = None) -> list[Target]:
        """Return the targets for ``migrate [APP [MIGRATION|zero]]``.

        No app: every leaf. An app alone: its leaf. ``"zero"``: ``(app, None)``.
        Otherwise the migration whose name starts with ``migration``.
        """
        graph = self.loader.graph
        if app_label is None:
            return list(graph.leaf_nodes())
        if app_label not in self.loader.migrated_apps:
            raise NodeNotFoundError(
                f"App '{app_label}' does not have migrations.", (app_label, migration or "")
            )
        if migration is None:
            return list(graph.leaf_nodes(app_label))
        if migration == "zero":
            return [(app_label, None)]
        return [self.loader.get_migration_by_prefix(app_label, migration).key]

    # -- planning -------------------------------------------------------------------

    def migration_plan(self, targets: Iterable[Target], clean_start: bool = False) -> Plan:
        """Return the steps that bring the database to ``targets``.

        A target that is applied already means "unapply what comes after it in
        its app"; ``(app, None)`` unapplies the whole app. ``clean_start``
        plans as if nothing were applied.
        """
        graph = self.loader.graph
        applied: dict[tuple[str, str], object] = (
            {} if clean_start else dict.fromkeys(self._applied_nodes())
        )
        plan: Plan = []
        for app_label, name in targets:
            if name is None:
                for root in graph.root_nodes(app_label):
                    self._unapply(graph.backwards_plan(root), applied, plan)
            elif (app_label, name) in applied:
                children = sorted(
                    child for child in graph.children[(app_label, name)] if child[0] == app_label
                )
                for child in children:
                    self._unapply(graph.backwards_plan(child), applied, plan)
            else:
                for key in graph.forwards_plan((app_label, name)):
                    if key not in applied:
                        migration = graph.nodes[key]
                        if migration is None:
                            raise InvalidMigrationPlan(f"Migration {key[0]}.{key[1]} is missing.")
                        plan.append((migration, False))
                        applied[key] = migration
        return plan

    def _unapply(
        self, keys: list[tuple[str, str]], applied: dict[tuple[str, str], object], plan: Plan
    ) -> None:
        for key in keys:
            if key in applied:
                migration = self.loader.graph.nodes[key]
                if migration is not None:
                    plan.append((migration, True))
                applied.pop(key)

    def _applied_nodes(self) -> set[tuple[str, str]]:
        """Return the graph nodes the database counts as applied (squashes included)."""
        applied = set(self.loader.applied)
        for key, migration in self.loader.graph.nodes.items():
            if migration is not None and migration.replaces and all(
                (r[0], r[1]) in applied for r in migration.replaces
            ):
                applied.add(key)
        return applied

    # -- bookkeeping ----------------------------------------------------------------

    async def record_applied(self, migration: Migration) -> None:
        """Record ``migration`` (or each migration it replaces) as applied."""
        if migration.replaces:
            for app_label, name in migration.replaces:
                await self.recorder.record_applied(app_label, name)
        else:
            await self.recorder.record_applied(migration.app_label, migration.name)
        self.loader.applied[migration.key] = True

    async def record_unapplied(self, migration: Migration) -> None:
        """Record ``migration`` (and each migration it replaces) as not applied."""
        if migration.replaces:
            for app_label, name in migration.replaces:
                await self.recorder.record_unapplied(app_label, name)
                self.loader.applied.pop((app_label, name), None)
        await self.recorder.record_unapplied(migration.app_label, migration.name)
        self.loader.applied.pop(migration.key, None)

    async def fake(self, plan: Plan) -> None:
        """Record every step of ``plan`` as done without running it (``migrate --fake``)."""
        await self.recorder.ensure_schema()
        for migration, backwards in plan:
            if backwards:
                await self.record_unapplied(migration)
            else:
                await self.record_applied(migration)

    async def check_replacements(self) -> None:
        """Record a squashed migration as applied when all it replaces are (Django does too)."""
        applied = await self.recorder.applied_migrations()
        for key, migration in self.loader.replacements.items():
            if key in applied:
                continue
            if all((r[0], r[1]) in applied for r in migration.replaces):
                await self.recorder.record_applied(*key)
