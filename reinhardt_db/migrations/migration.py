"""``Migration``: the class every migration file defines.

::

    class Migration(migrations.Migration):
        dependencies = [("accounts", "0001_initial")]
        operations = [migrations.AddField("user", "bio", models.TextField(default=""))]

``initial`` marks a migration that creates an app's tables (``--fake-initial``
may then skip it when they exist), ``atomic = False`` runs it outside a
transaction, ``replaces`` lists the migrations a squashed one stands for, and
``run_before`` makes other migrations depend on this one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reinhardt_db.migrations.exceptions import IrreversibleError

if TYPE_CHECKING:
    from reinhardt_db.migrations.editor import SchemaEditorProtocol
    from reinhardt_db.migrations.operations.base import Operation
    from reinhardt_db.migrations.state import ProjectState

__all__ = ["Migration"]

#: Migration names made of operation fragments stay below this length.
MAX_NAME_LENGTH = 52


class Migration:
    """One migration of app ``app_label``, called ``name`` (its file name without ``.py``)."""

    operations: list[Operation] = []
    dependencies: list[tuple[str, str]] = []
    run_before: list[tuple[str, str]] = []
    replaces: list[tuple[str, str]] = []
    initial: bool | None = None
    atomic: bool = True

    def __init__(self, name: str, app_label: str) -> None:
        self.name = name
        self.app_label = app_label
        # Instances own their lists: the loader and squashing change them.
        self.operations = list(type(self).operations)
        self.dependencies = [(d[0], d[1]) for d in type(self).dependencies]
        self.run_before = [(d[0], d[1]) for d in type(self).run_before]
        self.replaces = [(d[0], d[1]) for d in type(self).replaces]

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Migration)
            and self.name == other.name
            and self.app_label == other.app_label
        )

    def __hash__(self) -> int:
        return hash((self.app_label, self.name))

    def __repr__(self) -> str:
        return f"<Migration {self.app_label}.{self.name}>"

    def __str__(self) -> str:
        return f"{self.app_label}.{self.name}"

    @property
    def key(self) -> tuple[str, str]:
        """``(app_label, name)``: the node of this migration in the graph."""
        return self.app_label, self.name

    def mutate_state(self, project_state: ProjectState, preserve: bool = True) -> ProjectState:
        """Return ``project_state`` with this migration's operations applied.

        With ``preserve`` (the default) the given state is left untouched and a
        changed copy is returned; otherwise it is changed in place.
        """
        new_state = project_state.clone() if preserve else project_state
        for operation in self.operations:
            operation.state_forwards(self.app_label, new_state)
        return new_state

    async def apply(
        self,
        project_state: ProjectState,
        schema_editor: SchemaEditorProtocol,
        on_operation: Callable[[Operation], None] | None = None,
    ) -> ProjectState:
        """Run the operations forwards on ``schema_editor``; return the state after them.

        ``project_state`` (the state before this migration) is changed in place.
        With ``schema_editor.collect_sql`` each operation is preceded by a
        ``-- description`` comment, and operations that have no SQL (RunPython)
        say so instead of running. ``on_operation`` is called with each
        operation once it has run (the executor reports what ran when one fails).
        """
        for operation in self.operations:
            # Copying the whole state per operation is what makes a 200-model initial
            # migration slow; operations that never look at the state before skip it.
            old_state = (
                project_state.clone() if operation.reads_state_before else project_state
            )
            operation.state_forwards(self.app_label, project_state)
            if schema_editor.collect_sql:
                await schema_editor.execute(f"-- {operation.describe()}")
                if not operation.reduces_to_sql:
                    await schema_editor.execute(
                        "-- (this operation cannot be written as SQL; it runs only in migrate)"
                    )
                    continue
            await operation.database_forwards(
                self.app_label, schema_editor, old_state, project_state
            )
            if on_operation is not None:
                on_operation(operation)
        return project_state

    async def unapply(
        self,
        project_state: ProjectState,
        schema_editor: SchemaEditorProtocol,
        on_operation: Callable[[Operation], None] | None = None,
    ) -> ProjectState:
        """Run the operations backwards, last first; return ``project_state`` (the state before).

        ``project_state`` is the state before this migration; the state after
        each operation is rebuilt from it. Raise ``IrreversibleError`` naming
        the first operation that has no backwards, before anything runs.
        """
        steps: list[tuple[Operation, ProjectState, ProjectState]] = []
        state = project_state
        for operation in self.operations:
            if not operation.reversible:
                raise IrreversibleError(
                    f"Operation {operation.describe()} in {self} is not reversible."
                )
            before = state
            state = state.clone()
            operation.state_forwards(self.app_label, state)
            steps.insert(0, (operation, before, state))
        for operation, before, after in steps:
            if schema_editor.collect_sql:
                await schema_editor.execute(f"-- {operation.describe()}")
                if not operation.reduces_to_sql:
                    await schema_editor.execute(
                        "-- (this operation cannot be written as SQL; it runs only in migrate)"
                    )
                    continue
            await operation.database_backwards(self.app_label, schema_editor, after, before)
            if on_operation is not None:
                on_operation(operation)
        return project_state

    def suggest_name(self) -> str:
        """Return a name from the operations (``"post_subtitle"``), or ``auto_<timestamp>``."""
        if self.initial:
            return "initial"
        fragments = [op.migration_name_fragment for op in self.operations]
        if fragments and all(fragments):
            name = "_".join(f for f in fragments if f)
            if len(name) <= MAX_NAME_LENGTH:
                return name
            if len(fragments) > 1 and len(fragments[0] or "") <= MAX_NAME_LENGTH - 10:
                return f"{fragments[0]}_and_more"
        return "auto_" + dt.datetime.now(dt.UTC).strftime("%Y%m%d_%H%M")


def swappable_dependency(value: str) -> tuple[str, str]:
    """Return a dependency on the first migration of the app of ``"app_label.Model"``."""
    return value.split(".", 1)[0], "__first__"


def describe_key(key: tuple[str, str] | Any) -> str:
    """Return ``app.name`` for a migration key."""
    return f"{key[0]}.{key[1]}"
