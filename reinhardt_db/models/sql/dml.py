"""INSERT, UPDATE and DELETE statements for instances, cached per model and field set.

``save()`` on the hot path runs one of these: the statement for a given model,
field set and backend is built and compiled once. Each statement's getters read
a flat list of Python values (one per field, then the primary key) and adapt
them: values written with the fields' ``get_db_prep_save_func`` (which refuses
what a column cannot hold), the primary key of the WHERE clause with
``get_db_prep_func``.

Multi-row INSERTs (``bulk_create``) compile the one-row statement and repeat
its ``VALUES`` group textually (``db.ops.bulk_insert_sql``): compiling an N-row
statement with SQLAlchemy costs ~0.1 ms per row. The INSERT construct and its
conflict clauses come from ``db.ops`` too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from reinhardt_db.models._iterables import tuple_reader
from reinhardt_db.models.sql.cache import CompiledStatement, statement_cache
from reinhardt_db.models.sql.context import CompileContext

if TYPE_CHECKING:
    from reinhardt_db.backends.base import DatabaseOperations

__all__ = [
    "ArrayInsertStatement",
    "InsertStatement",
    "compile_bulk_update",
    "compile_delete_pk",
    "compile_exists_pk",
    "compile_insert",
    "compile_insert_arrays",
    "compile_update_pk",
]


class InsertStatement(CompiledStatement):
    """A one-row INSERT that can be widened to N rows (``sql_for(n)``).

    ``plan`` is ``(attname, adapter)`` per placeholder, so the parameters of many
    objects are read straight from their ``__dict__`` (``params_for_objects``).
    """

    __slots__ = ("_expanded", "plan", "width")

    def __init__(
        self, sql: str, getters: Any, reader: Any, width: int,
        plan: tuple[tuple[str, Callable[[Any], Any]], ...],
    ) -> None:
        super().__init__(sql, getters, reader)
        self.width = width
        self.plan = plan
        self._expanded: dict[int, str] = {}

    def sql_for(self, rows: int, ops: DatabaseOperations) -> str:
        """Return the statement inserting ``rows`` rows (``ops``: the database's)."""
        if rows == 1:
            return self.sql
        sql = self._expanded.get(rows)
        if sql is None:
            sql = ops.bulk_insert_sql(self.sql, rows, self.width)
            if len(self._expanded) > 32:
                self._expanded.clear()
            self._expanded[rows] = sql
        return sql

    def params_for_objects(self, objs: Sequence[Any]) -> list[Any]:
        """Return the parameters inserting ``objs`` (one row each)."""
        plan = self.plan
        return [adapt(obj.__dict__[name]) for obj in objs for name, adapt in plan]


def _same(value: Any) -> Any:
    return value


def compile_insert(
    model: Any,
    db: Any,
    fields: tuple[Any, ...],
    returning: tuple[Any, ...] = (),
    conflict: tuple[Any, ...] | None = None,
) -> InsertStatement:
    """Return ``INSERT INTO t (fields) VALUES (...)`` with RETURNING and conflict handling.

    ``conflict`` is ``("ignore",)`` or ``("update", update_fields, unique_fields)``.
    The getters read one row's values in ``fields`` order.
    """
    key = (db.dialect, "insert", model, fields, returning, conflict)
    entry = statement_cache.get(key)
    if entry is None:
        ops = db.ops
        ctx = CompileContext(model, ops, db.features)
        table = ctx.table
        # Untyped placeholders: PostgreSQL takes the types from the target columns,
        # and "$1::TYPE" casts cost ~4 us per row to parse in a 1,000-row INSERT
        # (asyncpg does not cache statements that long).
        untyped = sa.types.NullType()
        values = {
            table.c[f.column]: sa.type_coerce(ctx.bind(i, ctx.field_save_adapter(f)), untyped)
            for i, f in enumerate(fields)
        }
        stmt = ops.insert(table)
        stmt = stmt.values(values) if values else stmt
        if conflict is not None:
            stmt = _on_conflict(stmt, ops, table, conflict)
        reader = None
        if returning:
            stmt = stmt.returning(*[table.c[f.column] for f in returning])
            reader = tuple_reader([ctx.field_converter(f) for f in returning])
        # column_keys=[] makes a field-less INSERT "DEFAULT VALUES" instead of
        # binding every column.
        compiled = stmt.compile(dialect=db.dialect, column_keys=[] if not values else None)
        plan = tuple(
            (fields[i].attname, adapt or _same) for i, adapt in ctx.bind_plan(compiled)
        )
        entry = InsertStatement(compiled.string, ctx.getters(compiled), reader, len(fields), plan)
        statement_cache.put(key, entry)
    return entry  # type: ignore[return-value]


class ArrayInsertStatement(CompiledStatement):
    """An INSERT of any number of rows from one array parameter per field.

    ``plan`` is ``(attname, adapter)`` per field; :meth:`params_for_objects`
    builds the column lists in the driver's placeholder order.
    """

    __slots__ = ("plan",)

    def __init__(
        self, sql: str, getters: Any, reader: Any,
        plan: tuple[tuple[str, Callable[[Any], Any]], ...],
    ) -> None:
        super().__init__(sql, getters, reader)
        self.plan = plan

    def params_for_objects(self, objs: Sequence[Any]) -> list[Any]:
        """Return the parameters inserting ``objs``: one list per field."""
        states = [obj.__dict__ for obj in objs]
        columns = [[adapt(state[name]) for state in states] for name, adapt in self.plan]
        return self.params(columns)


def compile_insert_arrays(
    model: Any,
    db: Any,
    fields: tuple[Any, ...],
    returning: tuple[Any, ...] = (),
    conflict: tuple[Any, ...] | None = None,
) -> ArrayInsertStatement | None:
    """Return ``INSERT INTO t (fields) SELECT ... FROM <arrays>``, or None without that form.

    The backend builds the SELECT (``ops.bulk_insert_select``, PostgreSQL's
    ``unnest``); only asked where ``db.features.supports_bulk_insert_from_arrays``.
    """
    key = (db.dialect, "insert_arrays", model, fields, returning, conflict)
    entry = statement_cache.get(key)
    if entry is None:
        ops = db.ops
        ctx = CompileContext(model, ops, db.features)
        table = ctx.table
        columns = [table.c[f.column] for f in fields]
        select = ops.bulk_insert_select([ctx.bind(i) for i in range(len(fields))], columns)
        if select is None:
            return None
        stmt = ops.insert(table).from_select(columns, select)
        if conflict is not None:
            stmt = _on_conflict(stmt, ops, table, conflict)
        reader = None
        if returning:
            stmt = stmt.returning(*[table.c[f.column] for f in returning])
            reader = tuple_reader([ctx.field_converter(f) for f in returning])
        compiled = stmt.compile(dialect=db.dialect)
        plan = tuple((f.attname, ctx.field_save_adapter(f)) for f in fields)
        entry = ArrayInsertStatement(compiled.string, ctx.getters(compiled), reader, plan)
        statement_cache.put(key, entry)
    return entry  # type: ignore[return-value]


def _on_conflict(
    stmt: Any, ops: DatabaseOperations, table: Any, conflict: tuple[Any, ...]
) -> Any:
    if conflict[0] == "ignore":
        return ops.insert_ignore(stmt)
    _, update_fields, unique_fields = conflict
    return ops.upsert(
        stmt, table, [f.column for f in update_fields], [f.column for f in unique_fields]
    )


def _pk_condition(ctx: CompileContext, first: int) -> Any:
    pk_fields = ctx.meta.pk_fields
    return sa.and_(*[
        ctx.column(f) == ctx.bind(first + i, ctx.field_adapter(f)) for i, f in enumerate(pk_fields)
    ])


def _statement(
    key: tuple[Any, ...], model: Any, db: Any, build: Callable[[CompileContext], Any]
) -> CompiledStatement:
    """Return the cached statement for ``key``; on a miss build it and compile it once."""
    entry = statement_cache.get(key)
    if entry is None:
        ctx = CompileContext(model, db.ops, db.features)
        compiled = build(ctx).compile(dialect=db.dialect)
        entry = CompiledStatement(compiled.string, ctx.getters(compiled))
        statement_cache.put(key, entry)
    return entry


def compile_update_pk(model: Any, db: Any, fields: tuple[Any, ...]) -> CompiledStatement:
    """Return ``UPDATE t SET f = ?, ... WHERE pk = ?``; values: fields then pk parts."""

    def build(ctx: CompileContext) -> Any:
        assignments = {
            ctx.column(f): ctx.bind(i, ctx.field_save_adapter(f)) for i, f in enumerate(fields)
        }
        return sa.update(ctx.table).values(assignments).where(_pk_condition(ctx, len(fields)))

    return _statement((db.dialect, "update_pk", model, fields), model, db, build)


def compile_delete_pk(model: Any, db: Any) -> CompiledStatement:
    """Return ``DELETE FROM t WHERE pk = ?``; values: the pk parts."""
    return _statement(
        (db.dialect, "delete_pk", model), model, db,
        lambda ctx: sa.delete(ctx.table).where(_pk_condition(ctx, 0)),
    )


def compile_exists_pk(model: Any, db: Any) -> CompiledStatement:
    """Return ``SELECT 1 FROM t WHERE pk = ?``; values: the pk parts."""
    return _statement(
        (db.dialect, "exists_pk", model), model, db,
        lambda ctx: sa.select(sa.literal_column("1"))
        .select_from(ctx.table)
        .where(_pk_condition(ctx, 0)),
    )


def compile_bulk_update(
    model: Any, db: Any, fields: tuple[Any, ...], count: int
) -> CompiledStatement:
    """Return ``UPDATE t SET f = CASE WHEN pk = ? THEN ? ... END WHERE pk IN (...)``.

    Values, per object: its pk, then one value per field; the getters expect
    ``[pk0, v0_0, v0_1, ..., pk1, v1_0, ...]``.
    """

    def build(ctx: CompileContext) -> Any:
        pk = ctx.meta.pk
        pk_col = ctx.column(pk)
        pk_adapter = ctx.field_adapter(pk)
        stride = len(fields) + 1
        assignments = {}
        for position, field in enumerate(fields, start=1):
            column = ctx.column(field)
            adapter = ctx.field_save_adapter(field)
            whens = [
                (pk_col == ctx.bind(o * stride, pk_adapter),
                 ctx.bind(o * stride + position, adapter, column.type))
                for o in range(count)
            ]
            assignments[column] = sa.case(*whens, else_=column)
        pks = [ctx.bind(o * stride, pk_adapter) for o in range(count)]
        return sa.update(ctx.table).values(assignments).where(pk_col.in_(pks))

    return _statement((db.dialect, "bulk_update", model, fields, count), model, db, build)
