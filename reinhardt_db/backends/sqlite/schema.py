"""SQLite DDL: changes ``ALTER TABLE`` cannot make rebuild the table."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa

from reinhardt_db import exceptions as exc
from reinhardt_db.backends.base._alter import model_table
from reinhardt_db.backends.base._tables import copy_table, diff_elements, stub_targets
from reinhardt_db.backends.base.schema import SchemaEditor
from reinhardt_db.backends.sqlite.introspection import SQLiteIntrospection

if TYPE_CHECKING:
    from reinhardt_db.backends.database import BoundConnection

__all__ = ["SQLiteSchemaEditor"]

#: The table a rebuild copies the rows into, renamed to the real name at the end.
REBUILD_PREFIX = "new__"
#: ``ALTER TABLE ... DROP COLUMN`` arrived in SQLite 3.35.
_DROP_COLUMN = (3, 35)

#: ``(SQL expression over the old table, its %s parameters)``, or None to leave
#: the column out of the copy (so its database default fills it).
CopySource = tuple[str, list[Any]] | None


class SQLiteSchemaEditor(SchemaEditor):
    """DDL for SQLite.

    ``ALTER TABLE`` there can add a plain column, drop or rename one, and
    rename a table; everything else (constraints, type or NULL changes, a NOT
    NULL column filled from a one-off default) rebuilds the table: create
    ``new__<table>`` as the model now says, copy every row, drop the old
    table, rename the new one, recreate the indexes. The block switches
    foreign keys off before its transaction (SQLite cannot inside one), so
    dropping a table others refer to deletes nothing, and runs ``PRAGMA
    foreign_key_check`` before committing a block that rebuilt a table.
    """

    vendor: ClassVar[str] = "sqlite"
    introspection_class = SQLiteIntrospection

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._foreign_keys_off = False
        self._rebuilt: list[str] = []

    # -- the block ----------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _foreign_keys_switched_off(self, bound: BoundConnection) -> AsyncIterator[None]:
        db = self.db
        if db is None or bound.in_transaction:
            # Inside the caller's transaction the setting cannot change; a
            # rebuild then checks that no table refers to the one it drops.
            yield
            return
        await db.execute_native("PRAGMA foreign_keys = OFF", ())
        self._foreign_keys_off = True
        try:
            yield
        except BaseException:
            self._foreign_keys_off = False
            try:
                await db.execute_native("PRAGMA foreign_keys = ON", ())
            except BaseException:
                bound.discard()  # never pool a connection with foreign keys off
            raise
        self._foreign_keys_off = False
        try:
            await db.execute_native("PRAGMA foreign_keys = ON", ())
        except BaseException:
            bound.discard()
            raise

    def connection_scope(
        self, bound: BoundConnection
    ) -> contextlib.AbstractAsyncContextManager[None]:
        """Switch foreign keys off around the block's transaction (back on afterwards)."""
        return self._foreign_keys_switched_off(bound)

    async def before_commit(self) -> None:
        """After a rebuild, refuse to commit rows whose foreign keys point nowhere."""
        if not self._rebuilt or self.db is None:
            return
        rows = await self.db.fetch_rows("PRAGMA foreign_key_check", ())
        self._rebuilt.clear()
        if rows:
            table, rowid, parent = rows[0][0], rows[0][1], rows[0][2]
            raise exc.IntegrityError(
                f"foreign key check failed after rebuilding a table: {len(rows)} row(s) point "
                f"nowhere, e.g. {table} rowid {rowid} -> {parent}; the change was rolled back. "
                "Fix or delete those rows, then run it again"
            )

    # -- the rebuild --------------------------------------------------------------------
    async def remake_table(
        self,
        source: sa.Table,
        *,
        drop_columns: Collection[str] = (),
        drop_items: Iterable[Any] = (),
        copy_from: Mapping[str, CopySource] | None = None,
    ) -> None:
        """Rebuild ``source.name`` as ``source`` defines it (less ``drop_*``), keeping every row.

        Each column is copied from the column of the same name unless
        ``copy_from`` says otherwise (an expression over the old table).
        """
        await self._check_rebuild_allowed(source.name)
        metadata = sa.MetaData()
        items = list(drop_items)
        target = copy_table(source, metadata, drop_columns=drop_columns, drop_items=items)
        temp = copy_table(source, metadata, REBUILD_PREFIX + source.name,
                          drop_columns=drop_columns, drop_items=items)
        stub_targets(target)
        stub_targets(temp)
        name, temp_name = self.quote_name(source.name), self.quote_name(temp.name)
        await self.execute(self.create_table_sql(temp))
        columns, expressions, params = [], [], []
        for column in target.columns:
            how = (copy_from or {}).get(column.name, (self.quote_name(column.name), []))
            if how is None:
                continue
            columns.append(self.quote_name(column.name))
            expressions.append(how[0])
            params += how[1]
        if columns:
            await self.execute(
                f"INSERT INTO {temp_name} ({', '.join(columns)}) "
                f"SELECT {', '.join(expressions)} FROM {name}",
                params if params else None,
            )
        if source.dialect_options["sqlite"].get("autoincrement"):
            await self._carry_sequence(source.name, temp.name)
        await self.execute(f"DROP TABLE {name}")
        await self.execute(f"ALTER TABLE {temp_name} RENAME TO {name}")
        for index in sorted(target.indexes, key=lambda i: str(i.name)):
            sql = self.create_index_sql(index)
            if sql is not None:
                await self.execute(sql)
        self._rebuilt.append(source.name)

    async def _carry_sequence(self, old: str, new: str) -> None:
        # Ids of deleted rows are never reused (AUTOINCREMENT): keep the high-water mark.
        await self.execute(
            "INSERT INTO sqlite_sequence (name, seq) SELECT %s, 0 WHERE NOT EXISTS "
            "(SELECT 1 FROM sqlite_sequence WHERE name = %s)", [new, new]
        )
        await self.execute(
            "UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM "
            "sqlite_sequence WHERE name = %s), 0)) WHERE name = %s", [old, new]
        )

    async def _check_rebuild_allowed(self, table: str) -> None:
        if self.collect_sql or self.db is None or self._foreign_keys_off:
            return
        if not await self.db.fetch_val("PRAGMA foreign_keys"):
            return
        rows = await self.db.fetch_all(
            "SELECT DISTINCT m.name FROM sqlite_master AS m "
            "JOIN pragma_foreign_key_list(m.name) AS f "
            "WHERE m.type = 'table' AND f.\"table\" = %s", [table],
        )
        if rows:
            referrers = ", ".join(sorted(str(r[0]) for r in rows))
            raise exc.NotSupportedError(
                f"cannot rebuild the SQLite table {table!r} inside a transaction: {referrers} "
                "refer(s) to it, and SQLite switches foreign keys off only outside a "
                "transaction (dropping the old table would delete or orphan their rows). "
                "Run the schema change outside transaction() (reinhardt migrate does)"
            )

    # -- fields -------------------------------------------------------------------------
    async def add_field(self, model: type[Any], field: Any) -> None:
        """Add the column with ``ALTER TABLE`` when SQLite can, else rebuild the table."""
        if await self.many_to_many_change(model, None, field):
            return
        table = model_table(model)
        column = table.c[field.column]
        fill = self.effective_default(field)
        involved = [e for e in self.elements(table) if column.name in e.columns]
        constant_db_default = field.has_db_default() and not isinstance(
            field.db_default, sa.sql.ClauseElement
        )
        simple = not column.primary_key and all(e.is_index for e in involved) and (
            constant_db_default or (column.nullable and not field.has_db_default())
        )
        if not simple:
            source: CopySource = None if field.has_db_default() and fill is None else (
                "%s", [fill]
            )
            await self.remake_table(table, copy_from={column.name: source})
            return
        name = self.quote_name(table.name)
        await self.execute(f"ALTER TABLE {name} ADD COLUMN {self.column_sql(table, column)}")
        if fill is not None and not field.has_db_default():
            await self.execute(f"UPDATE {name} SET {self.quote_name(column.name)} = %s", [fill])
        for element in involved:
            await self._create_index(element.item)

    async def remove_field(self, model: type[Any], field: Any) -> None:
        """``DROP COLUMN`` for a plain column, else rebuild without it."""
        if await self.many_to_many_change(model, field, None):
            return
        table = model_table(model)
        column = table.c[field.column]
        involved = [e for e in self.elements(table) if column.name in e.columns]
        if not involved and not column.primary_key and sqlite3.sqlite_version_info >= _DROP_COLUMN:
            await self.execute(
                f"ALTER TABLE {self.quote_name(table.name)} DROP COLUMN "
                f"{self.quote_name(column.name)}"
            )
            return
        await self.remake_table(
            table, drop_columns=[column.name], drop_items=[e.item for e in involved]
        )

    async def alter_field(
        self, model: type[Any], old_field: Any, new_field: Any, strict: bool = False
    ) -> None:
        """Rename the column (and its indexes) in place; rebuild for anything else."""
        if await self.many_to_many_change(model, old_field, new_field):
            return
        old_table, table = model_table(old_field.model), model_table(model)
        old_column, column = old_table.c[old_field.column], table.c[new_field.column]
        renamed = {old_column.name: column.name} if old_column.name != column.name else {}
        changes = diff_elements(self.elements(old_table), self.elements(table), renamed)
        touched = [*changes.drop, *changes.add, *(new for _old, new in changes.rename)]
        before = old_column._copy()
        before.name = before.key = column.name
        same_column = self.column_sql(table, before) == self.column_sql(table, column)
        if same_column and all(e.is_index for e in touched):
            for element in changes.drop:
                await self.execute(self.drop_element_sql(table.name, element))
            if renamed:
                await self.execute(self.rename_column_sql(table, old_column, column))
            for old, new in changes.rename:
                await self.execute(self.drop_element_sql(table.name, old))
                await self._create_index(new.item)
            for element in changes.add:
                await self._create_index(element.item)
            return
        source = self.quote_name(old_column.name)
        params: list[Any] = []
        if old_column.nullable and not column.nullable:
            fill = self.effective_default(new_field)
            if fill is not None:
                source, params = f"coalesce({source}, %s)", [fill]
        await self.remake_table(table, copy_from={column.name: (source, params)})

    async def _create_index(self, index: Any) -> None:
        sql = self.create_index_sql(index)
        if sql is not None:
            await self.execute(sql)

    # -- tables, indexes, constraints -----------------------------------------------------
    async def alter_db_table(
        self, model: type[Any], old_db_table: str, new_db_table: str
    ) -> None:
        """Rename the table; rebuild it when constraints named after the table must follow."""
        if old_db_table == new_db_table:
            return
        await self.execute(self.rename_table_sql(old_db_table, new_db_table))
        table = model_table(model)
        changes = self.auto_named_changes(table, old_db_table)
        if any(not new.is_index for _old, new in changes.rename):
            await self.remake_table(table)
            return
        for old, new in changes.rename:
            await self.execute(self.drop_element_sql(table.name, old))
            await self._create_index(new.item)

    def rename_index_sql(self, table_name: str, old_name: str, new_name: str) -> str:
        """SQLite cannot rename an index: ``rename_index`` drops and recreates it."""
        raise exc.NotSupportedError(
            "SQLite has no ALTER INDEX ... RENAME; use rename_index(), which recreates it"
        )

    async def rename_index(self, model: type[Any], old_index: Any, new_index: Any) -> None:
        """Drop ``old_index`` and create ``new_index`` (SQLite has no index rename)."""
        old_name = old_index if isinstance(old_index, str) else old_index.name
        index = self._index(model, new_index)
        if old_name == index.name:
            return
        await self.execute(f"DROP INDEX {self.quote_name(old_name)}")
        await self._create_index(index)

    async def alter_unique_together(
        self,
        model: type[Any],
        old_unique_together: Iterable[Sequence[str]],
        new_unique_together: Iterable[Sequence[str]],
    ) -> None:
        """Rebuild the table with ``model``'s (new) unique groups."""
        old = {tuple(g) for g in old_unique_together}
        new = {tuple(g) for g in new_unique_together}
        if old != new:
            await self.remake_table(model_table(model))

    async def add_constraint(self, model: type[Any], constraint: Any) -> None:
        """Create a conditional unique index, or rebuild the table with the constraint."""
        item = self._constraint(model, constraint)
        if isinstance(item, sa.Index):
            await self._create_index(item)
            return
        table = model_table(model)
        if item.table is not table:
            raise exc.NotSupportedError(
                f"SQLite adds a constraint by rebuilding the table from its model: declare "
                f"{item.name!r} in {model.__name__}.Meta.constraints and pass its name"
            )
        await self.remake_table(table)

    async def remove_constraint(self, model: type[Any], constraint: Any) -> None:
        """Drop a conditional unique index, or rebuild the table without the constraint."""
        item = self._constraint(model, constraint)
        if isinstance(item, sa.Index):
            sql = self.drop_index_sql(item)
            if sql is not None:
                await self.execute(sql)
            return
        await self.remake_table(model_table(model), drop_items=[item])
