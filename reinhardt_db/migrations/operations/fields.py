"""Operations on one field of a model: add, remove, alter, rename."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from reinhardt_db.migrations.operations.base import Operation, allowed
from reinhardt_db.migrations.state import field_references
from reinhardt_db.models.fields.base import NOT_PROVIDED

if TYPE_CHECKING:
    from reinhardt_db.migrations.editor import SchemaEditorProtocol
    from reinhardt_db.migrations.state import ProjectState

__all__ = ["AddField", "AlterField", "FieldOperation", "RemoveField", "RenameField"]


class FieldOperation(Operation):
    """An operation on field ``name`` of model ``model_name``."""

    def __init__(self, model_name: str, name: str) -> None:
        self.model_name = model_name
        self.name = name

    @property
    def model_name_lower(self) -> str:
        """The model name in lower case."""
        return self.model_name.lower()

    @property
    def name_lower(self) -> str:
        """The field name in lower case."""
        return self.name.lower()

    def is_same_model_operation(self, operation: Operation) -> bool:
        """Return whether ``operation`` is about the same model."""
        return getattr(operation, "model_name_lower", None) == self.model_name_lower

    def is_same_field_operation(self, operation: Operation) -> bool:
        """Return whether ``operation`` is about the same field of the same model."""
        return self.is_same_model_operation(operation) and (
            getattr(operation, "name_lower", None) == self.name_lower
        )

    def references_model(self, name: str, app_label: str) -> bool:
        """Return whether ``name`` is this operation's model."""
        return name.lower() == self.model_name_lower

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        """Return whether this operation is about ``model_name.name``."""
        return model_name.lower() == self.model_name_lower and name.lower() == self.name_lower

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        """Let operations that leave this field alone move across it."""
        return super().reduce(operation, app_label) or not operation.references_field(
            self.model_name, self.name, app_label
        )


class FieldDefinitionOperation(FieldOperation):
    """A field operation carrying a field definition (``AddField``, ``AlterField``)."""

    field: Any

    def references_model(self, name: str, app_label: str) -> bool:
        """Return whether ``name`` is this operation's model or one its field relates to."""
        return super().references_model(name, app_label) or (
            (app_label, name.lower()) in field_references(self.field, app_label, self.model_name)
        )


@contextlib.contextmanager
def one_off_default(field: Any, default: Any, preserve_default: bool) -> Iterator[None]:
    """Give a rendered ``field`` the migration's one-off ``default`` for the block.

    The state keeps fields added with ``preserve_default=False`` without
    their default; the schema editor still needs it to fill existing rows.
    """
    if preserve_default or default is NOT_PROVIDED:
        yield
        return
    saved = field.default
    field.default = default
    field._get_default = field._make_default_getter()
    try:
        yield
    finally:
        field.default = saved
        field._get_default = field._make_default_getter()


class AddField(FieldDefinitionOperation):
    """Add a field: ``AddField("post", "subtitle", models.CharField(max_length=200, default=""))``.

    ``preserve_default=False`` means the default only fills existing rows (a
    one-off value asked by ``makemigrations``); the field keeps none.
    """

    reads_state_before: ClassVar[bool] = False

    def __init__(
        self, model_name: str, name: str, field: Any, preserve_default: bool = True
    ) -> None:
        self.field = field
        self.preserve_default = preserve_default
        super().__init__(model_name, name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("AddField", (), {"model_name", "name", "field"[, "preserve_default"]})``."""
        kwargs: dict[str, Any] = {
            "model_name": self.model_name, "name": self.name, "field": self.field,
        }
        if not self.preserve_default:
            kwargs["preserve_default"] = False
        return "AddField", (), kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Add the field to the model."""
        state.add_field(app_label, self.model_name, self.name, self.field, self.preserve_default)

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Add the column (existing rows get the default)."""
        model = to_state.apps.get_model(app_label, self.model_name)
        if not allowed(model, schema_editor):
            return
        field = model._meta.get_field(self.name)
        with one_off_default(field, self.field.default, self.preserve_default):
            await schema_editor.add_field(model, field)

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Drop the column."""
        model = from_state.apps.get_model(app_label, self.model_name)
        if allowed(model, schema_editor):
            await schema_editor.remove_field(model, model._meta.get_field(self.name))

    def describe(self) -> str:
        """``Add field subtitle to post``."""
        return f"Add field {self.name} to {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        """``post_subtitle``."""
        return f"{self.model_name_lower}_{self.name_lower}"

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        """Fold a later alter, remove or rename of the same field into this add."""
        if isinstance(operation, FieldOperation) and self.is_same_field_operation(operation):
            if isinstance(operation, AlterField):
                if self.preserve_default and operation.preserve_default:
                    return [AddField(self.model_name, operation.name, operation.field)]
            elif isinstance(operation, RemoveField):
                return []
            elif isinstance(operation, RenameField):
                return [AddField(self.model_name, operation.new_name, self.field,
                                 self.preserve_default)]
        return super().reduce(operation, app_label)


class RemoveField(FieldOperation):
    """Remove a field (and its column): ``RemoveField("post", "subtitle")``."""

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("RemoveField", (), {"model_name", "name"})``."""
        return "RemoveField", (), {"model_name": self.model_name, "name": self.name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Remove the field from the model."""
        state.remove_field(app_label, self.model_name, self.name)

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Drop the column."""
        model = from_state.apps.get_model(app_label, self.model_name)
        if allowed(model, schema_editor):
            await schema_editor.remove_field(model, model._meta.get_field(self.name))

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Add the column back (its values are gone: rows get the default)."""
        model = to_state.apps.get_model(app_label, self.model_name)
        if allowed(model, schema_editor):
            await schema_editor.add_field(model, model._meta.get_field(self.name))

    def describe(self) -> str:
        """``Remove field subtitle from post``."""
        return f"Remove field {self.name} from {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        """``remove_post_subtitle``."""
        return f"remove_{self.model_name_lower}_{self.name_lower}"


class AlterField(FieldDefinitionOperation):
    """Change a field's definition: ``AlterField("post", "title", models.CharField(...))``.

    ``preserve_default=False``: the default is a one-off value for existing
    rows (e.g. NULLs when a field becomes NOT NULL); the field keeps none.
    """

    def __init__(
        self, model_name: str, name: str, field: Any, preserve_default: bool = True
    ) -> None:
        self.field = field
        self.preserve_default = preserve_default
        super().__init__(model_name, name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("AlterField", (), {"model_name", "name", "field"[, "preserve_default"]})``."""
        kwargs: dict[str, Any] = {
            "model_name": self.model_name, "name": self.name, "field": self.field,
        }
        if not self.preserve_default:
            kwargs["preserve_default"] = False
        return "AlterField", (), kwargs

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Replace the field's definition."""
        state.alter_field(app_label, self.model_name, self.name, self.field,
                          self.preserve_default)

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Alter the column from the old definition to the new one."""
        from_model = from_state.apps.get_model(app_label, self.model_name)
        to_model = to_state.apps.get_model(app_label, self.model_name)
        if not allowed(to_model, schema_editor):
            return
        old_field = from_model._meta.get_field(self.name)
        new_field = to_model._meta.get_field(self.name)
        with one_off_default(new_field, self.field.default, self.preserve_default):
            await schema_editor.alter_field(to_model, old_field, new_field)

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Alter the column back to the old definition."""
        from_model = from_state.apps.get_model(app_label, self.model_name)
        to_model = to_state.apps.get_model(app_label, self.model_name)
        if allowed(to_model, schema_editor):
            await schema_editor.alter_field(
                to_model, from_model._meta.get_field(self.name), to_model._meta.get_field(self.name)
            )

    def describe(self) -> str:
        """``Alter field title on post``."""
        return f"Alter field {self.name} on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        """``alter_post_title``."""
        return f"alter_{self.model_name_lower}_{self.name_lower}"

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        """A later remove or alter of the same field wins; a rename goes first."""
        if isinstance(operation, FieldOperation) and self.is_same_field_operation(operation):
            if isinstance(operation, RemoveField):
                return [operation]
            if isinstance(operation, AlterField) and self.preserve_default:
                return [operation]
            if isinstance(operation, RenameField):
                return [operation, AlterField(self.model_name, operation.new_name, self.field,
                                              self.preserve_default)]
        return super().reduce(operation, app_label)


class RenameField(FieldOperation):
    """Rename a field, keeping its values: ``RenameField("post", "body", "text")``."""

    def __init__(self, model_name: str, old_name: str, new_name: str) -> None:
        self.old_name = old_name
        self.new_name = new_name
        super().__init__(model_name, old_name)

    @property
    def old_name_lower(self) -> str:
        """The old field name in lower case."""
        return self.old_name.lower()

    @property
    def new_name_lower(self) -> str:
        """The new field name in lower case."""
        return self.new_name.lower()

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("RenameField", (), {"model_name", "old_name", "new_name"})``."""
        return "RenameField", (), {
            "model_name": self.model_name, "old_name": self.old_name, "new_name": self.new_name,
        }

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Rename the field (and follow it in indexes, constraints and groups)."""
        state.rename_field(app_label, self.model_name, self.old_name, self.new_name)

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Rename the column when its name changes."""
        await self._rename(app_label, schema_editor, from_state, to_state,
                           self.old_name, self.new_name)

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Rename the column back."""
        await self._rename(app_label, schema_editor, from_state, to_state,
                           self.new_name, self.old_name)

    async def _rename(
        self, app_label: str, schema_editor: SchemaEditorProtocol, from_state: ProjectState,
        to_state: ProjectState, from_name: str, to_name: str,
    ) -> None:
        from_model = from_state.apps.get_model(app_label, self.model_name)
        to_model = to_state.apps.get_model(app_label, self.model_name)
        if not allowed(to_model, schema_editor):
            return
        old_field = from_model._meta.get_field(from_name)
        new_field = to_model._meta.get_field(to_name)
        if old_field.column != new_field.column or getattr(new_field, "many_to_many", False):
            # A many-to-many field has no column: its junction table is named after it.
            await schema_editor.rename_field(to_model, old_field, new_field)

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        """Return whether ``name`` is the old or the new name."""
        return self.references_model(model_name, app_label) and name.lower() in (
            self.old_name_lower, self.new_name_lower,
        )

    def describe(self) -> str:
        """``Rename field body on post to text``."""
        return f"Rename field {self.old_name} on {self.model_name} to {self.new_name}"

    @property
    def migration_name_fragment(self) -> str:
        """``rename_body_post_text``."""
        return f"rename_{self.old_name_lower}_{self.model_name_lower}_{self.new_name_lower}"

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        """Chain two renames into one; others move across if they touch neither name."""
        if (
            isinstance(operation, RenameField)
            and self.is_same_model_operation(operation)
            and self.new_name_lower == operation.old_name_lower
        ):
            return [RenameField(self.model_name, self.old_name, operation.new_name)]
        return Operation.reduce(self, operation, app_label) or not (
            operation.references_field(self.model_name, self.old_name, app_label)
            or operation.references_field(self.model_name, self.new_name, app_label)
        )
