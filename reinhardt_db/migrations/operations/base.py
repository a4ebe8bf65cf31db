"""``Operation``: one step of a migration.

Every operation can

* ``state_forwards(app_label, state)``: take the state from the previous
  operation and change it in place;
* ``database_forwards(app_label, schema_editor, from_state, to_state)`` and
  ``database_backwards(...)``: change the database through the schema editor
  (``migrations.editor.SchemaEditorProtocol``), given the states before and
  after it (historical models come from ``state.apps``);
* ``describe()``: say what it does in one line (``migrate --plan``);
* ``deconstruct()``: return ``(class name, args, kwargs)`` that rebuild it (the
  writer renders that back into the migration file);
* ``reduce(other, app_label)``: tell the optimizer what this operation and a
  later ``other`` become together (a list of operations), whether ``other``
  may move across this one (``True``), or neither (``False``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from reinhardt_db.routers import router

if TYPE_CHECKING:
    from reinhardt_db.migrations.editor import SchemaEditorProtocol
    from reinhardt_db.migrations.state import ProjectState

__all__ = ["Operation"]


class Operation:
    """Base class of migration operations.

    Subclasses set ``reversible`` (there is a backwards), ``reduces_to_sql``
    (``sqlmigrate`` can show it as SQL), ``reads_state_before`` (``database_forwards``
    looks at ``from_state``), ``atomic`` (only ``RunPython``/
    ``RunSQL``: run in a transaction even in a non-atomic migration) and
    ``elidable`` (may be dropped when squashing).
    """

    reversible: ClassVar[bool] = True
    reduces_to_sql: ClassVar[bool] = True
    #: False when ``database_forwards`` reads only ``to_state`` (``Migration.apply``
    #: then passes no separate copy of the state before the operation).
    reads_state_before: ClassVar[bool] = True
    atomic: bool = False
    elidable: bool = False
    #: Constructor arguments the writer puts one per line (e.g. CreateModel's fields).
    serialization_expand_args: ClassVar[list[str]] = []

    _constructor_args: tuple[tuple[Any, ...], dict[str, Any]]

    def __new__(cls, *args: Any, **kwargs: Any) -> Operation:
        # Keep the arguments exactly as given, so deconstruct() writes them back unchanged.
        self = object.__new__(cls)
        self._constructor_args = (args, kwargs)
        return self

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``(class name, args, kwargs)`` that rebuild this operation."""
        args, kwargs = self._constructor_args
        return type(self).__name__, args, dict(kwargs)

    def __repr__(self) -> str:
        _name, args, kwargs = self.deconstruct()
        parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in sorted(kwargs.items())]
        return f"<{type(self).__name__} {', '.join(parts)}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Operation):
            return NotImplemented
        return type(self) is type(other) and comparable(self.deconstruct()) == comparable(
            other.deconstruct()
        )

    __hash__ = object.__hash__

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        """Take the state from the previous operation and change it in place."""
        raise NotImplementedError(f"{type(self).__name__} must define state_forwards().")

    async def database_forwards(
        self,
        app_label: str,
        schema_editor: SchemaEditorProtocol,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        """Change the database from ``from_state`` to ``to_state``."""
        raise NotImplementedError(f"{type(self).__name__} must define database_forwards().")

    async def database_backwards(
        self,
        app_label: str,
        schema_editor: SchemaEditorProtocol,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        """Undo ``database_forwards``: change the database from ``from_state`` back to ``to_state``.

        ``from_state`` is the state after this operation, ``to_state`` the one before.
        """
        raise NotImplementedError(f"{type(self).__name__} must define database_backwards().")

    def describe(self) -> str:
        """Return a one-line, human description."""
        return f"{type(self).__name__}: {self._constructor_args}"

    @property
    def migration_name_fragment(self) -> str | None:
        """Return a piece of a migration name (``"post_subtitle"``), or None."""
        return None

    def references_model(self, name: str, app_label: str) -> bool:
        """Return whether this operation may touch model ``name`` (lower-case) of ``app_label``.

        When unsure, say yes: the optimizer then leaves the order alone.
        """
        return True

    def references_field(self, model_name: str, name: str, app_label: str) -> bool:
        """Return whether this operation may touch field ``name`` of ``model_name``."""
        return self.references_model(model_name, app_label)

    def reduce(self, operation: Operation, app_label: str) -> list[Operation] | bool:
        """Return what ``self`` followed by ``operation`` reduce to (see the module docstring)."""
        if self.elidable:
            return [operation]
        if operation.elidable:
            return [self]
        return False


def comparable(value: Any) -> Any:
    """Return ``value`` with fields replaced by their definitions, for equality tests.

    Fields compare by identity; two operations built from the same source
    hold different but equal field objects.
    """
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(comparable(item) for item in value)
    deconstruct = getattr(value, "deconstruct", None)
    if callable(deconstruct) and not isinstance(value, (type, Operation)):
        parts = deconstruct()
        if len(parts) == 4:  # a field: (name, path, args, kwargs)
            return (type(value), comparable(list(parts[2])), comparable(parts[3]))
    return value


def allowed(model: type[Any], schema_editor: SchemaEditorProtocol | None = None) -> bool:
    """Return whether this operation changes ``model``'s table in the editor's database.

    Only managed models (``Meta.managed``), and only where the routers'
    ``allow_migrate`` admits the model (``migrate --database NAME``); an
    operation skipped here is still recorded as applied, as Django does.
    """
    if not model._meta.managed:
        return False
    db = getattr(schema_editor, "db", None)
    return db is None or router.allow_migrate_model(db.alias, model)


def allowed_code(
    schema_editor: SchemaEditorProtocol, app_label: str, hints: dict[str, Any]
) -> bool:
    """Return whether ``RunSQL``/``RunPython`` of ``app_label`` run on the editor's database."""
    db = getattr(schema_editor, "db", None)
    return db is None or router.allow_migrate(db.alias, app_label, **hints)
