"""Operations on whole models: create, delete, rename, table name, options, unique_together."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from reinhardt_db.migrations.operations.base import Operation, allowed
from reinhardt_db.migrations.state import (
    ALTER_OPTION_KEYS,
    ModelState,
    field_references,
    normalize_together,
)

if TYPE_CHECKING:
    from reinhardt_db.migrations.editor import SchemaEditorProtocol
    from reinhardt_db.migrations.state import ProjectState

__all__ = [
    "AlterModelOptions",
    "AlterModelTable",
    "AlterUniqueTogether",
    "CreateModel",
    "DeleteModel",
    "ModelOperation",
    "RenameModel",
]


class ModelOperation(Operation):
    """An operation on the model called ``name``."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def name_lower(self) -> str:
        """The model name in lower case."""
        return self.name.lower()

    def references_model(self, name: str, app_label: str) -> bool:
        """Return whether ``name`` is this operation's model (or, later, one it relates to)."""
        return name.lower() == self.name_lower

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        """Let operations that do not touch this model move across it."""
        return super().reduce(operation, app_label) or self.can_reduce_through(
            operation, app_label
        )

    def can_reduce_through(self, operation: Operation, app_label: str) -> bool:
        """Return whether ``operation`` leaves this model alone."""
        return not operation.references_model(self.name_lower, app_label)


class CreateModel(ModelOperation):
    """Create a model's table: ``CreateModel("Post", fields=[("id", ...), ...], options={})``."""

    reads_state_before: ClassVar[bool] = False

    serialization_expand_args: ClassVar[list[str]] = ["fields", "options"]

    def __init__(
        self, name: str, fields: Sequence[tuple[str, Any]], options: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(name)
        self.fields = list(fields)
        self.options = dict(options or {})
        names = [field_name for field_name, _ in self.fields]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"CreateModel {name}: field {duplicates[0]!r} is listed twice.")

    def references_model(self, name: str, app_label: str) -> bool:
        """Return whether ``name`` is this model or a model one of its relations needs."""
        if super().references_model(name, app_label):
            return True
        wanted = (app_label, name.lower())
        return any(
            wanted in field_references(field, app_label, self.name)
            for _field_name, field in self.fields
        )

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("CreateModel", (), {"name", "fields"[, "options"]})``."""
        kwargs: dict[str, Any] = {"name": self.name, "fields": self.fields}
        if self.options:
            kwargs["options"] = self.options
        return "CreateModel", (), kwargs

    def model_state(self, app_label: str) -> ModelState:
        """Return the ``ModelState`` this operation creates."""
        return ModelState(app_label, self.name, list(self.fields), dict(self.options))

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Add the model."""
        state.add_model(self.model_state(app_label))

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Create the table."""
        model = to_state.apps.get_model(app_label, self.name)
        if allowed(model, schema_editor):
            await schema_editor.create_model(model)

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Drop the table."""
        model = from_state.apps.get_model(app_label, self.name)
        if allowed(model, schema_editor):
            await schema_editor.delete_model(model)

    def describe(self) -> str:
        """``Create model Post``."""
        return f"Create model {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        """``post``."""
        return self.name_lower

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        """Fold later changes of the same model into this ``CreateModel``."""
        from reinhardt_db.migrations.operations.fields import FieldOperation
        from reinhardt_db.migrations.operations.indexes import IndexOperation

        same = getattr(operation, "name_lower", None) == self.name_lower
        if isinstance(operation, DeleteModel) and same:
            return []
        if isinstance(operation, RenameModel) and operation.old_name_lower == self.name_lower:
            return [CreateModel(operation.new_name, self.fields, self.options)]
        option_operations = (AlterModelOptions, AlterModelTable, AlterUniqueTogether)
        if isinstance(operation, option_operations) and same:
            state = self._replayed(app_label, operation)
            return [CreateModel(self.name, self.fields, _options_of(state))]
        if (
            isinstance(operation, (FieldOperation, IndexOperation))
            and operation.model_name_lower == self.name_lower
        ):
            state = self._replayed(app_label, operation)
            return [CreateModel(self.name, list(state.fields.items()), _options_of(state))]
        return super().reduce(operation, app_label)

    def _replayed(self, app_label: str, operation: Operation) -> ModelState:
        from reinhardt_db.migrations.state import ProjectState

        state = ProjectState()
        self.state_forwards(app_label, state)
        operation.state_forwards(app_label, state)
        return state.get_model(app_label, self.name)


def _options_of(model_state: ModelState) -> dict[str, Any]:
    options = {k: v for k, v in model_state.options.items() if v or k == "managed"}
    if "unique_together" in options:
        options["unique_together"] = set(options["unique_together"])
    return options


class DeleteModel(ModelOperation):
    """Drop a model's table: ``DeleteModel("Post")``."""

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("DeleteModel", (), {"name": ...})``."""
        return "DeleteModel", (), {"name": self.name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Remove the model."""
        state.remove_model(app_label, self.name)

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Drop the table."""
        model = from_state.apps.get_model(app_label, self.name)
        if allowed(model, schema_editor):
            await schema_editor.delete_model(model)

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Create the table again (empty)."""
        model = to_state.apps.get_model(app_label, self.name)
        if allowed(model, schema_editor):
            await schema_editor.create_model(model)

    def describe(self) -> str:
        """``Delete model Post``."""
        return f"Delete model {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        """``delete_post``."""
        return f"delete_{self.name_lower}"


class RenameModel(ModelOperation):
    """Rename a model (and its table, when the table name is the default one)."""

    def __init__(self, old_name: str, new_name: str) -> None:
        self.old_name = old_name
        self.new_name = new_name
        super().__init__(old_name)

    @property
    def old_name_lower(self) -> str:
        """The old name in lower case."""
        return self.old_name.lower()

    @property
    def new_name_lower(self) -> str:
        """The new name in lower case."""
        return self.new_name.lower()

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("RenameModel", (), {"old_name", "new_name"})``."""
        return "RenameModel", (), {"old_name": self.old_name, "new_name": self.new_name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Rename the model in the state."""
        state.rename_model(app_label, self.old_name, self.new_name)

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Rename the table if its name changes."""
        await self._rename(app_label, schema_editor, from_state, to_state,
                           self.old_name, self.new_name)

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Rename the table back."""
        await self._rename(app_label, schema_editor, from_state, to_state,
                           self.new_name, self.old_name)

    @staticmethod
    async def _rename(
        app_label: str, schema_editor: SchemaEditorProtocol, from_state: ProjectState,
        to_state: ProjectState, from_name: str, to_name: str,
    ) -> None:
        old_model = from_state.apps.get_model(app_label, from_name)
        new_model = to_state.apps.get_model(app_label, to_name)
        if not allowed(new_model, schema_editor):
            return
        if old_model._meta.db_table != new_model._meta.db_table:
            await schema_editor.alter_db_table(
                new_model, old_model._meta.db_table, new_model._meta.db_table
            )
        await follow_junctions(schema_editor, to_state, old_model, new_model)

    def references_model(self, name: str, app_label: str) -> bool:
        """Return whether ``name`` is the old or the new name."""
        return name.lower() in (self.old_name_lower, self.new_name_lower)

    def describe(self) -> str:
        """``Rename model Post to Article``."""
        return f"Rename model {self.old_name} to {self.new_name}"

    @property
    def migration_name_fragment(self) -> str:
        """``rename_post_article``."""
        return f"rename_{self.old_name_lower}_{self.new_name_lower}"

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        """Chain two renames into one."""
        if isinstance(operation, RenameModel) and self.new_name_lower == operation.old_name_lower:
            return [RenameModel(self.old_name, operation.new_name)]
        # Other operations may move across only if they touch neither name.
        return Operation.reduce(self, operation, app_label) or (
            not operation.references_model(self.new_name_lower, app_label)
            and not operation.references_model(self.old_name_lower, app_label)
        )


async def follow_junctions(
    schema_editor: SchemaEditorProtocol, to_state: ProjectState, old_model: type[Any],
    new_model: type[Any],
) -> None:
    """Rename the junction tables and columns named after a renamed model or table.

    A created junction table is ``<table>_<field>`` with a column named after
    each side: those of the model's own many-to-many fields, and of the fields
    of other models pointing at it, follow the new names.
    """
    for old_field, new_field in zip(
        old_model._meta.many_to_many, new_model._meta.many_to_many, strict=True
    ):
        await schema_editor.alter_field(new_model, old_field, new_field)
    for rel in old_model._meta.related_objects:
        field = rel.field
        if not field.many_to_many or field.model is old_model:
            continue
        holder = to_state.apps.get_model(field.model._meta.app_label, field.model.__name__)
        await schema_editor.alter_field(holder, field, holder._meta.get_field(field.name))


class ModelOptionOperation(ModelOperation):
    """An operation that changes one option of a model; a later one of its kind wins."""

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        """``AlterX`` then ``AlterX`` (or ``DeleteModel``) of the same model keep the later."""
        if (
            isinstance(operation, (type(self), DeleteModel))
            and getattr(operation, "name_lower", None) == self.name_lower
        ):
            return [operation]
        return super().reduce(operation, app_label)


class AlterModelTable(ModelOptionOperation):
    """Rename a model's table: ``AlterModelTable("post", "blog_posts")`` (``None``: default)."""

    def __init__(self, name: str, table: str | None) -> None:
        self.table = table
        super().__init__(name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("AlterModelTable", (), {"name", "table"})``."""
        return "AlterModelTable", (), {"name": self.name, "table": self.table}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Set the table name."""
        state.alter_model_table(app_label, self.name, self.table)

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Rename the table."""
        old_model = from_state.apps.get_model(app_label, self.name)
        new_model = to_state.apps.get_model(app_label, self.name)
        renamed = old_model._meta.db_table != new_model._meta.db_table
        if renamed and allowed(new_model, schema_editor):
            await schema_editor.alter_db_table(
                new_model, old_model._meta.db_table, new_model._meta.db_table
            )
            await follow_junctions(schema_editor, to_state, old_model, new_model)

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Rename the table back."""
        await self.database_forwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        """``Rename table for post to blog_posts``."""
        return f"Rename table for {self.name} to {self.table if self.table else '(default)'}"

    @property
    def migration_name_fragment(self) -> str:
        """``alter_post_table``."""
        return f"alter_{self.name_lower}_table"


class AlterModelOptions(ModelOptionOperation):
    """Change options that live only in Python (ordering, verbose names ...); no SQL."""

    ALTER_OPTION_KEYS: ClassVar[tuple[str, ...]] = ALTER_OPTION_KEYS

    def __init__(self, name: str, options: Mapping[str, Any]) -> None:
        self.options = dict(options)
        super().__init__(name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("AlterModelOptions", (), {"name", "options"})``."""
        return "AlterModelOptions", (), {"name": self.name, "options": self.options}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Replace the model's Python-only options with these."""
        state.alter_model_options(app_label, self.name, self.options, self.ALTER_OPTION_KEYS)

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Do nothing: these options have no SQL."""

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Do nothing: these options have no SQL."""

    def describe(self) -> str:
        """``Change Meta options on post``."""
        return f"Change Meta options on {self.name}"

    @property
    def migration_name_fragment(self) -> str:
        """``alter_post_options``."""
        return f"alter_{self.name_lower}_options"


class AlterUniqueTogether(ModelOptionOperation):
    """Set ``unique_together``: ``AlterUniqueTogether("post", {("slug", "day")})``."""

    def __init__(self, name: str, unique_together: Iterable[Sequence[str]] | None) -> None:
        self.unique_together = normalize_together(unique_together)
        super().__init__(name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("AlterUniqueTogether", (), {"name", "unique_together"})``."""
        return "AlterUniqueTogether", (), {
            "name": self.name, "unique_together": self.unique_together,
        }

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Replace the groups."""
        state.alter_unique_together(app_label, self.name, self.unique_together)

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Drop the groups that went away and add the new ones."""
        old_model = from_state.apps.get_model(app_label, self.name)
        new_model = to_state.apps.get_model(app_label, self.name)
        if allowed(new_model, schema_editor):
            await schema_editor.alter_unique_together(
                new_model, old_model._meta.unique_together, new_model._meta.unique_together
            )

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Restore the previous groups."""
        await self.database_forwards(app_label, schema_editor, from_state, to_state)

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        """Return whether a group names the field."""
        return self.references_model(model_name, app_label) and (
            not self.unique_together or any(name in group for group in self.unique_together)
        )

    def describe(self) -> str:
        """``Alter unique_together for post (1 constraint(s))``."""
        return f"Alter unique_together for {self.name} ({len(self.unique_together)} constraint(s))"

    @property
    def migration_name_fragment(self) -> str:
        """``alter_post_unique_together``."""
        return f"alter_{self.name_lower}_unique_together"
