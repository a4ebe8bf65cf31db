"""``MigrationAutodetector``: compare two states and write the operations between them.

``from_state`` is the replayed history (``MigrationLoader.project_state()``),
``to_state`` the models in the code (``ProjectState.from_apps()``). Changes are
found in phases; every operation found is applied at once to a working copy
of ``from_state``, so each later phase compares that copy (renames already
followed) with ``to_state``, and the operations always replay cleanly in the
order they were found:

1. renamed models (asked), deleted models, created models (a model that
   another new model refers to comes first);
2. renamed fields (asked); indexes, constraints and ``unique_together``
   groups that go away or change;
3. added fields (a one-off default is asked for a NOT NULL field without
   one), removed fields, altered fields;
4. new indexes, constraints and groups; table names; Python-only options.

Operations on another app's models record a dependency on that app's
migration (the new one when it creates the model, its latest otherwise).
Relations order the models (``_ordering.py``): created models come after the
models they point at, a cycle is split (``CreateModel`` without the relation
that closes it, ``AddField`` after), dropped models go once nothing points at
them; where two new apps need each other, an app gets a second migration
(``_chunks.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from reinhardt_db.migrations._chunks import ChunkPlan
from reinhardt_db.migrations._ordering import (
    dependents_first,
    field_needs,
    options_without,
    referenced_first,
    signatures_renamed,
)
from reinhardt_db.migrations.graph import Key, MigrationGraph
from reinhardt_db.migrations.migration import Migration
from reinhardt_db.migrations.operations import (
    AddConstraint,
    AddField,
    AddIndex,
    AlterField,
    AlterModelOptions,
    AlterModelTable,
    AlterUniqueTogether,
    CreateModel,
    DeleteModel,
    Operation,
    RemoveConstraint,
    RemoveField,
    RemoveIndex,
    RenameField,
    RenameIndex,
    RenameModel,
)
from reinhardt_db.migrations.optimizer import MigrationOptimizer
from reinhardt_db.migrations.questioner import MigrationQuestioner
from reinhardt_db.migrations.state import (
    ALTER_OPTION_KEYS,
    ProjectState,
    field_signature,
)
from reinhardt_db.models.fields.base import NOT_PROVIDED
from reinhardt_db.models.fields.composite import CompositePrimaryKey

__all__ = ["MigrationAutodetector"]

#: A dependency of an app's new migration on another app: ``(app, None)`` for
#: that app's new migration in this run, ``(app, name)`` for an existing one.
_NEW = "__new__"


class MigrationAutodetector:
    """Find the operations that turn ``from_state`` into ``to_state``.

    ::

        detector = MigrationAutodetector(loader.project_state(), ProjectState.from_apps())
        changes = detector.changes(loader.graph)   # {"blog": [Migration, ...]}
    """

    def __init__(
        self,
        from_state: ProjectState,
        to_state: ProjectState,
        questioner: MigrationQuestioner | None = None,
    ) -> None:
        self.from_state = from_state
        self.to_state = to_state
        self.questioner = questioner or MigrationQuestioner()

    # -- entry points -------------------------------------------------------------

    def changes(
        self,
        graph: MigrationGraph,
        trim_to_apps: Iterable[str] | None = None,
        migration_name: str | None = None,
    ) -> dict[str, list[Migration]]:
        """Return ``{app_label: [Migration]}``: named, numbered and wired to ``graph``.

        ``trim_to_apps`` keeps only those apps (and the apps they need).
        """
        operations = self.detect_operations()
        return self.arrange_for_graph(operations, graph, trim_to_apps, migration_name)

    def detect_operations(self) -> dict[str, list[Operation]]:
        """Return ``{app_label: [operations]}`` (optimized), and fill ``self.app_dependencies``."""
        self.current = self.from_state.clone()
        self.operations: dict[str, list[Operation]] = {}
        self.app_dependencies: dict[str, set[Key]] = {}
        self.created_models: set[Key] = set()
        self.plan = ChunkPlan()
        self._renamed_models()
        self._deleted_models()
        self._created_models()
        kept = [key for key in self.to_state.models if key in self.current.models
                and key not in self.created_models]
        for key in kept:
            self._renamed_fields(key)
        for key in kept:
            self._removed_indexes_and_constraints(key)
        for key in kept:
            self._added_fields(key)
        for key in kept:
            self._removed_fields(key)
        for key in kept:
            self._altered_fields(key)
        for key in kept:
            self._added_indexes_and_constraints(key)
            self._altered_table_and_options(key)
        self.chunked = self.plan.optimized(MigrationOptimizer())
        return {
            app: [op for _index, ops in chunks for op in ops]
            for app, chunks in self.chunked.items()
        }

    # -- bookkeeping --------------------------------------------------------------

    def _add(self, app_label: str, operation: Operation, references: Iterable[Key] = ()) -> None:
        operation.state_forwards(app_label, self.current)
        self.operations.setdefault(app_label, []).append(operation)
        needs: set[tuple[str, Any]] = set()
        for other_app, model in references:
            if other_app == app_label:
                continue
            if (other_app, model) in self.created_models:
                self.app_dependencies.setdefault(app_label, set()).add((other_app, _NEW))
                needs.add((other_app, self.plan.chunk_creating((other_app, model))))
            else:
                self.app_dependencies.setdefault(app_label, set()).add((other_app, "__latest__"))
                needs.add((other_app, "__latest__"))
        self.plan.place(app_label, operation, needs)

    # -- models -------------------------------------------------------------------

    def _renamed_models(self) -> None:
        added = [k for k in self.to_state.models if k not in self.from_state.models]
        removed = [k for k in self.from_state.models if k not in self.to_state.models]
        for new_key in added:
            new_model = self.to_state.models[new_key]
            for old_key in removed:
                old_model = self.current.models.get(old_key)
                if old_model is None or old_key[0] != new_key[0]:
                    continue
                if signatures_renamed(old_model, new_model.name) != (
                    new_model.field_signatures()
                ):
                    continue
                if self.questioner.ask_rename_model(old_model, new_model):
                    # Other apps' migrations that name the old model must run before it.
                    referrers = {
                        key for key, model in self.current.models.items()
                        if key[0] != old_key[0] and old_key in model.related_keys()
                    }
                    self._add(new_key[0], RenameModel(old_model.name, new_model.name),
                              referrers)
                    removed.remove(old_key)
                    break

    def _deleted_models(self) -> None:
        deleted = [k for k in self.current.models if k not in self.to_state.models]
        if not deleted:
            return
        order = dependents_first(deleted, self.current)
        # A table is dropped only once nothing refers to it: first the relations the kept
        # models lost, then, among deleted models, those pointing at a model dropped
        # before their own (a cycle cannot be dropped table by table).
        dropped_before = {key: set(order[:i]) for i, key in enumerate(order)}
        for key, model in list(self.current.models.items()):
            kept = self.to_state.models.get(key)
            if kept is None:
                blocking = dropped_before[key]
            else:
                blocking = set(deleted)
            for name, field in list(model.fields.items()):
                if isinstance(field, CompositePrimaryKey) or (
                    kept is not None and name in kept.fields
                ):
                    continue
                if field_needs(field, key[0], model.name) & blocking:
                    self._add(key[0], RemoveField(model.name_lower, name))
        for key in order:
            self._add(key[0], DeleteModel(self.current.models[key].name))

    def _created_models(self) -> None:
        added = [k for k in self.to_state.models if k not in self.current.models]
        self.created_models = set(added)
        # Referenced models first (foreign keys, many-to-many targets and through models),
        # declaration order otherwise. A relation to a model created later (a cycle) is
        # left out of CreateModel and added with AddField once every model exists.
        order = referenced_first(added, self.to_state)
        created: set[Key] = set()
        deferred: list[tuple[Key, str, Any]] = []
        for key in order:
            model = self.to_state.models[key]
            fields = []
            for name, field in model.fields.items():
                refs = (
                    set() if isinstance(field, CompositePrimaryKey)
                    else field_needs(field, key[0], model.name)
                )
                if any(ref in self.created_models and ref not in created for ref in refs):
                    deferred.append((key, name, field))
                else:
                    fields.append((name, field))
            options = {k: v for k, v in model.options.items() if v or k == "managed"}
            skipped = {n for k, n, _f in deferred if k == key}
            if skipped:
                options = options_without(options, skipped)
            inline: set[Key] = set()
            for _name, field in fields:
                if not isinstance(field, CompositePrimaryKey):
                    inline |= field_needs(field, key[0], model.name)
            self._add(key[0], CreateModel(model.name, fields, options), inline)
            created.add(key)
        for key, name, field in deferred:
            model = self.to_state.models[key]
            self._add(key[0], AddField(model.name_lower, name, field),
                      field_needs(field, key[0], model.name))
            self._restore_options(key)

    def _restore_options(self, key: Key) -> None:
        """Add back the indexes, constraints and groups a deferred field left out."""
        model = self.to_state.models[key]
        current = self.current.models[key]
        if not all(
            name in current.fields for name in model.fields
        ):
            return
        names = {i.name for i in current.options["indexes"]}
        for index in model.options["indexes"]:
            if index.name not in names:
                self._add(key[0], AddIndex(model.name_lower, index))
        names = {c.name for c in current.options["constraints"]}
        for constraint in model.options["constraints"]:
            if constraint.name not in names:
                self._add(key[0], AddConstraint(model.name_lower, constraint))
        groups = model.options.get("unique_together", set())
        if current.options.get("unique_together", set()) != groups:
            self._add(key[0], AlterUniqueTogether(model.name_lower, groups))

    # -- fields -------------------------------------------------------------------

    def _renamed_fields(self, key: Key) -> None:
        old_model, new_model = self.current.models[key], self.to_state.models[key]
        removed = [n for n in old_model.fields if n not in new_model.fields]
        for new_name in [n for n in new_model.fields if n not in old_model.fields]:
            new_field = new_model.fields[new_name]
            for old_name in removed:
                old_field = old_model.fields[old_name]
                if not _same_but_name(old_name, old_field, new_field):
                    continue
                if self.questioner.ask_rename(new_model.name, old_name, new_name, new_field):
                    self._add(key[0], RenameField(new_model.name_lower, old_name, new_name))
                    removed.remove(old_name)
                    if field_signature(old_field) != field_signature(new_field):
                        self._add(key[0], AlterField(new_model.name_lower, new_name, new_field))
                    break
                old_model = self.current.models[key]

    def _added_fields(self, key: Key) -> None:
        old_model, new_model = self.current.models[key], self.to_state.models[key]
        for name, field in new_model.fields.items():
            if name in old_model.fields or isinstance(field, CompositePrimaryKey):
                continue
            preserve_default = True
            if _needs_one_off_default(field):
                value = self.questioner.ask_not_null_addition(name, new_model.name)
                field = _with_default(field, value)
                preserve_default = False
            self._add(key[0], AddField(new_model.name_lower, name, field, preserve_default),
                      field_needs(field, key[0], new_model.name))

    def _removed_fields(self, key: Key) -> None:
        old_model, new_model = self.current.models[key], self.to_state.models[key]
        for name, field in list(old_model.fields.items()):
            if name not in new_model.fields and not isinstance(field, CompositePrimaryKey):
                self._add(key[0], RemoveField(new_model.name_lower, name))

    def _altered_fields(self, key: Key) -> None:
        old_model, new_model = self.current.models[key], self.to_state.models[key]
        for name, new_field in new_model.fields.items():
            old_field = old_model.fields.get(name)
            if old_field is None or isinstance(new_field, CompositePrimaryKey):
                continue
            if field_signature(old_field) == field_signature(new_field):
                continue
            preserve_default = True
            if (
                getattr(old_field, "null", False) and not new_field.null
                and not new_field.has_default() and not new_field.has_db_default()
                and not new_field.is_auto
            ):
                value = self.questioner.ask_not_null_alteration(name, new_model.name)
                if value is not NOT_PROVIDED:
                    new_field = _with_default(new_field, value)
                    preserve_default = False
            self._add(key[0], AlterField(new_model.name_lower, name, new_field, preserve_default),
                      field_needs(new_field, key[0], new_model.name))

    # -- indexes, constraints, unique_together --------------------------------------

    def _removed_indexes_and_constraints(self, key: Key) -> None:
        app = key[0]
        old_model, new_model = self.current.models[key], self.to_state.models[key]
        model_name = new_model.name_lower
        new_indexes = {i.name: i for i in new_model.options["indexes"]}
        old_indexes = {i.name: i for i in old_model.options["indexes"]}
        gone = [i for name, i in old_indexes.items()
                if name not in new_indexes or new_indexes[name] != i]
        added = [i for name, i in new_indexes.items() if name not in old_indexes]
        for index in gone:
            twin = next((a for a in added if _same_index_but_name(index, a)), None)
            if twin is not None and index.name not in new_indexes:
                added.remove(twin)
                self._add(app, RenameIndex(model_name, new_name=twin.name, old_name=index.name))
            else:
                self._add(app, RemoveIndex(model_name, index.name))
        new_constraints = {c.name: c for c in new_model.options["constraints"]}
        for constraint in list(self.current.models[key].options["constraints"]):
            if new_constraints.get(constraint.name) != constraint:
                self._add(app, RemoveConstraint(model_name, constraint.name))
        old_groups = self.current.models[key].options.get("unique_together", set())
        kept = old_groups & new_model.options.get("unique_together", set())
        if kept != old_groups:
            self._add(app, AlterUniqueTogether(model_name, kept))

    def _added_indexes_and_constraints(self, key: Key) -> None:
        app = key[0]
        old_model, new_model = self.current.models[key], self.to_state.models[key]
        model_name = new_model.name_lower
        old_index_names = {i.name for i in old_model.options["indexes"]}
        for index in new_model.options["indexes"]:
            if index.name not in old_index_names:
                self._add(app, AddIndex(model_name, index))
        old_constraint_names = {c.name for c in old_model.options["constraints"]}
        for constraint in new_model.options["constraints"]:
            if constraint.name not in old_constraint_names:
                self._add(app, AddConstraint(model_name, constraint))
        new_groups = new_model.options.get("unique_together", set())
        if self.current.models[key].options.get("unique_together", set()) != new_groups:
            self._add(app, AlterUniqueTogether(model_name, new_groups))

    def _altered_table_and_options(self, key: Key) -> None:
        app = key[0]
        old_model, new_model = self.current.models[key], self.to_state.models[key]
        if old_model.db_table != new_model.db_table:
            self._add(app, AlterModelTable(new_model.name_lower, new_model.options.get("db_table")))
        old_options = {k: old_model.options[k] for k in ALTER_OPTION_KEYS if k in old_model.options}
        new_options = {k: new_model.options[k] for k in ALTER_OPTION_KEYS if k in new_model.options}
        if old_options != new_options:
            self._add(app, AlterModelOptions(new_model.name_lower, new_options))

    # -- migrations ---------------------------------------------------------------

    def arrange_for_graph(
        self,
        operations: dict[str, list[Operation]],
        graph: MigrationGraph,
        trim_to_apps: Iterable[str] | None = None,
        migration_name: str | None = None,
    ) -> dict[str, list[Migration]]:
        """Number and name the migrations of each app, depending on the app's current leaf.

        An app gets one migration, or several where ``detect_operations()`` had
        to split them (two new apps whose models refer to each other).
        """
        apps = set(operations)
        if trim_to_apps is not None:
            wanted = set(trim_to_apps)
            todo = list(wanted & apps)
            while todo:  # keep the apps the requested ones depend on
                for other, name in self.app_dependencies.get(todo.pop(), ()):
                    if name == _NEW and other not in wanted:
                        wanted.add(other)
                        todo.append(other)
            apps &= wanted
        chunked = getattr(self, "chunked", None)
        plan: dict[str, list[tuple[int, list[Operation]]]] = {}
        for app in apps:
            if chunked is not None and [op for _i, ops in chunked.get(app, []) for op in ops] == (
                operations[app]
            ):
                plan[app] = chunked[app]
            else:  # operations from elsewhere: one migration with the app's dependencies
                plan[app] = [(0, operations[app])]
        names: dict[tuple[str, int], str] = {}
        changes: dict[str, list[Migration]] = {}
        for app in sorted(apps):
            leaves = graph.leaf_nodes(app)
            number = _parse_number(leaves[-1][1]) + 1 if leaves else 1
            previous: tuple[str, str] | None = leaves[-1] if leaves else None
            initial = None if leaves else self.questioner.ask_initial(app)
            for index, chunk_ops in plan[app]:
                migration = Migration("unnamed", app)
                migration.operations = chunk_ops
                migration.dependencies = [previous] if previous is not None else []
                if initial is not None:
                    migration.initial = initial
                suffix = migration_name or migration.suggest_name()
                migration.name = f"{number:04d}_{suffix}"
                names[app, index] = migration.name
                previous = (app, migration.name)
                number += 1
                changes.setdefault(app, []).append(migration)
        for app, migrations in changes.items():
            for (index, _ops), migration in zip(plan[app], migrations, strict=True):
                if len(plan[app]) == 1 and plan[app][0][0] == 0 and chunked is None:
                    wanted_deps = {
                        (o, 0 if n == _NEW else n) for o, n in self.app_dependencies.get(app, ())
                    }
                else:
                    wanted_deps = self.plan.needs_of(app, index, self.chunked)
                for other, needed in sorted(wanted_deps, key=repr):
                    if isinstance(needed, int):
                        target = ChunkPlan.migration_of(names, other, needed)
                        if target is not None and (other, target) not in migration.dependencies:
                            migration.dependencies.append((other, target))
                    else:
                        leaves = graph.leaf_nodes(other)
                        dependency = leaves[-1] if leaves else (other, "__first__")
                        if dependency not in migration.dependencies:
                            migration.dependencies.append(dependency)
        return changes


def _parse_number(name: str) -> int:
    match = re.match(r"^\d+", name)
    return int(match.group()) if match else 0


def _same_but_name(old_name: str, old_field: Any, new_field: Any) -> bool:
    if isinstance(old_field, CompositePrimaryKey) or isinstance(new_field, CompositePrimaryKey):
        return False
    if field_signature(old_field) == field_signature(new_field):
        return True
    # db_column=<old name> on the new field keeps the column: still a rename.
    if new_field.db_column == (old_field.db_column or old_name):
        _n, _p, args, kwargs = new_field.deconstruct()
        kwargs.pop("db_column", None)
        stripped = type(new_field)(*args, **kwargs)
        return field_signature(stripped) == field_signature(old_field)
    return False


def _same_index_but_name(old: Any, new: Any) -> bool:
    _p1, a1, k1 = old.deconstruct()
    _p2, a2, k2 = new.deconstruct()
    k1.pop("name", None)
    k2.pop("name", None)
    return bool(type(old) is type(new) and a1 == a2 and k1 == k2)


def _needs_one_off_default(field: Any) -> bool:
    """Return whether existing rows have no value to take for a newly added ``field``."""
    return not (
        field.null
        or getattr(field, "many_to_many", False)  # no column: rows are added later
        or field.has_default()
        or field.has_db_default()
        or field.is_auto
        or (field.blank and field.empty_strings_allowed)
        or getattr(field, "auto_now", False)
        or getattr(field, "auto_now_add", False)
    )


def _with_default(field: Any, value: Any) -> Any:
    _n, _p, args, kwargs = field.deconstruct()
    kwargs["default"] = value
    return type(field)(*args, **kwargs)


