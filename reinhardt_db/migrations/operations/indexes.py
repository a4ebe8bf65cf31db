"""Operations on a model's indexes and constraints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from reinhardt_db.migrations.operations.base import Operation, allowed

if TYPE_CHECKING:
    from reinhardt_db.migrations.editor import SchemaEditorProtocol
    from reinhardt_db.migrations.state import ProjectState

__all__ = [
    "AddConstraint",
    "AddIndex",
    "IndexOperation",
    "RemoveConstraint",
    "RemoveIndex",
    "RenameIndex",
]


class IndexOperation(Operation):
    """An operation on an index or constraint of model ``model_name``."""

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    @property
    def model_name_lower(self) -> str:
        """The model name in lower case."""
        return self.model_name.lower()

    def references_model(self, name: str, app_label: str) -> bool:
        """Return whether ``name`` is this operation's model."""
        return name.lower() == self.model_name_lower

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        """Let operations on other models move across this one."""
        return super().reduce(operation, app_label) or not operation.references_model(
            self.model_name_lower, app_label
        )


def _references_fields(element: Any, fields: list[str] | tuple[str, ...], name: str) -> bool:
    # A condition may mention any field: say yes unless the element has none.
    return getattr(element, "condition", None) is not None or name.lower() in (
        f.lower() for f in fields
    )


class AddIndex(IndexOperation):
    """Create a named index: ``AddIndex("post", models.Index(fields=["title"], name="..."))``."""

    reads_state_before: ClassVar[bool] = False

    def __init__(self, model_name: str, index: Any) -> None:
        if not getattr(index, "name", None):
            raise ValueError(
                f"Indexes passed to AddIndex operations require a name argument; {index!r} "
                "doesn't have one."
            )
        self.index = index
        super().__init__(model_name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("AddIndex", (), {"model_name", "index"})``."""
        return "AddIndex", (), {"model_name": self.model_name, "index": self.index}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Add the index to the model's options."""
        state.add_index(app_label, self.model_name, self.index)

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Create the index."""
        model = to_state.apps.get_model(app_label, self.model_name)
        if allowed(model, schema_editor):
            await schema_editor.add_index(model, _named(model._meta.indexes, self.index.name))

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Drop the index."""
        model = from_state.apps.get_model(app_label, self.model_name)
        if allowed(model, schema_editor):
            await schema_editor.remove_index(model, _named(model._meta.indexes, self.index.name))

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        """Return whether the index covers ``name``."""
        return self.references_model(model_name, app_label) and _references_fields(
            self.index, self.index.field_names, name
        )

    def describe(self) -> str:
        """``Create index post_title_idx on field(s) title of model post``."""
        return (
            f"Create index {self.index.name} on field(s) {', '.join(self.index.fields)} of "
            f"model {self.model_name}"
        )

    @property
    def migration_name_fragment(self) -> str:
        """``post_title_idx``."""
        return self.index.name.lower()

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        """An add then a remove of the same index cancel; a rename renames the add."""
        if isinstance(operation, RemoveIndex) and self.index.name == operation.name and (
            self.model_name_lower == operation.model_name_lower
        ):
            return []
        if isinstance(operation, RenameIndex) and self.index.name == operation.old_name and (
            self.model_name_lower == operation.model_name_lower
        ):
            renamed = self.index.clone()
            renamed.name = operation.new_name
            return [AddIndex(self.model_name, renamed)]
        return super().reduce(operation, app_label)


class RemoveIndex(IndexOperation):
    """Drop the index called ``name``: ``RemoveIndex("post", "post_title_idx")``."""

    def __init__(self, model_name: str, name: str) -> None:
        self.name = name
        super().__init__(model_name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("RemoveIndex", (), {"model_name", "name"})``."""
        return "RemoveIndex", (), {"model_name": self.model_name, "name": self.name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Remove the index from the model's options."""
        state.remove_index(app_label, self.model_name, self.name)

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Drop the index."""
        model = from_state.apps.get_model(app_label, self.model_name)
        if allowed(model, schema_editor):
            await schema_editor.remove_index(model, _named(model._meta.indexes, self.name))

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Create the index again."""
        model = to_state.apps.get_model(app_label, self.model_name)
        if allowed(model, schema_editor):
            await schema_editor.add_index(model, _named(model._meta.indexes, self.name))

    def describe(self) -> str:
        """``Remove index post_title_idx from post``."""
        return f"Remove index {self.name} from {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        """``remove_post_post_title_idx``."""
        return f"remove_{self.model_name_lower}_{self.name.lower()}"


class RenameIndex(IndexOperation):
    """Rename an index: ``RenameIndex("post", new_name="...", old_name="...")``."""

    def __init__(self, model_name: str, new_name: str, old_name: str) -> None:
        if not old_name:
            raise ValueError("RenameIndex requires old_name, the index's current name.")
        self.new_name = new_name
        self.old_name = old_name
        super().__init__(model_name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("RenameIndex", (), {"model_name", "new_name", "old_name"})``."""
        return "RenameIndex", (), {
            "model_name": self.model_name, "new_name": self.new_name, "old_name": self.old_name,
        }

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Rename the index in the model's options."""
        state.rename_index(app_label, self.model_name, self.old_name, self.new_name)

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Rename the index."""
        await self._rename(app_label, schema_editor, from_state, to_state,
                           self.old_name, self.new_name)

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Rename the index back."""
        await self._rename(app_label, schema_editor, from_state, to_state,
                           self.new_name, self.old_name)

    async def _rename(
        self, app_label: str, schema_editor: SchemaEditorProtocol, from_state: ProjectState,
        to_state: ProjectState, from_name: str, to_name: str,
    ) -> None:
        from_model = from_state.apps.get_model(app_label, self.model_name)
        to_model = to_state.apps.get_model(app_label, self.model_name)
        if allowed(to_model, schema_editor):
            await schema_editor.rename_index(
                to_model,
                _named(from_model._meta.indexes, from_name),
                _named(to_model._meta.indexes, to_name),
            )

    def describe(self) -> str:
        """``Rename index old on post to new``."""
        return f"Rename index {self.old_name} on {self.model_name} to {self.new_name}"

    @property
    def migration_name_fragment(self) -> str:
        """``rename_old_new``."""
        return f"rename_{self.old_name.lower()}_{self.new_name.lower()}"

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        """Chain two renames of the same index."""
        if (
            isinstance(operation, RenameIndex)
            and self.model_name_lower == operation.model_name_lower
            and operation.old_name == self.new_name
        ):
            return [RenameIndex(self.model_name, operation.new_name, self.old_name)]
        return super().reduce(operation, app_label)


class AddConstraint(IndexOperation):
    """Add a constraint: ``AddConstraint("post", models.CheckConstraint(...))``."""

    reads_state_before: ClassVar[bool] = False

    def __init__(self, model_name: str, constraint: Any) -> None:
        self.constraint = constraint
        super().__init__(model_name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("AddConstraint", (), {"model_name", "constraint"})``."""
        return "AddConstraint", (), {"model_name": self.model_name, "constraint": self.constraint}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Add the constraint to the model's options."""
        state.add_constraint(app_label, self.model_name, self.constraint)

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Add the constraint."""
        model = to_state.apps.get_model(app_label, self.model_name)
        if allowed(model, schema_editor):
            await schema_editor.add_constraint(
                model, _named(model._meta.constraints, self.constraint.name)
            )

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Drop the constraint."""
        model = from_state.apps.get_model(app_label, self.model_name)
        if allowed(model, schema_editor):
            await schema_editor.remove_constraint(
                model, _named(model._meta.constraints, self.constraint.name)
            )

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        """Return whether the constraint may involve ``name`` (a condition may name any)."""
        if not self.references_model(model_name, app_label):
            return False
        fields = getattr(self.constraint, "fields", None)
        return fields is None or _references_fields(self.constraint, fields, name)

    def describe(self) -> str:
        """``Create constraint age_gte_0 on model person``."""
        return f"Create constraint {self.constraint.name} on model {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        """``person_age_gte_0``."""
        return f"{self.model_name_lower}_{self.constraint.name.lower()}"

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        """An add then a remove of the same constraint cancel."""
        if (
            isinstance(operation, RemoveConstraint)
            and self.model_name_lower == operation.model_name_lower
            and self.constraint.name == operation.name
        ):
            return []
        return super().reduce(operation, app_label)


class RemoveConstraint(IndexOperation):
    """Drop the constraint called ``name``: ``RemoveConstraint("person", "age_gte_0")``."""

    def __init__(self, model_name: str, name: str) -> None:
        self.name = name
        super().__init__(model_name)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``("RemoveConstraint", (), {"model_name", "name"})``."""
        return "RemoveConstraint", (), {"model_name": self.model_name, "name": self.name}

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Remove the constraint from the model's options."""
        state.remove_constraint(app_label, self.model_name, self.name)

    async def database_forwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Drop the constraint."""
        model = from_state.apps.get_model(app_label, self.model_name)
        if allowed(model, schema_editor):
            await schema_editor.remove_constraint(
                model, _named(model._meta.constraints, self.name)
            )

    async def database_backwards(
        self, app_label: str, schema_editor: SchemaEditorProtocol,
        from_state: ProjectState, to_state: ProjectState,
    ) -> None:
        """Add the constraint again."""
        model = to_state.apps.get_model(app_label, self.model_name)
        if allowed(model, schema_editor):
            await schema_editor.add_constraint(model, _named(model._meta.constraints, self.name))

    def describe(self) -> str:
        """``Remove constraint age_gte_0 from model person``."""
        return f"Remove constraint {self.name} from model {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        """``remove_person_age_gte_0``."""
        return f"remove_{self.model_name_lower}_{self.name.lower()}"


def _named(elements: list[Any], name: str) -> Any:
    for element in elements:
        if element.name == name:
            return element
    raise ValueError(f"No index or constraint named '{name}' in the migration state.")
