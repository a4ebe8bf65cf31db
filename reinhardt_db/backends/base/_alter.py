"""Changes to existing tables: fields added, removed, altered, renamed; table and index renames.

Mixed into :class:`~reinhardt_db.backends.base.schema.SchemaEditor`. Every
change is worked out from SQLAlchemy ``Table`` objects of historical models
(before and after), so the column definitions, indexes and constraints come
from the same place as ``CREATE TABLE``. The base writes standard SQL
(``ALTER TABLE ... ALTER COLUMN``, PostgreSQL's dialect of it); MySQL
overrides the column changes (``MODIFY``), SQLite rebuilds tables.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.schema import (
    AddConstraint,
    CreateColumn,
    DropColumnComment,
    DropConstraint,
    DropIndex,
    SetColumnComment,
)

from reinhardt_db.backends.base._tables import (
    Element,
    ElementChanges,
    diff_elements,
    elements_of,
)

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import Dialect
    from sqlalchemy.sql.compiler import SQLCompiler

    from reinhardt_db.backends.base.features import DatabaseFeatures
    from reinhardt_db.backends.base.operations import DatabaseOperations

__all__ = ["FieldAlterations", "model_table"]


def model_table(model: type[Any]) -> sa.Table:
    """Return the ``sqlalchemy.Table`` of a concrete model."""
    meta = getattr(model, "_meta", None)
    table = getattr(meta, "table", None)
    if not isinstance(table, sa.Table):
        raise TypeError(f"{model!r} is not a concrete model; it has no table.")
    return table


def _auto_name(table: str, columns: Sequence[str], suffix: str) -> str:
    # The names models give their own unique/index/check elements (models.indexes).
    from reinhardt_db.models.indexes import constraint_name

    return constraint_name(table, list(columns), suffix)


class FieldAlterations:
    """``add_field``, ``remove_field``, ``alter_field``, ``rename_field``, ``alter_db_table``,
    ``rename_index`` and ``alter_unique_together`` for every backend.
    """

    #: Whether ``ALTER TABLE ... RENAME CONSTRAINT`` exists (else drop and add).
    can_rename_constraints: ClassVar[bool] = True

    if TYPE_CHECKING:
        vendor: ClassVar[str]
        dialect: Dialect
        features: DatabaseFeatures
        ops: DatabaseOperations

        async def execute(self, sql: str, params: Sequence[Any] | None = None) -> None: ...
        def compile(self, element: Any) -> str: ...
        def create_index_sql(
            self, index: sa.Index, *, if_not_exists: bool = False, concurrently: bool = False
        ) -> str | None: ...
        def foreign_key(
            self, table: str, columns: Sequence[str], to_table: str, to_columns: Sequence[str],
            *, name: str, on_delete: str | None = None, on_update: str | None = None,
            deferred: bool = True,
        ) -> sa.ForeignKeyConstraint: ...
        def _index(self, model: type[Any], index: Any) -> sa.Index: ...
        async def many_to_many_change(
            self, model: type[Any], old_field: Any | None, new_field: Any | None
        ) -> bool: ...
        @classmethod
        def default_literal_sql(cls, value: Any, type_: Any, compiler: SQLCompiler) -> str: ...
        @classmethod
        def needs_expression_default(cls, type_: Any, dialect: Dialect) -> bool: ...

    # -- small builders -------------------------------------------------------------------
    def quote_name(self, name: str) -> str:
        """Return ``name`` quoted as an identifier where this dialect needs it."""
        return str(self.dialect.identifier_preparer.quote(name))

    def column_sql(self, table: sa.Table, column: sa.Column[Any], default: Any = None) -> str:
        """Return ``column``'s definition (``name TYPE [DEFAULT ...] [NOT NULL] ...``).

        ``default`` (a value prepared for this backend) replaces the column's
        own default in the definition, to fill existing rows.
        """
        copy = column._copy()
        if default is not None:
            copy.server_default = sa.DefaultClause(sa.text(self.literal(default, column.type)))
        scratch = sa.Table(table.name, sa.MetaData(), copy, **table.kwargs)
        return self.compile(CreateColumn(scratch.c[column.name]))

    def literal(self, value: Any, type_: Any) -> str:
        """Return the prepared ``value`` as a ``DEFAULT`` literal for a column of ``type_``."""
        compiler = self.dialect.statement_compiler(self.dialect, None)
        return self.default_literal_sql(value, type_, compiler)

    def default_sql(self, column: sa.Column[Any]) -> str | None:
        """Return the ``DEFAULT`` body ``column`` has in the database, or None."""
        if column.server_default is None:
            return None
        compiler = self.dialect.ddl_compiler(self.dialect, None)  # type: ignore[arg-type]
        text = compiler.get_column_default_string(column)
        return None if text is None else str(text)

    def can_use_literal_default(self, column: sa.Column[Any]) -> bool:
        """Return whether ``column`` can take a literal ``DEFAULT`` on this server."""
        return self.features.supports_expression_defaults or not self.needs_expression_default(
            column.type, self.dialect
        )

    def effective_default(self, field: Any) -> Any:
        """Return the value existing rows get for a new ``field`` (prepared for the backend).

        ``None`` when the database fills them itself (``db_default``) or with NULL.
        """
        if field.has_default():
            value = field.get_default()
        elif field.has_db_default():
            return None
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = _now_for(field)
        elif field.null:
            return None
        elif field.blank and field.empty_strings_allowed:
            value = ""
        else:
            return None
        if value is None:
            return None
        return field.get_db_prep_value(value, self.ops)

    def elements(self, table: sa.Table) -> list[Element]:
        """Return ``table``'s named indexes and constraints (see ``_tables.elements_of``)."""
        return elements_of(table, self.dialect)

    # -- element DDL --------------------------------------------------------------------
    def _stand_in(self, element: Element, table_name: str, name: str) -> Any:
        """A copy of ``element``'s kind called ``name`` on a stand-in of ``table_name``."""
        stand_in = sa.Table(table_name, sa.MetaData(), sa.Column("_", sa.Integer))
        item = element.item
        if isinstance(item, sa.Index):
            return sa.Index(name, stand_in.c["_"], unique=item.unique)
        constraint: sa.Constraint
        if isinstance(item, sa.ForeignKeyConstraint):
            constraint = sa.ForeignKeyConstraint([], [], name=name)
        elif isinstance(item, sa.UniqueConstraint):
            constraint = sa.UniqueConstraint(name=name)
        else:
            constraint = sa.CheckConstraint(sa.true(), name=name)
        stand_in.append_constraint(constraint)
        return constraint

    def drop_element_sql(self, table_name: str, element: Element, name: str | None = None) -> str:
        """Return the statement dropping ``element`` (called ``name``, default its own)."""
        item = self._stand_in(element, table_name, name or element.name)
        if isinstance(item, sa.Index):
            return self.compile(DropIndex(item))
        return self.compile(DropConstraint(item))

    def add_element_sql(self, table_name: str, element: Element) -> str | None:
        """Return the statement creating ``element`` on its (existing) table."""
        item = element.item
        if isinstance(item, sa.Index):
            return self.create_index_sql(item)
        if isinstance(item, sa.ForeignKeyConstraint):
            targets = [e.target_fullname.rpartition(".") for e in item.elements]
            fk = self.foreign_key(
                table_name, list(item.column_keys), targets[0][0], [t[2] for t in targets],
                name=element.name, on_delete=item.ondelete, on_update=item.onupdate,
                deferred=item.deferrable is not None,
            )
            return self.compile(AddConstraint(fk, isolate_from_table=False))
        return self.compile(AddConstraint(item, isolate_from_table=False))

    def rename_element_sql(self, table_name: str, old: Element, new: Element) -> list[str]:
        """Return the statements renaming ``old`` to ``new.name`` (same shape)."""
        if old.is_index:
            return [self.rename_index_sql(table_name, old.name, new.name)]
        if self.can_rename_constraints:
            return [
                f"ALTER TABLE {self.quote_name(table_name)} RENAME CONSTRAINT "
                f"{self.quote_name(old.name)} TO {self.quote_name(new.name)}"
            ]
        added = self.add_element_sql(table_name, new)
        return [self.drop_element_sql(table_name, old), *([added] if added else [])]

    def rename_index_sql(self, table_name: str, old_name: str, new_name: str) -> str:
        """Return the statement renaming index ``old_name`` of ``table_name``."""
        return f"ALTER INDEX {self.quote_name(old_name)} RENAME TO {self.quote_name(new_name)}"

    async def apply_element_changes(
        self, table_name: str, changes: ElementChanges, *, phase: str
    ) -> None:
        """Run the ``"drop"`` part of ``changes``, or the ``"rename"``/``"add"`` part.

        Foreign keys go first when dropping and last when adding: an index may
        back a foreign key on MySQL.
        """
        if phase == "drop":
            for element in sorted(changes.drop, key=lambda e: e.shape[0] != "fk"):
                await self.execute(self.drop_element_sql(table_name, element))
            return
        for old, new in changes.rename:
            for sql in self.rename_element_sql(table_name, old, new):
                await self.execute(sql)
        for element in sorted(changes.add, key=lambda e: e.shape[0] == "fk"):
            added = self.add_element_sql(table_name, element)
            if added is not None:
                await self.execute(added)

    # -- fields -------------------------------------------------------------------------
    async def add_field(self, model: type[Any], field: Any) -> None:
        """Add ``field``'s column (``model`` has the field); existing rows get its default.

        The default that fills existing rows (``effective_default``) is not
        kept as the column's default unless it is the field's ``db_default``.
        """
        if await self.many_to_many_change(model, None, field):
            return
        table = model_table(model)
        column = table.c[field.column]
        name, quoted = self.quote_name(table.name), self.quote_name(column.name)
        fill = self.effective_default(field)
        if fill is None or field.has_db_default():
            await self.execute(f"ALTER TABLE {name} ADD COLUMN {self.column_sql(table, column)}")
        elif self.can_use_literal_default(column):
            await self.execute(
                f"ALTER TABLE {name} ADD COLUMN {self.column_sql(table, column, fill)}"
            )
            await self.execute(f"ALTER TABLE {name} ALTER COLUMN {quoted} DROP DEFAULT")
        else:
            nullable = column._copy()
            nullable.nullable = True
            await self.execute(
                f"ALTER TABLE {name} ADD COLUMN {self.column_sql(table, nullable)}"
            )
            await self.execute(f"UPDATE {name} SET {quoted} = %s", [fill])
            if not column.nullable:
                for sql in self.alter_column_sql(table, nullable, column):
                    await self.execute(sql)
        added = [e for e in self.elements(table) if column.name in e.columns]
        await self.apply_element_changes(table.name, ElementChanges([], [], added), phase="add")
        for sql in self.column_comment_sql(None, column):
            await self.execute(sql)

    async def remove_field(self, model: type[Any], field: Any) -> None:
        """Drop ``field``'s column (``model`` still has it) and what involves it."""
        if await self.many_to_many_change(model, field, None):
            return
        table = model_table(model)
        column = table.c[field.column]
        involved = [e for e in self.elements(table) if column.name in e.columns]
        await self.apply_element_changes(table.name, ElementChanges(involved, [], []),
                                         phase="drop")
        await self.execute(
            f"ALTER TABLE {self.quote_name(table.name)} DROP COLUMN {self.quote_name(column.name)}"
        )

    async def alter_field(
        self, model: type[Any], old_field: Any, new_field: Any, strict: bool = False
    ) -> None:
        """Change ``old_field``'s column into ``new_field``'s (``model`` is the model after).

        Name (``db_column``), type, NULL, ``db_default``, comment, ``unique``,
        ``db_index`` and the field's checks follow the new field. A column that
        becomes NOT NULL gets the new field's default in its NULL rows first.
        """
        if await self.many_to_many_change(model, old_field, new_field):
            return
        old_table, table = model_table(old_field.model), model_table(model)
        old_column, column = old_table.c[old_field.column], table.c[new_field.column]
        if old_column.primary_key != column.primary_key:
            raise NotImplementedError(
                f"{table.name}.{column.name}: changing which field is the primary key is "
                "not supported by migrations yet; write the change with RunSQL"
            )
        renamed = {old_column.name: column.name} if old_column.name != column.name else {}
        changes = diff_elements(self.elements(old_table), self.elements(table), renamed)
        fill = None
        if old_column.nullable and not column.nullable:
            fill = self.effective_default(new_field)
        await self.apply_element_changes(table.name, changes, phase="drop")
        name = self.quote_name(table.name)
        if renamed:
            await self.execute(self.rename_column_sql(table, old_column, column))
        if fill is not None:
            quoted = self.quote_name(column.name)
            await self.execute(f"UPDATE {name} SET {quoted} = %s WHERE {quoted} IS NULL", [fill])
        for sql in self.alter_column_sql(table, old_column, column):
            await self.execute(sql)
        for sql in self.column_comment_sql(old_column, column):
            await self.execute(sql)
        await self.apply_element_changes(table.name, changes, phase="add")

    async def rename_field(self, model: type[Any], old_field: Any, new_field: Any) -> None:
        """Rename ``old_field``'s column to ``new_field``'s, keeping its values.

        Indexes and constraints named after the column are renamed with it.
        """
        await self.alter_field(model, old_field, new_field)

    def rename_column_sql(
        self, table: sa.Table, old: sa.Column[Any], new: sa.Column[Any]
    ) -> str:
        """Return the statement renaming column ``old`` to ``new.name``."""
        return (
            f"ALTER TABLE {self.quote_name(table.name)} RENAME COLUMN "
            f"{self.quote_name(old.name)} TO {self.quote_name(new.name)}"
        )

    def alter_column_sql(
        self, table: sa.Table, old: sa.Column[Any], new: sa.Column[Any]
    ) -> list[str]:
        """Return the statements changing type, NULL and default of column ``new`` (renamed).

        ``ALTER COLUMN ... TYPE ... USING``, ``SET``/``DROP NOT NULL`` and
        ``SET``/``DROP DEFAULT`` (PostgreSQL's forms).
        """
        name, column = self.quote_name(table.name), self.quote_name(new.name)
        prefix = f"ALTER TABLE {name} ALTER COLUMN {column}"
        statements = []
        old_type = old.type.compile(dialect=self.dialect)
        new_type = new.type.compile(dialect=self.dialect)
        if old_type != new_type:
            statements.append(
                f"{prefix} TYPE {new_type} USING {self.quote_name(new.name)}::{new_type}"
            )
        old_default, new_default = self.default_sql(old), self.default_sql(new)
        if old_default != new_default and old_default is not None:
            statements.append(f"{prefix} DROP DEFAULT")
        if old.nullable != new.nullable:
            statements.append(f"{prefix} {'DROP' if new.nullable else 'SET'} NOT NULL")
        if old_default != new_default and new_default is not None:
            statements.append(f"{prefix} SET DEFAULT {new_default}")
        return statements

    def column_comment_sql(self, old: sa.Column[Any] | None, new: sa.Column[Any]) -> list[str]:
        """Return the statements changing the column comment where it is not inline."""
        if not self.dialect.supports_comments or self.dialect.inline_comments:
            return []
        if (old.comment if old is not None else None) == new.comment:
            return []
        scratch = sa.Table(new.table.name, sa.MetaData(), new._copy())
        element = scratch.c[new.name]
        if new.comment:
            return [self.compile(SetColumnComment(element))]
        return [self.compile(DropColumnComment(element))]

    # -- tables -------------------------------------------------------------------------
    async def alter_db_table(
        self, model: type[Any], old_db_table: str, new_db_table: str
    ) -> None:
        """Rename the table; indexes and constraints named after it follow."""
        if old_db_table == new_db_table:
            return
        await self.execute(self.rename_table_sql(old_db_table, new_db_table))
        changes = self.auto_named_changes(model_table(model), old_db_table)
        await self.apply_element_changes(new_db_table, changes, phase="add")

    def rename_table_sql(self, old_db_table: str, new_db_table: str) -> str:
        """Return the statement renaming a table."""
        return (
            f"ALTER TABLE {self.quote_name(old_db_table)} RENAME TO "
            f"{self.quote_name(new_db_table)}"
        )

    def auto_named_changes(self, table: sa.Table, old_db_table: str) -> ElementChanges:
        """Return the renames of ``table``'s elements that are named after the table."""
        renames: list[tuple[Element, Element]] = []
        for element in self.elements(table):
            old_name = _old_auto_name(element, table.name, old_db_table)
            if old_name is not None and old_name != element.name:
                renames.append((dataclasses.replace(element, name=old_name), element))
        return ElementChanges([], renames, [])

    # -- indexes and unique_together -----------------------------------------------------
    async def rename_index(self, model: type[Any], old_index: Any, new_index: Any) -> None:
        """Rename ``old_index`` to ``new_index.name`` (same fields and condition)."""
        table = model_table(model)
        old_name = old_index if isinstance(old_index, str) else old_index.name
        new_name = new_index if isinstance(new_index, str) else new_index.name
        if old_name != new_name:
            await self.execute(self.rename_index_sql(table.name, old_name, new_name))

    async def alter_unique_together(
        self,
        model: type[Any],
        old_unique_together: Iterable[Sequence[str]],
        new_unique_together: Iterable[Sequence[str]],
    ) -> None:
        """Drop the unique groups only in the old list, add those only in the new one.

        Groups are field names of ``model`` (the model after the change).
        """
        changes = self.unique_together_changes(model, old_unique_together, new_unique_together)
        await self.apply_element_changes(model_table(model).name, changes, phase="drop")
        await self.apply_element_changes(model_table(model).name, changes, phase="add")

    def unique_together_changes(
        self,
        model: type[Any],
        old_unique_together: Iterable[Sequence[str]],
        new_unique_together: Iterable[Sequence[str]],
    ) -> ElementChanges:
        """Return the unique constraints to drop and add for a ``unique_together`` change."""
        table = model_table(model)
        old = {tuple(group) for group in old_unique_together}
        new = {tuple(group) for group in new_unique_together}
        elements = self.elements(table)
        dropped, added = [], []
        for group in sorted(old - new):
            columns = [model._meta.get_field(f).column for f in group]
            stand_in = sa.Table(table.name, sa.MetaData(), *(sa.Column(c) for c in columns))
            name = _auto_name(table.name, columns, "uniq")
            constraint = sa.UniqueConstraint(*columns, name=name)
            stand_in.append_constraint(constraint)
            dropped.append(Element(constraint, name, frozenset(columns), ("unique", group)))
        for group in sorted(new - old):
            name = _auto_name(
                table.name, [model._meta.get_field(f).column for f in group], "uniq"
            )
            added += [e for e in elements if e.name == name and e.shape[0] == "unique"]
        return ElementChanges(dropped, [], added)


def _old_auto_name(element: Element, new_db_table: str, old_db_table: str) -> str | None:
    kind = element.shape[0]
    suffixes = {
        "unique": ("uniq",), "check": ("check",), "index": ("idx", "uniq"), "fk": ("fk",),
    }.get(kind, ())
    columns = _element_column_order(element)
    if columns is None:
        return None
    for suffix in suffixes:
        if element.name == _auto_name(new_db_table, columns, suffix):
            return _auto_name(old_db_table, columns, suffix)
    return None


def _element_column_order(element: Element) -> list[str] | None:
    item = element.item
    if isinstance(item, sa.Index):
        return [c.name for c in item.columns]
    if isinstance(item, sa.UniqueConstraint):
        return [c.name for c in item.columns]
    if isinstance(item, sa.ForeignKeyConstraint):
        return [str(key) for key in item.column_keys]
    if isinstance(item, sa.CheckConstraint):
        names = sorted(element.columns)
        return names if len(names) == 1 else None
    return None


def _now_for(field: Any) -> Any:
    now = dt.datetime.now(dt.UTC)
    kind = field.get_internal_type()
    if kind == "DateField":
        return now.date()
    if kind == "TimeField":
        return now.time()
    return now
