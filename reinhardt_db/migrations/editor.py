"""The schema-editor interface the migration operations call.

Operations never build DDL themselves: ``database_forwards`` and
``database_backwards`` hand models, fields, indexes and constraints to an
object with this shape (``db.schema_editor()``), which renders DDL for its
backend, or records it with ``collect_sql`` for ``sqlmigrate``.

Models passed in are *historical* models rendered from a ``ProjectState``
(``state.apps.get_model(app_label, name)``); fields, indexes and constraints
are bound to such models. Every method runs (or collects) its statements
inside the editor's block::

    async with db.schema_editor(atomic=migration.atomic) as editor:
        await migration.apply(project_state, editor)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = ["SchemaEditorProtocol"]


@runtime_checkable
class SchemaEditorProtocol(Protocol):
    """What a schema editor offers to migration operations.

    Attributes: ``collect_sql`` (statements are recorded, not run; ``RunPython``
    then only notes that it cannot be shown as SQL), ``atomic`` (the block runs
    in a transaction where the backend allows it; ``AddIndexConcurrently``
    refuses to run then), ``vendor`` (``"sqlite"``, ``"postgresql"`` or
    ``"mysql"``: PostgreSQL-only operations do nothing elsewhere) and ``db``
    (the ``Database`` the block runs on, ``None`` when only collecting SQL).
    """

    collect_sql: bool
    atomic: bool
    db: Any

    @property
    def vendor(self) -> str:
        """``"sqlite"``, ``"postgresql"`` or ``"mysql"``."""
        ...

    async def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run one statement (``%s`` placeholders, like ``db.execute``), or record it."""
        ...

    async def create_model(self, model: type[Any]) -> None:
        """Create the table of ``model`` with its columns, indexes and constraints."""
        ...

    async def delete_model(self, model: type[Any]) -> None:
        """Drop the table of ``model``."""
        ...

    async def alter_db_table(
        self, model: type[Any], old_db_table: str, new_db_table: str
    ) -> None:
        """Rename the table of ``model`` from ``old_db_table`` to ``new_db_table``."""
        ...

    async def add_field(self, model: type[Any], field: Any) -> None:
        """Add the column of ``field`` (already part of ``model``) and fill existing rows.

        A field with a ``default`` and ``preserve_default=False`` in its
        migration still carries the one-off default here: existing rows get
        it; the column keeps no default afterwards.
        """
        ...

    async def remove_field(self, model: type[Any], field: Any) -> None:
        """Drop the column of ``field`` (``model`` still has it)."""
        ...

    async def alter_field(
        self, model: type[Any], old_field: Any, new_field: Any, strict: bool = False
    ) -> None:
        """Change ``old_field``'s column to match ``new_field`` (type, null, default, unique ...).

        ``model`` is the model after the change; ``old_field`` is bound to the
        model before it. The column name may differ (a changed ``db_column``).
        ``strict`` asks to fail rather than skip a change the backend cannot make.
        """
        ...

    async def rename_field(self, model: type[Any], old_field: Any, new_field: Any) -> None:
        """Rename ``old_field.column`` to ``new_field.column`` keeping every value.

        ``model`` is the model after the rename (it holds ``new_field``).
        Called only when the column name actually changes.
        """
        ...

    async def add_index(self, model: type[Any], index: Any, *, concurrently: bool = False) -> None:
        """Create ``index`` (a ``models.Index``) on ``model``'s table.

        ``concurrently`` asks PostgreSQL for ``CREATE INDEX CONCURRENTLY``;
        it is only passed by ``AddIndexConcurrently``, outside a transaction.
        """
        ...

    async def remove_index(
        self, model: type[Any], index: Any, *, concurrently: bool = False
    ) -> None:
        """Drop ``index`` from ``model``'s table (``concurrently`` as for ``add_index``)."""
        ...

    async def rename_index(self, model: type[Any], old_index: Any, new_index: Any) -> None:
        """Rename ``old_index`` to ``new_index.name`` (same fields and condition)."""
        ...

    async def add_constraint(self, model: type[Any], constraint: Any) -> None:
        """Add ``constraint`` (``UniqueConstraint``/``CheckConstraint``) to ``model``'s table."""
        ...

    async def remove_constraint(self, model: type[Any], constraint: Any) -> None:
        """Drop ``constraint`` from ``model``'s table."""
        ...

    async def alter_unique_together(
        self,
        model: type[Any],
        old_unique_together: Sequence[Sequence[str]],
        new_unique_together: Sequence[Sequence[str]],
    ) -> None:
        """Drop the unique groups only in the old list and add those only in the new one.

        Groups are field names; ``model`` is the model after the change.
        """
        ...
