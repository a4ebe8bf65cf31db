"""Operations that run the user's SQL or Python, or split state from database changes."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from reinhardt_db.migrations.exceptions import IrreversibleError
from reinhardt_db.migrations.operations.base import Operation, allowed_code

if TYPE_CHECKING:
    from reinhardt_db.migrations.editor import SchemaEditorProtocol
    from reinhardt_db.migrations.state import ProjectState

__all__ = ["RunPython", "RunSQL", "SeparateDatabaseAndState"]

#: ``sql``/``reverse_sql`` of ``RunSQL``: one statement, or a list of statements
#: and ``(statement, params)`` pairs (``%s`` placeholders).
SQL = str | Sequence[str | tuple[str, Sequence[Any]]]


class SeparateDatabaseAndState(Operation):
    """Run ``database_operations`` on the database and ``state_operations`` on the state.

    For changes the state and the database must see differently, e.g. adopting
    a table that already exists (state: ``CreateModel``, database: nothing).
    """

    serialization_expand_args: ClassVar[list[str]] = ["database_operations", "state_operations"]

    def __init__(
        self,
        database_operations: Sequence[Operation] | None = None,
        state_operations: Sequence[Operation] | None = None,
    ) -> None:
        self.database_operations = list(database_operations or [])
        self.state_operations = list(state_operations or [])

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("SeparateDatabaseAndState", (), {...})`` with the non-empty lists."""
        kwargs: dict[str, Any] = {}
        if self.database_operations:
            kwargs["database_operations"] = self.database_operations
        if self.state_operations:
            kwargs["state_operations"] = self.state_operations
        return "SeparateDatabaseAndState", (), kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Apply the state operations only."""
        for operation in self.state_operations:
            operation.state_forwards(app_label, state)

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Run the database operations, each against the state its predecessors leave."""
        for operation in self.database_operations:
            next_state = from_state.clone()
            operation.state_forwards(app_label, next_state)
            await operation.database_forwards(app_label, schema_editor, from_state, next_state)
            from_state = next_state

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Undo the database operations in reverse order."""
        states = [to_state]
        for operation in self.database_operations[:-1]:
            state = states[-1].clone()
            operation.state_forwards(app_label, state)
            states.append(state)
        after = from_state
        for operation, before in zip(
            reversed(self.database_operations), reversed(states), strict=True
        ):
            if not operation.reversible:
                raise IrreversibleError(f"Operation {operation.describe()} is not reversible.")
            await operation.database_backwards(app_label, schema_editor, after, before)
            after = before

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        """Reversible when every database operation is."""
        return all(op.reversible for op in self.database_operations)

    def references_model(self, name: str, app_label: str) -> bool:
        """Return whether one of the operations references the model."""
        return any(
            op.references_model(name, app_label)
            for op in [*self.database_operations, *self.state_operations]
        )

    def describe(self) -> str:
        """``Custom state/database change combination``."""
        return "Custom state/database change combination"


class RunSQL(Operation):
    """Run raw SQL: ``RunSQL("UPDATE ...", reverse_sql="UPDATE ...")``.

    ``sql`` is one statement or a list of statements and ``(statement,
    params)`` pairs with ``%s`` placeholders. Pass ``RunSQL.noop`` as
    ``reverse_sql`` when nothing needs undoing; without ``reverse_sql`` the
    operation is irreversible. ``state_operations`` tell the state what the
    SQL changed (e.g. a ``CreateModel`` for a table the SQL creates).
    """

    noop: ClassVar[str] = ""

    def __init__(
        self,
        sql: SQL,
        reverse_sql: SQL | None = None,
        state_operations: Sequence[Operation] | None = None,
        hints: dict[str, Any] | None = None,
        elidable: bool = False,
    ) -> None:
        self.sql = sql
        self.reverse_sql = reverse_sql
        self.state_operations = list(state_operations or [])
        self.hints = hints or {}
        self.elidable = elidable

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("RunSQL", (), {"sql", ...})`` with the arguments that differ from defaults."""
        kwargs: dict[str, Any] = {"sql": self.sql}
        if self.reverse_sql is not None:
            kwargs["reverse_sql"] = self.reverse_sql
        if self.state_operations:
            kwargs["state_operations"] = self.state_operations
        if self.hints:
            kwargs["hints"] = self.hints
        if self.elidable:
            kwargs["elidable"] = True
        return "RunSQL", (), kwargs

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        """Reversible when ``reverse_sql`` was given."""
        return self.reverse_sql is not None

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Apply ``state_operations``."""
        for operation in self.state_operations:
            operation.state_forwards(app_label, state)

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Run ``sql`` (where the routers' ``allow_migrate`` admits ``app_label``)."""
        if allowed_code(schema_editor, app_label, self.hints):
            await _run_sql(schema_editor, self.sql)

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Run ``reverse_sql``; raise ``IrreversibleError`` when there is none."""
        if self.reverse_sql is None:
            raise IrreversibleError(
                "This RunSQL operation has no reverse_sql, so it cannot be unapplied; pass "
                "reverse_sql= (RunSQL.noop when nothing needs undoing)."
            )
        if allowed_code(schema_editor, app_label, self.hints):
            await _run_sql(schema_editor, self.reverse_sql)

    def references_model(self, name: str, app_label: str) -> bool:
        """Raw SQL may touch any model."""
        return True

    def describe(self) -> str:
        """``Raw SQL operation``."""
        return "Raw SQL operation"


async def _run_sql(schema_editor: SchemaEditorProtocol, sql: SQL) -> None:
    statements = [sql] if isinstance(sql, str) else list(sql)
    for statement in statements:
        if isinstance(statement, (tuple, list)):
            if len(statement) != 2:
                raise ValueError(
                    f"RunSQL items are statements or (statement, params) pairs, got {statement!r}."
                )
            await schema_editor.execute(statement[0], list(statement[1]))
        elif statement.strip():
            await schema_editor.execute(statement)


PythonCode = Callable[[Any, Any], Any]


class RunPython(Operation):
    """Run a Python function ``code(apps, schema_editor)``, sync or async.

    ``apps.get_model("blog", "Post")`` returns the model as it is at this
    point of the history. Pass ``RunPython.noop`` as ``reverse_code`` when
    nothing needs undoing; without ``reverse_code`` it is irreversible.
    Functions must be importable (module-level): the migration file refers
    to them by import path.
    """

    reduces_to_sql: ClassVar[bool] = False

    def __init__(
        self,
        code: PythonCode,
        reverse_code: PythonCode | None = None,
        atomic: bool | None = None,
        hints: dict[str, Any] | None = None,
        elidable: bool = False,
    ) -> None:
        if not callable(code):
            raise ValueError(f"RunPython must be given a callable, got {code!r}.")
        if reverse_code is not None and not callable(reverse_code):
            raise ValueError(f"RunPython reverse_code must be callable, got {reverse_code!r}.")
        self.code = code
        self.reverse_code = reverse_code
        self.atomic = atomic  # type: ignore[assignment]
        self.hints = hints or {}
        self.elidable = elidable

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("RunPython", (), {"code", ...})`` with the arguments that differ."""
        kwargs: dict[str, Any] = {"code": self.code}
        if self.reverse_code is not None:
            kwargs["reverse_code"] = self.reverse_code
        if self.atomic is not None:
            kwargs["atomic"] = self.atomic
        if self.hints:
            kwargs["hints"] = self.hints
        if self.elidable:
            kwargs["elidable"] = True
        return "RunPython", (), kwargs

    @property
    def reversible(self) -> bool:  # type: ignore[override]
        """Reversible when ``reverse_code`` was given."""
        return self.reverse_code is not None

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Change nothing: Python code does not change the models."""

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Call ``code(apps, schema_editor)`` with historical models (not when collecting SQL)."""
        if schema_editor.collect_sql or not allowed_code(schema_editor, app_label, self.hints):
            return
        await _call(self.code, from_state.apps, schema_editor)

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Call ``reverse_code``; raise ``IrreversibleError`` when there is none."""
        if self.reverse_code is None:
            raise IrreversibleError(
                f"RunPython {_name_of(self.code)} has no reverse_code, so it cannot be unapplied; "
                "pass reverse_code= (RunPython.noop when nothing needs undoing)."
            )
        if schema_editor.collect_sql or not allowed_code(schema_editor, app_label, self.hints):
            return
        await _call(self.reverse_code, from_state.apps, schema_editor)

    def references_model(self, name: str, app_label: str) -> bool:
        """Python code may touch any model."""
        return True

    def describe(self) -> str:
        """``Raw Python operation``."""
        return f"Raw Python operation {_name_of(self.code)}"

    @staticmethod
    def noop(apps: Any, schema_editor: Any) -> None:
        """Do nothing (a ``reverse_code`` for data migrations that need no undo)."""
        return None


async def _call(code: PythonCode, apps: Any, schema_editor: Any) -> None:
    result = code(apps, schema_editor)
    if inspect.isawaitable(result):
        await result


def _name_of(code: Any) -> str:
    return str(getattr(code, "__qualname__", None) or repr(code))
