"""The schema editor: DDL for tables, indexes, constraints and foreign keys.

Django's ``connection.schema_editor()`` is the model::

    async with db.schema_editor() as editor:
        await editor.create_model(Author)
        await editor.add_index(Author, Author._meta.indexes[0])

The block runs on one connection, inside a transaction where the backend has
transactional DDL (``features.supports_transactional_ddl``). With
``collect_sql=True`` the statements are recorded in ``editor.collected_sql``
instead of being run (``sqlmigrate``). Statements are built from SQLAlchemy
Core DDL constructs compiled with the database's dialect; each step is a small
method (``*_sql`` builds, the ``async`` method runs) so that vendors override
only what differs. Changes to existing tables (add/alter/remove/rename field,
table and index renames, ``unique_together``) live in ``_alter.py``; foreign
keys added after a table and many-to-many junction tables in ``_relations.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
from collections.abc import Collection, Sequence
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.schema import (
    AddConstraint,
    CreateIndex,
    CreateTable,
    DropConstraint,
    DropIndex,
    DropTable,
    SetColumnComment,
)

from reinhardt_db import exceptions as exc
from reinhardt_db.backends.base._alter import FieldAlterations, model_table
from reinhardt_db.backends.base._relations import RelationChanges, junction_models
from reinhardt_db.backends.base.introspection import Introspection

if TYPE_CHECKING:
    from typing import Self

    from sqlalchemy.engine.interfaces import Dialect
    from sqlalchemy.sql.compiler import SQLCompiler

    from reinhardt_db.backends.base.features import DatabaseFeatures
    from reinhardt_db.backends.base.operations import DatabaseOperations
    from reinhardt_db.backends.database import BoundConnection, Database

__all__ = ["SchemaEditor"]

_NO_LIMIT_NAME_LENGTH = 63  # names stay portable where the backend sets no limit


class SchemaEditor(RelationChanges, FieldAlterations):
    """Run (or collect) DDL on one database; each vendor's ``schema.py`` overrides what differs.

    Make one with ``db.schema_editor(collect_sql=False, atomic=True)``; for
    SQL only, without a database, ``reinhardt_db.backends.dialects.offline_schema_editor``.
    """

    vendor: ClassVar[str]
    #: Reads the live schema back (``--fake-initial``, ``inspectdb``, tests).
    introspection_class: ClassVar[type[Introspection]] = Introspection

    def __init__(
        self,
        db: Database | None = None,
        *,
        collect_sql: bool = False,
        atomic: bool = True,
        dialect: Dialect | None = None,
        features: DatabaseFeatures | None = None,
        ops: DatabaseOperations | None = None,
    ) -> None:
        if db is None and (dialect is None or features is None or ops is None):
            raise TypeError(
                "a schema editor needs a database, or a dialect, features and ops to only "
                "build SQL; use db.schema_editor() or dialects.offline_schema_editor(dialect)"
            )
        if db is None and not collect_sql:
            raise TypeError("a schema editor without a database can only collect SQL")
        self.db = db
        self.collect_sql = collect_sql
        self.atomic = atomic
        self.dialect: Dialect = dialect if dialect is not None else db.dialect  # type: ignore[union-attr]
        self.features: DatabaseFeatures = (
            features if features is not None else db.features  # type: ignore[union-attr]
        )
        self.ops: DatabaseOperations = ops if ops is not None else db.ops  # type: ignore[union-attr]
        #: Statements recorded with ``collect_sql=True``, in order, without ``;``.
        self.collected_sql: list[str] = []
        #: Statements to run at the end of the block (e.g. foreign keys between new tables).
        self.deferred_sql: list[str] = []
        self._stack: contextlib.AsyncExitStack | None = None

    # -- the migrate lock ---------------------------------------------------------------
    @classmethod
    def migrate_lock_sql(cls, db: Database) -> tuple[str, str, list[Any]] | None:
        """Return ``(try-lock SQL, unlock SQL, params)`` of the server's session lock.

        ``migrate`` holds it on a dedicated connection for its whole run; the
        try-lock query answers 1 when it got the lock. None means the backend
        has no such lock (SQLite locks a file beside the database instead).
        """
        return None

    # -- the block ----------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        if self._stack is not None:
            raise exc.InterfaceError("this schema editor's block is already open")
        stack = contextlib.AsyncExitStack()
        if self.db is not None:
            db = self.db
            bound = await stack.enter_async_context(db.connection())
            # The connection is open, so the server's features and dialect are known.
            self.dialect, self.features, self.ops = db.dialect, db.features, db.ops
            if not self.collect_sql:
                try:
                    await stack.enter_async_context(self.connection_scope(bound))
                except BaseException:
                    await stack.aclose()
                    raise
            if (
                self.atomic
                and not self.collect_sql
                and self.features.supports_transactional_ddl
                and not bound.in_transaction
            ):
                try:
                    await stack.enter_async_context(db.transaction())
                except BaseException:
                    await stack.aclose()
                    raise
        self._stack = stack
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        stack = self._stack
        if stack is None:
            return False
        try:
            if exc_type is None:
                for sql in self.deferred_sql:
                    await self.execute(sql)
                self.deferred_sql.clear()
                if not self.collect_sql:
                    await self.before_commit()
        except BaseException as error:
            self._stack = None
            await stack.__aexit__(type(error), error, error.__traceback__)
            raise
        self._stack = None
        return bool(await stack.__aexit__(exc_type, exc_value, traceback))

    def connection_scope(
        self, bound: BoundConnection
    ) -> contextlib.AbstractAsyncContextManager[None]:
        """Return what wraps the block on its connection, outside its transaction.

        A hook: SQLite switches foreign keys off there (they cannot change
        inside a transaction) and back on afterwards.
        """
        return contextlib.nullcontext()

    async def before_commit(self) -> None:
        """Run checks at the end of a block that succeeded, before it commits (a hook)."""

    async def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run one statement on the block's connection, or record it with ``collect_sql``.

        Without ``params`` the SQL runs as written; with them it takes ``%s``
        placeholders (and ``%%`` for a literal ``%``), like ``db.execute``.
        Collected SQL shows the parameters as literals.
        """
        if self.collect_sql:
            self.collected_sql.append(sql if params is None else self.interpolate(sql, params))
            return
        if self.db is None or self._stack is None:
            raise exc.InterfaceError(
                "schema editor statements run inside its block: "
                "`async with db.schema_editor() as editor: await editor.create_model(...)`"
            )
        if params is None:
            await self.db.execute_native(self.native_ddl(sql), ())
        else:
            await self.db.execute(sql, params)

    def native_ddl(self, sql: str) -> str:
        """Return ``sql`` (no placeholders) as the driver must receive it (a hook)."""
        return sql

    def interpolate(self, sql: str, params: Sequence[Any]) -> str:
        """Return ``sql`` with its ``%s`` placeholders replaced by ``params`` as literals."""
        compiler = self.dialect.statement_compiler(self.dialect, None)
        values = iter(params)
        parts = sql.split("%%")
        rendered = [
            re.sub(r"%s", lambda _m: self.quote_value(next(values), compiler), part)
            for part in parts
        ]
        return "%".join(rendered)

    async def execute_all(self, statements: Sequence[str]) -> None:
        """Run (or record) ``statements`` in order."""
        for sql in statements:
            await self.execute(sql)

    def compile(self, element: Any) -> str:
        """Return a DDL construct or SQL expression compiled for this database."""
        return str(element.compile(dialect=self.dialect)).strip()

    # -- models (tables) ------------------------------------------------------------------
    async def create_model(
        self, model: type[Any], *, if_not_exists: bool = False, with_relations: bool = True
    ) -> None:
        """Create ``model``'s table with its constraints, indexes and column comments.

        With ``with_relations`` (what migrations do) its foreign keys are added
        right after the table where ``ALTER TABLE`` adds them (SQLite writes them
        into ``CREATE TABLE``; the tables they refer to must exist), and the
        junction tables of its many-to-many fields are created with it.
        ``create_tables()`` passes False: it adds foreign keys once every table
        exists and lists junction models itself. With ``if_not_exists`` a table
        or index that exists is left alone.
        """
        skip: Collection[str] = ()
        if if_not_exists and not self.features.supports_index_if_not_exists:
            skip = await self.existing_index_names(_table(model).name)
        await self.execute_all(
            self.create_model_sql(model, if_not_exists=if_not_exists, skip_indexes=skip)
        )
        if not with_relations:
            return
        await self.create_foreign_keys(model)
        for through in junction_models(model):
            await self.create_model(through, if_not_exists=if_not_exists)

    async def delete_model(
        self, model: type[Any], *, if_exists: bool = False, with_relations: bool = True
    ) -> None:
        """Drop ``model``'s table (its indexes and constraints go with it).

        With ``with_relations`` the junction tables of its many-to-many fields
        are dropped first (they refer to it).
        """
        if with_relations:
            for through in junction_models(model):
                await self.delete_model(through, if_exists=if_exists)
        await self.execute_all(self.delete_model_sql(model, if_exists=if_exists))

    def create_model_sql(
        self,
        model: type[Any],
        *,
        if_not_exists: bool = False,
        skip_indexes: Collection[str] = (),
    ) -> list[str]:
        """Return the statements that create ``model``'s table.

        ``skip_indexes`` names indexes known to exist already (for backends
        without ``CREATE INDEX IF NOT EXISTS``).
        """
        table = _table(model)
        self.check_table(table)
        statements = [self.create_table_sql(table, if_not_exists=if_not_exists)]
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            if index.name not in skip_indexes:
                sql = self.create_index_sql(index, if_not_exists=if_not_exists)
                if sql is not None:
                    statements.append(sql)
        statements += self.column_comments_sql(table)
        return statements

    def delete_model_sql(self, model: type[Any], *, if_exists: bool = False) -> list[str]:
        """Return the statement that drops ``model``'s table."""
        return [self.compile(DropTable(_table(model), if_exists=if_exists))]

    def check_table(self, table: sa.Table) -> None:
        """Refuse a table this server cannot create, naming the column and the fix."""
        if self.features.supports_expression_defaults:
            return
        for column in table.columns:
            if column.server_default is not None and self.needs_expression_default(
                column.type, self.dialect
            ):
                raise exc.NotSupportedError(
                    f"{table.name}.{column.name}: this server "
                    f"({_version(self.features)}) cannot give a "
                    f"{column.type.compile(dialect=self.dialect)} column a default; "
                    "drop its db_default or upgrade the server"
                )

    def create_table_sql(self, table: sa.Table, *, if_not_exists: bool = False) -> str:
        """Return ``CREATE TABLE`` with columns, primary key, unique and check constraints."""
        return self.compile(CreateTable(table, if_not_exists=if_not_exists))

    def column_comments_sql(self, table: sa.Table) -> list[str]:
        """Return the statements that set column comments not written inline in CREATE TABLE."""
        if not self.dialect.supports_comments or self.dialect.inline_comments:
            return []
        return [self.compile(SetColumnComment(c)) for c in table.columns if c.comment]

    async def existing_index_names(self, table_name: str) -> set[str]:
        """Return the names of the indexes ``table_name`` has.

        Only asked where ``CREATE INDEX IF NOT EXISTS`` is missing; a backend
        with that gap overrides it.
        """
        return set()

    # -- indexes ------------------------------------------------------------------------
    async def add_index(
        self, model: type[Any], index: Any, *, concurrently: bool = False
    ) -> None:
        """Create ``index`` (a ``Meta.indexes`` entry, by name, or an ``sqlalchemy.Index``).

        A partial index (``condition=``) is skipped where the server has none.
        ``concurrently`` asks PostgreSQL not to lock writes (``CREATE INDEX
        CONCURRENTLY``, outside a transaction); other backends build it as usual.
        """
        sql = self.create_index_sql(self._index(model, index), concurrently=concurrently)
        if sql is not None:
            await self.execute(sql)

    async def remove_index(
        self, model: type[Any], index: Any, *, concurrently: bool = False
    ) -> None:
        """Drop ``index`` (a ``Meta.indexes`` entry, by name, or an ``sqlalchemy.Index``)."""
        sql = self.drop_index_sql(self._index(model, index), concurrently=concurrently)
        if sql is not None:
            await self.execute(sql)

    def create_index_sql(
        self, index: sa.Index, *, if_not_exists: bool = False, concurrently: bool = False
    ) -> str | None:
        """Return ``CREATE INDEX`` for ``index``, or None when this server cannot have it."""
        if not self._index_supported(index):
            return None
        if_not_exists = if_not_exists and self.features.supports_index_if_not_exists
        return self.compile(CreateIndex(index, if_not_exists=if_not_exists))

    def drop_index_sql(self, index: sa.Index, *, concurrently: bool = False) -> str | None:
        """Return ``DROP INDEX`` for ``index``, or None when it was never created here."""
        if not self._index_supported(index):
            return None
        return self.compile(DropIndex(index))

    def _index_supported(self, index: sa.Index) -> bool:
        return index.info.get("condition") is None or self.features.supports_partial_indexes

    def _index(self, model: type[Any], index: Any) -> sa.Index:
        if isinstance(index, sa.Index):
            return index
        table = _table(model)
        name = index if isinstance(index, str) else getattr(index, "name", None)
        for candidate in table.indexes:
            if candidate.name == name:
                return candidate
        known = sorted(str(i.name) for i in table.indexes)
        raise ValueError(
            f"{model.__name__} has no index named {name!r} (its indexes: "
            f"{', '.join(known) or 'none'}); declare it in Meta.indexes first, "
            "or pass an sqlalchemy.Index"
        )

    # -- constraints --------------------------------------------------------------------
    async def add_constraint(self, model: type[Any], constraint: Any) -> None:
        """Add ``constraint`` (a ``Meta.constraints`` entry, by name, or an SQLAlchemy one)."""
        sql = self.add_constraint_sql(self._constraint(model, constraint))
        if sql is not None:
            await self.execute(sql)

    async def remove_constraint(self, model: type[Any], constraint: Any) -> None:
        """Drop ``constraint`` (a ``Meta.constraints`` entry, by name, or an SQLAlchemy one)."""
        sql = self.remove_constraint_sql(self._constraint(model, constraint))
        if sql is not None:
            await self.execute(sql)

    def add_constraint_sql(self, constraint: sa.Constraint | sa.Index) -> str | None:
        """Return the statement adding ``constraint`` to its existing table.

        A conditional unique constraint is a unique partial index.
        """
        if isinstance(constraint, sa.Index):
            return self.create_index_sql(constraint)
        self._check_alter_constraints(constraint, "add")
        return self.compile(AddConstraint(constraint, isolate_from_table=False))

    def remove_constraint_sql(self, constraint: sa.Constraint | sa.Index) -> str | None:
        """Return the statement dropping ``constraint`` from its table."""
        if isinstance(constraint, sa.Index):
            return self.drop_index_sql(constraint)
        self._check_alter_constraints(constraint, "drop")
        return self.compile(DropConstraint(constraint))

    def _check_alter_constraints(self, constraint: sa.Constraint, verb: str) -> None:
        if self.features.supports_alter_table_constraints:
            return
        table = constraint.table.name if constraint.table is not None else "?"
        raise exc.NotSupportedError(
            f"{self.vendor} cannot {verb} the constraint {constraint.name!r} of the existing "
            f"table {table!r}: ALTER TABLE has no such form there, the table must be "
            "rebuilt (migrations do that); to create it with the table, use create_model()"
        )

    def _constraint(self, model: type[Any], constraint: Any) -> sa.Constraint | sa.Index:
        if isinstance(constraint, (sa.Constraint, sa.Index)):
            return constraint
        table = _table(model)
        name = constraint if isinstance(constraint, str) else getattr(constraint, "name", None)
        for candidate in table.constraints:
            if candidate.name == name and not isinstance(candidate, sa.PrimaryKeyConstraint):
                return candidate
        for index in table.indexes:
            if index.name == name and index.unique:
                return index
        known = sorted(
            [str(c.name) for c in table.constraints
             if c.name and not isinstance(c, sa.PrimaryKeyConstraint)]
            + [str(i.name) for i in table.indexes if i.unique]
        )
        raise ValueError(
            f"{model.__name__} has no constraint named {name!r} (its constraints: "
            f"{', '.join(known) or 'none'}); declare it in Meta.constraints first, "
            "or pass an SQLAlchemy constraint"
        )

    # -- foreign keys ---------------------------------------------------------------------
    async def create_foreign_key(
        self,
        table: str,
        columns: Sequence[str],
        to_table: str,
        to_columns: Sequence[str],
        *,
        name: str | None = None,
        on_delete: str | None = None,
        on_update: str | None = None,
        deferred: bool = True,
    ) -> str:
        """Add a foreign key ``table(columns) -> to_table(to_columns)``; return its name.

        ``on_delete``/``on_update`` are SQL actions (``"CASCADE"``, ``"SET NULL"``
        ...). With ``deferred`` the check runs at commit where the backend can
        defer it (``features.can_defer_constraint_checks``).
        """
        name = name or self.object_name(table, columns, f"fk_{to_table}")
        fk = self.foreign_key(
            table, columns, to_table, to_columns,
            name=name, on_delete=on_delete, on_update=on_update, deferred=deferred,
        )
        sql = self.add_constraint_sql(fk)
        if sql is not None:
            await self.execute(sql)
        return name

    async def existing_foreign_key_names(self, table_name: str) -> set[str]:
        """Return the names of the foreign keys ``table_name`` has (for ``if_not_exists``).

        Asked only where foreign keys are added with ``ALTER TABLE``; backends
        that do so override it.
        """
        return set()

    async def remove_foreign_key(self, table: str, name: str) -> None:
        """Drop the foreign key ``name`` of ``table``."""
        fk = sa.ForeignKeyConstraint([], [], name=name)
        sa.Table(table, sa.MetaData()).append_constraint(fk)
        sql = self.remove_constraint_sql(fk)
        if sql is not None:
            await self.execute(sql)

    def foreign_key(
        self,
        table: str,
        columns: Sequence[str],
        to_table: str,
        to_columns: Sequence[str],
        *,
        name: str,
        on_delete: str | None = None,
        on_update: str | None = None,
        deferred: bool = True,
    ) -> sa.ForeignKeyConstraint:
        """Return a ``ForeignKeyConstraint`` on a stand-in of ``table`` (no model needed)."""
        if len(columns) != len(to_columns) or not columns:
            raise ValueError(
                f"foreign key {name!r}: give as many referenced columns as columns "
                f"(got {list(columns)} -> {list(to_columns)})"
            )
        metadata = sa.MetaData()
        wanted: dict[str, list[str]] = {table: list(columns)}
        wanted.setdefault(to_table, [])
        wanted[to_table] += [c for c in to_columns if c not in wanted[to_table]]
        tables = {
            t: sa.Table(t, metadata, *(sa.Column(c, sa.Integer) for c in cols))
            for t, cols in wanted.items()
        }
        defer = deferred and self.features.can_defer_constraint_checks
        fk = sa.ForeignKeyConstraint(
            list(columns),
            [tables[to_table].c[c] for c in to_columns],
            name=name,
            ondelete=on_delete,
            onupdate=on_update,
            deferrable=True if defer else None,
            initially="DEFERRED" if defer else None,
        )
        tables[table].append_constraint(fk)
        return fk

    def object_name(self, table: str, columns: Sequence[str], suffix: str) -> str:
        """Return ``<table>_<columns>_<suffix>``, shortened with a hash to fit the backend."""
        limit = self.ops.max_name_length or _NO_LIMIT_NAME_LENGTH
        name = f"{table}_{'_'.join(columns)}_{suffix}"
        if len(name) <= limit:
            return name
        digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()[:8]
        keep = max(limit - len(suffix) - len(digest) - 2, 1)
        return f"{name[:keep]}_{digest}_{suffix}"[-limit:]

    # -- literals (used by the model layer's ``@compiles`` hooks) -----------------------
    @classmethod
    def quote_value(cls, value: Any, compiler: SQLCompiler) -> str:
        """Return ``value`` (already prepared by its field for this backend) as an SQL literal."""
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, (int, float)):
            return repr(value)
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, (bytes, bytearray, memoryview)):
            return f"X'{bytes(value).hex()}'"
        text = value.isoformat(" ") if isinstance(value, dt.datetime) else str(value)
        return str(compiler.render_literal_value(text, sa.String()))

    @classmethod
    def needs_expression_default(cls, type_: Any, dialect: Dialect) -> bool:
        """True when a column of ``type_`` takes a default only as ``(expression)``."""
        return False

    @classmethod
    def default_literal_sql(cls, value: Any, type_: Any, compiler: SQLCompiler) -> str:
        """Return the ``DEFAULT`` body for the prepared ``value`` on a column of ``type_``."""
        sql = cls.quote_value(value, compiler)
        if cls.needs_expression_default(type_, compiler.dialect):
            return f"({sql})"
        return sql


_table = model_table


def _version(features: DatabaseFeatures) -> str:
    if not features.server_version:
        return f"{features.vendor}, version not read yet"
    name = "MariaDB" if features.is_mariadb else features.vendor
    return f"{name} {'.'.join(map(str, features.server_version))}"
