"""PostgreSQL operations: extensions, collations and indexes built without locking writes.

On other backends the extension and collation operations do nothing, and the
concurrent index operations create or drop a plain index, so a project that
runs on several backends keeps one migration history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reinhardt_db.exceptions import NotSupportedError
from reinhardt_db.migrations.operations.base import Operation, allowed
from reinhardt_db.migrations.operations.indexes import AddIndex, RemoveIndex, _named

if TYPE_CHECKING:
    from reinhardt_db.migrations.editor import SchemaEditorProtocol
    from reinhardt_db.migrations.state import ProjectState

__all__ = [
    "AddIndexConcurrently",
    "CreateCollation",
    "CreateExtension",
    "DropExtension",
    "RemoveIndexConcurrently",
]


def quote_name(name: str) -> str:
    """Return ``name`` as a double-quoted PostgreSQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Return ``value`` as a single-quoted SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _on_postgresql(schema_editor: SchemaEditorProtocol) -> bool:
    return schema_editor.vendor == "postgresql"


class CreateExtension(Operation):
    """``CREATE EXTENSION IF NOT EXISTS name`` on PostgreSQL (nothing elsewhere)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``(class name, (), {"name"})``."""
        return type(self).__name__, (), {"name": self.name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Change nothing in the state."""

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Create the extension."""
        if _on_postgresql(schema_editor):
            await schema_editor.execute(f"CREATE EXTENSION IF NOT EXISTS {quote_name(self.name)}")

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Drop the extension."""
        if _on_postgresql(schema_editor):
            await schema_editor.execute(f"DROP EXTENSION IF EXISTS {quote_name(self.name)}")

    def references_model(self, name: str, app_label: str) -> bool:
        """An extension belongs to no model."""
        return False

    def describe(self) -> str:
        """``Creates extension hstore``."""
        return f"Creates extension {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        """``create_extension_hstore``."""
        return f"create_extension_{self.name}"


class DropExtension(CreateExtension):
    """``DROP EXTENSION IF EXISTS name`` on PostgreSQL (nothing elsewhere)."""

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Drop the extension."""
        await super().database_backwards(app_label, schema_editor, from_state, to_state)

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Create the extension again."""
        await super().database_forwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        """``Drops extension hstore``."""
        return f"Drops extension {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        """``drop_extension_hstore``."""
        return f"drop_extension_{self.name}"


class CreateCollation(Operation):
    """``CREATE COLLATION name (locale=..., provider=..., deterministic=...)`` on PostgreSQL."""

    def __init__(
        self, name: str, locale: str, *, provider: str = "libc", deterministic: bool = True
    ) -> None:
        self.name = name
        self.locale = locale
        self.provider = provider
        self.deterministic = deterministic

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("CreateCollation", (), {"name", "locale", ...})``."""
        kwargs: dict[str, Any] = {"name": self.name, "locale": self.locale}
        if self.provider != "libc":
            kwargs["provider"] = self.provider
        if not self.deterministic:
            kwargs["deterministic"] = False
        return "CreateCollation", (), kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Change nothing in the state."""

    def create_sql(self) -> str:
        """Return the ``CREATE COLLATION`` statement."""
        parts = [f"locale={quote_literal(self.locale)}"]
        if self.provider != "libc":
            parts.append(f"provider={quote_literal(self.provider)}")
        if not self.deterministic:
            parts.append("deterministic=false")
        return f"CREATE COLLATION {quote_name(self.name)} ({', '.join(parts)})"

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Create the collation."""
        if _on_postgresql(schema_editor):
            await schema_editor.execute(self.create_sql())

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Drop the collation."""
        if _on_postgresql(schema_editor):
            await schema_editor.execute(f"DROP COLLATION {quote_name(self.name)}")

    def references_model(self, name: str, app_label: str) -> bool:
        """A collation belongs to no model."""
        return False

    def describe(self) -> str:
        """``Create collation german``."""
        return f"Create collation {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        """``create_collation_german``."""
        return f"create_collation_{self.name.lower()}"


def _refuse_in_transaction(operation: Operation, schema_editor: SchemaEditorProtocol) -> None:
    if _on_postgresql(schema_editor) and schema_editor.atomic and not schema_editor.collect_sql:
        raise NotSupportedError(
            f"The {type(operation).__name__} operation cannot be executed inside a "
            "transaction; set atomic = False on the migration class."
        )


async def _add_index(schema_editor: SchemaEditorProtocol, model: type[Any], index: Any) -> None:
    # Only PostgreSQL editors are asked for ``concurrently``; elsewhere a plain index.
    if _on_postgresql(schema_editor):
        await schema_editor.add_index(model, index, concurrently=True)
    else:
        await schema_editor.add_index(model, index)


async def _remove_index(schema_editor: SchemaEditorProtocol, model: type[Any], index: Any) -> None:
    if _on_postgresql(schema_editor):
        await schema_editor.remove_index(model, index, concurrently=True)
    else:
        await schema_editor.remove_index(model, index)


class AddIndexConcurrently(AddIndex):
    """Create an index without locking writes (``CREATE INDEX CONCURRENTLY``, PostgreSQL).

    Needs ``atomic = False`` on the migration. Elsewhere: a plain ``AddIndex``.
    """

    atomic = False

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Create the index concurrently."""
        _refuse_in_transaction(self, schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        if allowed(model, schema_editor):
            await _add_index(schema_editor, model, _named(model._meta.indexes, self.index.name))

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Drop the index concurrently."""
        _refuse_in_transaction(self, schema_editor)
        model = from_state.apps.get_model(app_label, self.model_name)
        if allowed(model, schema_editor):
            await _remove_index(
                schema_editor, model, _named(model._meta.indexes, self.index.name)
            )

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("AddIndexConcurrently", (), {"model_name", "index"})``."""
        _name, args, kwargs = super().deconstruct()
        return "AddIndexConcurrently", args, kwargs

    def describe(self) -> str:
        """``Concurrently create index ...``."""
        return "Concurrently " + super().describe()[0].lower() + super().describe()[1:]


class RemoveIndexConcurrently(RemoveIndex):
    """Drop an index without locking writes (``DROP INDEX CONCURRENTLY``, PostgreSQL).

    Needs ``atomic = False`` on the migration. Elsewhere: a plain ``RemoveIndex``.
    """

    atomic = False

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Drop the index concurrently."""
        _refuse_in_transaction(self, schema_editor)
        model = from_state.apps.get_model(app_label, self.model_name)
        if allowed(model, schema_editor):
            await _remove_index(schema_editor, model, _named(model._meta.indexes, self.name))

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Create the index again, concurrently."""
        _refuse_in_transaction(self, schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        if allowed(model, schema_editor):
            await _add_index(schema_editor, model, _named(model._meta.indexes, self.name))

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("RemoveIndexConcurrently", (), {"model_name", "name"})``."""
        _name, args, kwargs = super().deconstruct()
        return "RemoveIndexConcurrently", args, kwargs

    def describe(self) -> str:
        """``Concurrently remove index ...``."""
        return "Concurrently " + super().describe()[0].lower() + super().describe()[1:]
