"""Relations in the schema: foreign keys added after a table, and junction tables.

Mixed into :class:`~reinhardt_db.backends.base.schema.SchemaEditor`. A
foreign key column comes with its table (``create_model``/``add_field``); its
constraint is in ``CREATE TABLE`` on SQLite and added with ``ALTER TABLE``
elsewhere (``create_foreign_keys``). A many-to-many field has no column: its
created junction model's table comes and goes with the field
(``many_to_many_change``), and follows renames of the model, its table or the
field (``rename_junction``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from reinhardt_db import exceptions as exc
from reinhardt_db.backends.base._alter import model_table

if TYPE_CHECKING:
    from reinhardt_db.backends.base.features import DatabaseFeatures

__all__ = ["RelationChanges", "junction_models"]

_table = model_table


class RelationChanges:
    """``create_foreign_keys``, ``many_to_many_change`` and ``rename_junction``."""

    if TYPE_CHECKING:
        features: DatabaseFeatures

        async def create_model(
            self, model: type[Any], *, if_not_exists: bool = False, with_relations: bool = True
        ) -> None: ...
        async def delete_model(
            self, model: type[Any], *, if_exists: bool = False, with_relations: bool = True
        ) -> None: ...
        async def create_foreign_key(
            self, table: str, columns: Sequence[str], to_table: str, to_columns: Sequence[str],
            *, name: str | None = None, on_delete: str | None = None,
            on_update: str | None = None, deferred: bool = True,
        ) -> str: ...
        async def alter_db_table(
            self, model: type[Any], old_db_table: str, new_db_table: str
        ) -> None: ...
        async def alter_field(
            self, model: type[Any], old_field: Any, new_field: Any, strict: bool = False
        ) -> None: ...

    async def create_foreign_keys(self, model: type[Any]) -> None:
        """Add the foreign keys of ``model``'s table where they are not part of CREATE TABLE."""
        if not self.features.supports_alter_table_constraints:
            return  # written into CREATE TABLE (SQLite)
        table = _table(model)
        for fk in sorted(table.foreign_key_constraints, key=lambda fk: str(fk.name)):
            await self.create_foreign_key(
                table.name,
                [c.name for c in fk.columns],
                fk.referred_table.name,
                [e.column.name for e in fk.elements],
                name=str(fk.name),
            )

    async def many_to_many_change(
        self, model: type[Any], old_field: Any | None, new_field: Any | None
    ) -> bool:
        """Carry out a field change that involves a many-to-many field; False if none does.

        Adding one creates its junction table, removing it drops the table, and
        altering it renames the table when its name changes (anything else about
        a many-to-many field lives in Python only). A ``through=`` model is its
        own model: its table comes and goes with it.
        """
        old_m2m = old_field is not None and getattr(old_field, "many_to_many", False)
        new_m2m = new_field is not None and getattr(new_field, "many_to_many", False)
        if not (old_m2m or new_m2m):
            return False
        field: Any = new_field if new_field is not None else old_field
        if old_field is not None and new_field is not None and old_m2m != new_m2m:
            raise exc.NotSupportedError(
                f"{model.__name__}.{field.name}: a many-to-many field cannot become a "
                "column (or the other way round) in place; remove the field and add a new one"
            )
        old_through = _auto_through(old_field) if old_m2m else None
        new_through = _auto_through(new_field) if new_m2m else None
        if old_field is None and new_through is not None:
            await self.create_model(new_through)
        elif new_field is None and old_through is not None:
            await self.delete_model(old_through)
        elif old_through is not None and new_through is not None:
            await self.rename_junction(old_through, new_through)
        elif (old_through is None) != (new_through is None):
            raise exc.NotSupportedError(
                f"{model.__name__}.{field.name}: changing between a "
                "created junction "
                "table and a through= model is not done in place; write it with "
                "SeparateDatabaseAndState"
            )
        return True

    async def rename_junction(self, old_through: type[Any], new_through: type[Any]) -> None:
        """Move a junction table to its new name and columns (a model or field renamed)."""
        old_table, new_table = _table(old_through), _table(new_through)
        if old_table.name != new_table.name:
            await self.alter_db_table(new_through, old_table.name, new_table.name)
        old_fks = [f for f in old_through._meta.local_fields if f.is_relation]
        new_fks = [f for f in new_through._meta.local_fields if f.is_relation]
        for old_fk, new_fk in zip(old_fks, new_fks, strict=True):
            if old_fk.column != new_fk.column:
                await self.alter_field(new_through, old_fk, new_fk)


def _auto_through(field: Any) -> type[Any] | None:
    through = field.through
    meta = getattr(through, "_meta", None)
    return through if meta is not None and meta.auto_created else None


def junction_models(model: type[Any]) -> list[type[Any]]:
    """The created junction models of ``model``'s many-to-many fields."""
    found = []
    for field in model._meta.many_to_many:
        through = _auto_through(field)
        if through is not None:
            found.append(through)
    return found
