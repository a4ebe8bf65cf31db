"""``MigrationExecutor``: plan which migrations to apply or unapply, run them, record them.

* ``migration_plan(targets)``: the ``(migration, backwards)`` steps that bring
  the database to ``targets`` (``("blog", "0002_x")``, or ``("blog", None)``
  for "zero": nothing of blog applied);
* ``migrate(plan)``: run the steps, each migration in one schema-editor block:
  in a transaction where the backend has transactional DDL (PostgreSQL,
  SQLite) with its ``reinhardt_migrations`` row written in the same
  transaction, so a migration that fails leaves schema and record as they
  were; ``atomic = False`` migrations run outside one. ``fake=True`` only
  records (``--fake``); ``fake_initial=True`` records an initial migration
  whose tables exist already (``--fake-initial``);
* ``check_replacements()``: mark a squashed migration applied once everything
  it replaces is.

``migrate_database()`` is what ``reinhardt migrate`` runs: it takes the
migrate lock (``migrations.lock``), reads what is applied once it holds it,
plans and migrates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reinhardt_db.migrations.exceptions import (
    InvalidMigrationPlan,
    MigrationFailed,
    NodeNotFoundError,
    format_key,
)
from reinhardt_db.migrations.loader import MigrationLoader
from reinhardt_db.migrations.recorder import MigrationRecorder
from reinhardt_db.routers import router

if TYPE_CHECKING:
    from reinhardt_db.backends import Database
    from reinhardt_db.migrations.migration import Migration
    from reinhardt_db.migrations.operations.base import Operation
    from reinhardt_db.migrations.state import ProjectState

__all__ = ["MigrationExecutor", "Plan", "Progress", "Step", "Target"]

#: ``(app_label, migration name)``, or ``(app_label, None)`` for "zero".
Target = tuple[str, str | None]
#: Steps in order: ``(migration, backwards)``.
Plan = list[tuple["Migration", bool]]


@dataclass(frozen=True)
class Step:
    """What ``migrate`` reports about one migration: started (``seconds`` None) or done.

    ``how`` is ``"applied"``, ``"unapplied"``, ``"faked"`` or ``"faked-initial"``.
    """

    migration: Migration
    backwards: bool
    how: str = ""
    seconds: float | None = None


#: Called as each migration starts and ends.
Progress = Callable[[Step], None]


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

    # -- running --------------------------------------------------------------------

    async def migrate(
        self,
        plan: Plan,
        *,
        fake: bool = False,
        fake_initial: bool = False,
        progress: Progress | None = None,
    ) -> None:
        """Run ``plan`` (all forwards or all backwards), one migration after another.

        Raise ``MigrationFailed`` naming the migration and the operation that
        failed; the migrations before it stay applied and recorded.
        """
        await self.recorder.ensure_schema()
        if plan:
            directions = {backwards for _migration, backwards in plan}
            if len(directions) > 1:
                raise InvalidMigrationPlan(
                    "This plan both applies and unapplies migrations: "
                    + ", ".join(f"{m}{' (backwards)' if b else ''}" for m, b in plan)
                    + ". Migrate to each target separately."
                )
            if directions == {False}:
                state = self.applied_state()
                for migration, _ in plan:
                    state = await self.apply_migration(
                        state, migration, fake=fake, fake_initial=fake_initial,
                        progress=progress,
                    )
            else:
                states = self._states_before([m for m, _ in plan])
                for migration, _ in plan:
                    await self.unapply_migration(
                        states[migration.key], migration, fake=fake, progress=progress
                    )
        await self.check_replacements()

    def _applied_in_graph(self) -> set[tuple[str, str]]:
        return {key for key in self._applied_nodes() if key in self.loader.graph.nodes}

    def applied_state(self) -> ProjectState:
        """Return the models' state after the migrations the database has applied."""
        return self.loader.project_state(sorted(self._applied_in_graph()))

    def _states_before(self, migrations: list[Migration]) -> dict[tuple[str, str], ProjectState]:
        """Return the state just before each of ``migrations`` (all applied), by one replay."""
        from reinhardt_db.migrations.state import ProjectState

        wanted = {m.key for m in migrations}
        graph = self.loader.graph
        state = ProjectState()
        states: dict[tuple[str, str], ProjectState] = {}
        for key in graph.ordered(self._applied_in_graph() | wanted):
            if key in wanted:
                states[key] = state.clone()
            migration = graph.nodes[key]
            if migration is not None:
                migration.mutate_state(state, preserve=False)
        return states

    async def apply_migration(
        self,
        state: ProjectState,
        migration: Migration,
        *,
        fake: bool = False,
        fake_initial: bool = False,
        progress: Progress | None = None,
    ) -> ProjectState:
        """Apply ``migration`` to the database and record it; return the state after it."""
        if progress is not None:
            progress(Step(migration, False))
        started = time.perf_counter()
        how = "faked" if fake else "applied"
        if not fake and fake_initial and await self.detect_soft_applied(state, migration):
            fake, how = True, "faked-initial"
        if fake:
            state = migration.mutate_state(state, preserve=False)
            await self.record_applied(migration)
        else:
            ran: list[Operation] = []
            try:
                async with self.db.schema_editor(atomic=migration.atomic) as editor:
                    state = await migration.apply(state, editor, on_operation=ran.append)
                    await self.record_applied(migration)
            except MigrationFailed:
                raise
            except Exception as error:
                raise self._failed(migration, ran, error, backwards=False) from error
        if progress is not None:
            progress(Step(migration, False, how, time.perf_counter() - started))
        return state

    async def unapply_migration(
        self,
        state: ProjectState,
        migration: Migration,
        *,
        fake: bool = False,
        progress: Progress | None = None,
    ) -> ProjectState:
        """Undo ``migration`` (``state`` is the state before it) and drop its record."""
        if progress is not None:
            progress(Step(migration, True))
        started = time.perf_counter()
        if fake:
            await self.record_unapplied(migration)
        else:
            ran: list[Operation] = []
            try:
                async with self.db.schema_editor(atomic=migration.atomic) as editor:
                    await migration.unapply(state, editor, on_operation=ran.append)
                    await self.record_unapplied(migration)
            except MigrationFailed:
                raise
            except Exception as error:
                raise self._failed(migration, ran, error, backwards=True) from error
        if progress is not None:
            how = "faked" if fake else "unapplied"
            progress(Step(migration, True, how, time.perf_counter() - started))
        return state

    def _failed(
        self, migration: Migration, ran: list[Operation], error: Exception, backwards: bool
    ) -> MigrationFailed:
        operations = list(reversed(migration.operations)) if backwards else migration.operations
        rolled_back = migration.atomic and self.db.features.supports_transactional_ddl
        verb = "unapplying" if backwards else "applying"
        if len(ran) < len(operations):
            failing = operations[len(ran)]
            where = f" at operation {len(ran) + 1} of {len(operations)} ({failing.describe()})"
        else:
            where = " while recording it"
        message = f"{verb.capitalize()} {format_key(migration.key)} failed{where}: "
        message += _one_line(error) + ". "
        if rolled_back:
            message += "Nothing of it remains: its transaction was rolled back."
        elif ran:
            done = "; ".join(op.describe() for op in ran)
            why = ("this backend cannot roll DDL back" if migration.atomic
                   else "the migration is atomic = False")
            message += (
                f"Operations 1-{len(ran)} ran and stay in the database ({why}): {done}. "
                f"The migration is not recorded as {'unapplied' if backwards else 'applied'}; "
                "undo those operations by hand (or finish them) before migrating again."
            )
        else:
            message += "No operation of it had run."
        return MigrationFailed(message, migration, ran, rolled_back)

    async def detect_soft_applied(self, state: ProjectState, migration: Migration) -> bool:
        """Return whether an initial ``migration``'s tables and columns all exist already."""
        from reinhardt_db.backends.base.introspection import introspect
        from reinhardt_db.migrations.operations import AddField, CreateModel

        if migration.initial is False:
            return False
        if migration.initial is None and any(
            dep[0] == migration.app_label for dep in migration.dependencies
        ):
            return False
        after = migration.mutate_state(state)
        inspector = introspect(self.db)
        tables = set(await inspector.table_names())
        found = False
        for operation in migration.operations:
            if isinstance(operation, CreateModel):
                model = after.apps.get_model(migration.app_label, operation.name)
                if not router.allow_migrate_model(self.db.alias, model):
                    continue
                if model._meta.db_table not in tables:
                    return False
                if any(_junction_table(f) not in tables for f in model._meta.many_to_many
                       if _junction_table(f) is not None):
                    return False
                found = True
            elif isinstance(operation, AddField):
                model = after.apps.get_model(migration.app_label, operation.model_name)
                if not router.allow_migrate_model(self.db.alias, model):
                    continue
                if model._meta.db_table not in tables:
                    return False
                field = model._meta.get_field(operation.name)
                if getattr(field, "many_to_many", False):
                    junction = _junction_table(field)
                    if junction is not None and junction not in tables:
                        return False
                    found = True
                    continue
                columns = {c.name for c in await inspector.get_columns(model._meta.db_table)}
                if field.column not in columns:
                    return False
                found = True
        return found


def _junction_table(field: Any) -> str | None:
    """The table of a many-to-many field's created junction model (None for ``through=``)."""
    meta = getattr(field.through, "_meta", None)
    return meta.db_table if meta is not None and meta.auto_created else None


async def migrate_database(
    db: Database,
    app_label: str | None = None,
    migration_name: str | None = None,
    *,
    fake: bool = False,
    fake_initial: bool = False,
    progress: Progress | None = None,
    lock_wait: float | None = None,
    on_lock_wait: Callable[[], None] | None = None,
    **loader_kwargs: Any,
) -> Plan:
    """Migrate ``db`` to ``[app_label [migration_name|"zero"]]`` under the migrate lock.

    What is applied is read after the lock is held, so two runs started at
    once apply each migration once. Return the plan that ran.
    """
    from reinhardt_db.migrations.lock import DEFAULT_LOCK_TIMEOUT, migrate_lock

    wait = DEFAULT_LOCK_TIMEOUT if lock_wait is None else lock_wait
    async with migrate_lock(db, wait=wait, on_wait=on_lock_wait):
        executor = await MigrationExecutor.create(db, **loader_kwargs)
        executor.loader.check_conflicts()
        executor.loader.check_consistent_history()
        plan = executor.migration_plan(executor.targets(app_label, migration_name))
        await executor.migrate(plan, fake=fake, fake_initial=fake_initial, progress=progress)
        return plan


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()).rstrip(".")
    return text if text else type(error).__name__
