"""Helpers for the migration tests: a throwaway app package and a recording schema editor."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reinhardt_db.apps import Apps
from reinhardt_db.migrations.autodetector import MigrationAutodetector
from reinhardt_db.migrations.loader import MigrationLoader
from reinhardt_db.migrations.questioner import MigrationQuestioner
from reinhardt_db.migrations.state import ProjectState
from reinhardt_db.migrations.writer import MigrationWriter
from reinhardt_db.models import Model


@dataclass
class App:
    """An installed app package in a temporary directory."""

    label: str
    path: Path
    registry: Apps

    @property
    def migrations_dir(self) -> Path:
        return self.path / "migrations"

    def write_migration(self, name: str, source: str) -> Path:
        self.migrations_dir.mkdir(exist_ok=True)
        init = self.migrations_dir / "__init__.py"
        if not init.exists():
            init.write_text("")
        path = self.migrations_dir / f"{name}.py"
        path.write_text(source)
        return path

    def loader(self, applied: Any = None) -> MigrationLoader:
        return MigrationLoader(applied, registry=self.registry)

    def detect(self, questioner: MigrationQuestioner | None = None) -> dict[str, list[Any]]:
        """Return the autodetector's migrations for this app (without writing them)."""
        loader = self.loader()
        detector = MigrationAutodetector(
            loader.project_state(), ProjectState.from_apps(self.registry), questioner
        )
        return detector.changes(loader.graph, trim_to_apps=[self.label])

    def makemigrations(self, questioner: MigrationQuestioner | None = None) -> list[Path]:
        """Detect and write migrations like ``makemigrations``; return the files written."""
        changes = self.detect(questioner)
        return [
            MigrationWriter(m, registry=self.registry).write()
            for migrations in changes.values() for m in migrations
        ]


_counter = itertools.count()


def undefine(app: App, model_name: str) -> None:
    """Remove a model from the app (as if its class was deleted from models.py)."""
    app.registry.all_models[app.label].pop(model_name.lower())


def define(
    app: App, name: str, /, meta: dict[str, Any] | None = None, **fields: Any
) -> type[Any]:
    """Declare (or redeclare, for the next step of a scenario) model ``name`` in ``app``."""
    attrs: dict[str, Any] = dict(fields)
    attrs["Meta"] = type("Meta", (), {"app_label": app.label, **(meta or {})})
    attrs["__module__"] = __name__
    # A distinct qualname per declaration: redeclaring is intended here, not a reload.
    attrs["__qualname__"] = f"{name}_{next(_counter)}"
    return type(name, (Model,), attrs)


def forget_modules(prefix: str) -> None:
    for name in [n for n in sys.modules if n == prefix or n.startswith(prefix + ".")]:
        del sys.modules[name]


@dataclass
class Call:
    method: str
    table: str
    args: tuple[Any, ...]


@dataclass
class RecordingEditor:
    """A schema editor that records what operations ask of it (``SchemaEditorProtocol``)."""

    vendor: str = "sqlite"
    collect_sql: bool = False
    atomic: bool = True
    db: Any = None
    calls: list[Call] = field(default_factory=list)
    statements: list[tuple[str, Sequence[Any] | None]] = field(default_factory=list)

    def _record(self, method: str, model: type[Any], *args: Any) -> None:
        self.calls.append(Call(method, model._meta.db_table, args))

    async def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.statements.append((sql, params))

    async def create_model(self, model: type[Any]) -> None:
        self._record("create_model", model, tuple(f.name for f in model._meta.fields))

    async def delete_model(self, model: type[Any]) -> None:
        self._record("delete_model", model)

    async def alter_db_table(self, model: type[Any], old: str, new: str) -> None:
        self._record("alter_db_table", model, old, new)

    async def add_field(self, model: type[Any], field: Any) -> None:
        self._record("add_field", model, field.name, field.get_default())

    async def remove_field(self, model: type[Any], field: Any) -> None:
        self._record("remove_field", model, field.name)

    async def alter_field(
        self, model: type[Any], old_field: Any, new_field: Any, strict: bool = False
    ) -> None:
        self._record("alter_field", model, old_field.name, new_field.name,
                     old_field.max_length, new_field.max_length, new_field.get_default())

    async def rename_field(self, model: type[Any], old_field: Any, new_field: Any) -> None:
        self._record("rename_field", model, old_field.column, new_field.column)

    async def add_index(self, model: type[Any], index: Any, *, concurrently: bool = False) -> None:
        self._record("add_index", model, index.name, concurrently)

    async def remove_index(
        self, model: type[Any], index: Any, *, concurrently: bool = False
    ) -> None:
        self._record("remove_index", model, index.name, concurrently)

    async def rename_index(self, model: type[Any], old_index: Any, new_index: Any) -> None:
        self._record("rename_index", model, old_index.name, new_index.name)

    async def add_constraint(self, model: type[Any], constraint: Any) -> None:
        self._record("add_constraint", model, constraint.name)

    async def remove_constraint(self, model: type[Any], constraint: Any) -> None:
        self._record("remove_constraint", model, constraint.name)

    async def alter_unique_together(
        self, model: type[Any], old: Sequence[Sequence[str]], new: Sequence[Sequence[str]]
    ) -> None:
        self._record("alter_unique_together", model, sorted(map(tuple, old)),
                     sorted(map(tuple, new)))
