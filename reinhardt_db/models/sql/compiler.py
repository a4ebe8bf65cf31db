"""Compile a ``Query`` into SQL for one database, through the statement cache.

Every public function here returns a :class:`CompiledStatement`: on a cache hit
it does no SQLAlchemy work at all; on a miss it builds the SQLAlchemy Core
statement from the query's shape, compiles it with the database's dialect (the
driver's native paramstyle), and records which parameter feeds each placeholder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from reinhardt_db.exceptions import NotSupportedError
from reinhardt_db.models import _iterables as readers
from reinhardt_db.models.expressions import Expression, F, OrderBy, Param
from reinhardt_db.models.sql.cache import CompiledStatement, statement_cache
from reinhardt_db.models.sql.combined import build_combined
from reinhardt_db.models.sql.context import LOOKUP_SEP, CompileContext
from reinhardt_db.models.sql.deferred import loaded_fields, model_fields
from reinhardt_db.models.sql.query import Query
from reinhardt_db.models.sql.where import compile_node, node_has_aggregate

__all__ = [
    "MODE_DICTS",
    "MODE_FLAT",
    "MODE_MODELS",
    "MODE_NAMED",
    "MODE_TUPLES",
    "compile_aggregate",
    "compile_count",
    "compile_delete",
    "compile_exists",
    "compile_select",
    "compile_subquery",
    "compile_update",
    "select_sql",
]

MODE_MODELS, MODE_DICTS, MODE_TUPLES, MODE_FLAT, MODE_NAMED = (
    "models", "dicts", "tuples", "flat", "named",
)


class SelectParts:
    """A SELECT under construction: the statement and what each column is."""

    def __init__(self) -> None:
        self.columns: list[Any] = []
        self.names: list[str] = []
        self.converters: list[Callable[[Any], Any] | None] = []
        self.labels: dict[str, Any] = {}
        self.model_fields: list[Any] = []
        #: With ``select_related``: one ``ModelSlice`` per model in the row.
        self.slices: list[readers.ModelSlice] = []


def _add_column(parts: SelectParts, name: str, expr: Any, converter: Any) -> None:
    label = expr.label(name)
    parts.columns.append(label)
    parts.names.append(name)
    parts.converters.append(converter)
    parts.labels[name] = label


def _add_annotation(parts: SelectParts, query: Query, ctx: CompileContext, name: str) -> None:
    expression = query.annotations[name]
    selected = None
    if type(expression) is F:
        # A plain reference selects what values() would (a JSON key as JSON).
        built, transform = ctx.lhs(ctx.resolve_ref(expression.name), expression.name)
        if transform is not None:
            selected = transform.select_expression(built)
    if selected is None:
        selected = ctx.annotation_sa(name)
    _add_column(parts, name, selected, expression.converter(ctx))


def _select_columns(query: Query, ctx: CompileContext, mode: str) -> SelectParts:
    parts = SelectParts()
    if mode == MODE_MODELS:
        for field in loaded_fields(query):
            column = ctx.column(field)
            parts.columns.append(column)
            parts.names.append(field.attname)
            parts.converters.append(ctx.field_converter(field))
            parts.labels[field.name] = column
            parts.model_fields.append(field)
        for name in query.annotation_mask:
            _add_annotation(parts, query, ctx, name)
        if query.select_related:
            _add_related(parts, query, ctx)
        return parts
    names = list(query.values_fields or ())
    names += [n for n in query.annotation_mask if n not in names]
    for name in names:
        if name in query.annotations:
            _add_annotation(parts, query, ctx, name)
            continue
        info = ctx.resolve_ref(name)
        expr, transform = ctx.lhs(info, name)
        if transform is not None:
            expr = transform.select_expression(expr)
        output = info.output_field
        _add_column(parts, str(name), expr, ctx.field_converter(output) if output else None)
    return parts


def _add_related(parts: SelectParts, query: Query, ctx: CompileContext) -> None:
    """Add the columns of every ``select_related`` model, one slice per model."""
    slices = [readers.ModelSlice(
        query.model, list(parts.names), list(parts.converters), -1, "", "", 0
    )]

    def add(nodes: tuple[Any, ...], parent: int, prefix: str) -> None:
        for relation, join, children in nodes:
            model = relation.related_model
            path = f"{prefix}{LOOKUP_SEP}{relation.name}" if prefix else relation.name
            fields = model_fields(
                model, query.deferred, path, {child.name for child, _, _ in children}
            )
            names, converters = [], []
            for field in fields:
                column = ctx.column(field, join)
                parts.columns.append(column)
                parts.names.append(f"{len(slices)}.{field.attname}")
                parts.converters.append(ctx.field_converter(field))
                names.append(field.attname)
                converters.append(ctx.field_converter(field))
            key = fields.index(model._meta.pk_fields[0])
            slices.append(readers.ModelSlice(
                model, names, converters, parent, relation.cache_name,
                relation.back_cache_name, key,
            ))
            add(children, len(slices) - 1, path)

    add(query.select_related, 0, "")
    parts.slices = slices


def _reader(mode: str, query: Query, parts: SelectParts) -> Any:
    if mode == MODE_MODELS and parts.slices:
        return readers.without_gc(readers.related_reader(parts.slices))
    return readers.make_reader(mode, query.model, parts.names, parts.converters)


def _order_terms(
    query: Query, ctx: CompileContext, labels: dict[str, Any], grouped: bool
) -> list[Any]:
    items: Sequence[Any] = query.order_by
    # The model's default ordering would split groups, and DISTINCT over values()
    # cannot sort on columns it does not select: it only applies elsewhere.
    distinct_values = query.distinct and query.values_fields is not None
    if not items and query.default_ordering and not grouped and not distinct_values:
        items = _default_ordering(query, ctx)
    terms: list[Any] = []
    flip = not query.standard_ordering
    for item in items:
        if isinstance(item, OrderBy):
            terms.extend((item.reversed() if flip else item).to_sa_terms(ctx))
            continue
        if item == "?":
            terms.append(ctx.ops.random())
            continue
        descending = item.startswith("-")
        name = item[1:] if descending else item
        descending = descending != flip
        for expr in _order_exprs(query, ctx, labels, name):
            terms.append(expr.desc() if descending else expr.asc())
    return terms


def _order_exprs(query: Query, ctx: CompileContext, labels: dict[str, Any], name: str) -> list[Any]:
    meta = query.model._meta
    if name == "pk" and not getattr(meta.pk, "concrete", True):
        return [ctx.column(f) for f in meta.pk_fields]
    if name in query.annotations:
        label = labels.get(name)
        return [label if label is not None else ctx.annotation_sa(name)]
    return ctx.order_refs(name)


def _default_ordering(query: Query, ctx: CompileContext) -> list[Any]:
    items: list[Any] = []
    for item in query.model._meta.ordering:
        if isinstance(item, Expression):
            values: list[Any] = []
            expr = item if isinstance(item, OrderBy) else OrderBy(item)
            shape = expr.parameterize(values, ctx)
            if values:
                raise NotSupportedError("Meta.ordering expressions cannot hold constants")
            items.append(shape)
        else:
            items.append(item)
    return items


def build_select(
    query: Query, ctx: CompileContext, mode: str
) -> tuple[sa.Select[Any], SelectParts]:
    """Build the SELECT for ``query`` and describe its columns."""
    if query.combinator:
        return build_combined(query, ctx, mode, build_select)
    parts = _select_columns(query, ctx, mode)
    stmt = sa.select(*parts.columns)
    grouped = query.has_aggregate_annotation
    annotations = query.annotations
    for node in query.where:
        if grouped and node_has_aggregate(node, annotations):
            stmt = stmt.having(compile_node(ctx, node))
        else:
            stmt = stmt.where(compile_node(ctx, node))
    if grouped:
        group = [
            col.element if isinstance(col, sa.Label) else col
            for col, name in zip(parts.columns, parts.names, strict=True)
            if not (name in annotations and annotations[name].has_aggregate)
        ]
        stmt = stmt.group_by(*group)
    terms = _order_terms(query, ctx, parts.labels, grouped)
    if terms:
        stmt = stmt.order_by(*terms)
    if query.distinct_fields:
        if not ctx.features.supports_distinct_on:
            raise NotSupportedError(
                f"distinct(*fields) (DISTINCT ON) is not supported on {ctx.ops.display_name}; "
                "it is only available on PostgreSQL. Use distinct() without fields."
            )
        stmt = ctx.ops.distinct_on(stmt, [ctx.ref(name) for name in query.distinct_fields])
    elif query.distinct:
        stmt = stmt.distinct()
    position = len(query.values)
    if query.high_mark is not None:
        stmt = stmt.limit(ctx.bind(position, None, sa.Integer()))
        position += 1
    if query.low_mark:
        stmt = stmt.offset(ctx.bind(position, None, sa.Integer()))
    # Without row locks (SQLite) the transaction's database lock already serializes.
    if query.select_for_update is not None and ctx.features.supports_select_for_update:
        nowait, skip_locked, of = query.select_for_update
        stmt = stmt.with_for_update(
            nowait=nowait, skip_locked=skip_locked, of=ctx.table if of else None
        )
    # Last: building the terms above may join more tables (default ordering across relations).
    return stmt.select_from(ctx.from_clause()), parts


def _finish(stmt: Any, ctx: CompileContext, dialect: Any, reader: Any = None) -> CompiledStatement:
    compiled = stmt.compile(dialect=dialect)
    return CompiledStatement(compiled.string, ctx.getters(compiled), reader)


def compile_select(query: Query, db: Any, mode: str) -> CompiledStatement:
    """Return the compiled SELECT of ``query`` with its row reader for ``mode``.

    The hot path: on a hit this is one tuple, one dict lookup and nothing else.
    """
    key = (db.dialect, mode, query.key())
    entry = statement_cache.get(key)
    if entry is None:
        ctx = CompileContext(
            query.model, db.ops, db.features, query.annotations, joins=query.joins,
            param_count=len(query.values),
        )
        stmt, parts = build_select(query, ctx, mode)
        reader = _reader(mode, query, parts)
        entry = _finish(stmt, ctx, db.dialect, reader)
        statement_cache.put(key, entry)
    return entry


def select_sql(query: Query, db: Any) -> CompiledStatement:
    """Return the compiled SELECT of ``query`` as model rows (for ``explain()``)."""
    return compile_select(query, db, MODE_MODELS if query.values_fields is None else MODE_TUPLES)


def compile_subquery(ctx: CompileContext, query: Query, offset: int) -> sa.Select[Any]:
    """Build ``query`` as a one-column subquery inside ``ctx``'s statement."""
    inner = ctx.child(query.model, query.annotations, offset, joins=query.joins)
    # Rows of a subquery have no order unless a slice picks them (Django drops it too).
    query = _unordered(query)
    if query.values_fields is None:
        pk = query.model._meta.pk
        query.values_fields = (pk.name,)
        query.annotation_mask = ()
    stmt, parts = build_select(query, inner, MODE_TUPLES)
    if len(parts.columns) != 1:
        raise TypeError(
            f"a subquery must select one column, this one selects {', '.join(parts.names)}; "
            "use values_list('field', flat=True)"
        )
    if query.is_sliced and not ctx.features.supports_slicing_in_subqueries:
        # MariaDB/MySQL refuse LIMIT inside IN (...); a derived table holds it.
        stmt = sa.select(*stmt.subquery("sliced").c)
    return stmt


def _unordered(query: Query) -> Query:
    """A copy for a subquery; ordering only matters when a slice is taken."""
    inner = query.clone()
    if not query.is_sliced:
        inner.clear_ordering()
    return inner


def _needs_subquery(query: Query) -> bool:
    return bool(
        query.combinator or query.is_sliced or query.distinct or query.distinct_fields
        or query.has_aggregate_annotation
    )


def _where(stmt: Any, query: Query, ctx: CompileContext) -> Any:
    for node in query.where:
        stmt = stmt.where(compile_node(ctx, node))
    return stmt


def _pk_subquery(query: Query, ctx: CompileContext) -> Any:
    """``pk IN (SELECT pk FROM (<query's rows, joins and all>) AS U)`` for UPDATE/DELETE.

    The derived table lets MySQL read the table it writes; aliases keep the
    inner tables apart from the statement's target.
    """
    meta = query.model._meta
    pk_fields = meta.pk_fields
    inner = ctx.aliased_child(query.model, query.annotations, 0, query.joins)
    columns = [inner.column(f).label(f"pk{i}") for i, f in enumerate(pk_fields)]
    select = _where(sa.select(*columns), query, inner).select_from(inner.from_clause())
    derived = select.subquery("U")
    picked = sa.select(*derived.c)
    if len(pk_fields) == 1:
        return ctx.column(pk_fields[0]).in_(picked)
    return sa.tuple_(*[ctx.column(f) for f in pk_fields]).in_(picked)


def _inner_select(query: Query, ctx: CompileContext) -> Any:
    """``query`` as a subquery (for COUNT, EXISTS and aggregates over slices or groups)."""
    inner = _unordered(query)
    mode = MODE_MODELS if inner.values_fields is None else MODE_DICTS
    stmt, _ = build_select(inner, ctx, mode)
    return stmt.subquery("subquery")


def _select_over(query: Query, ctx: CompileContext, column: Any) -> Any:
    """``SELECT column`` over the rows of ``query``."""
    if _needs_subquery(query):
        return sa.select(column).select_from(_inner_select(query, ctx))
    return _where(sa.select(column), query, ctx).select_from(ctx.from_clause())


def _cached(key: Any, query: Query, db: Any, build: Any) -> CompiledStatement:
    """Look ``key`` up; on a miss run ``build(ctx) -> (statement, reader)`` and compile."""
    entry = statement_cache.get(key)
    if entry is None:
        ctx = CompileContext(
            query.model, db.ops, db.features, query.annotations, joins=query.joins,
            param_count=len(query.values),
        )
        stmt, reader = build(ctx)
        entry = _finish(stmt, ctx, db.dialect, reader)
        statement_cache.put(key, entry)
    return entry


def compile_count(query: Query, db: Any) -> CompiledStatement:
    """Return ``SELECT COUNT(*)`` over ``query``."""
    return _cached(
        (db.dialect, "count", query.key()), query, db,
        lambda ctx: (_select_over(query, ctx, sa.func.count()), None),
    )


def compile_exists(query: Query, db: Any) -> CompiledStatement:
    """Return a query yielding one row when ``query`` has any."""
    return _cached(
        (db.dialect, "exists", query.key()), query, db,
        lambda ctx: (_select_over(query, ctx, sa.literal_column("1")).limit(1), None),
    )


def compile_aggregate(
    query: Query, db: Any, aggregates: tuple[tuple[str, Expression], ...]
) -> CompiledStatement:
    """Return ``SELECT agg AS name, ...`` over ``query``; its reader yields one dict."""

    def build(ctx: CompileContext) -> tuple[Any, Any]:
        source: Any = None
        build_ctx = ctx
        if _needs_subquery(query):
            source = _inner_select(query, ctx)
            build_ctx = ctx.child(query.model, query.annotations, 0, table=source)
            for name in query.annotation_mask:
                build_ctx._annotation_sa[name] = source.c[name]
        columns = [expr.to_sa(build_ctx).label(name) for name, expr in aggregates]
        converters = [expr.converter(build_ctx) for _, expr in aggregates]
        stmt: Any = sa.select(*columns)
        if source is None:
            stmt = _where(stmt, query, ctx).select_from(ctx.from_clause())
        else:
            stmt = stmt.select_from(source)
        names = [name for name, _ in aggregates]
        return stmt, readers.make_reader(MODE_DICTS, None, names, converters)

    return _cached((db.dialect, "aggregate", query.key(), aggregates), query, db, build)


def compile_update(
    query: Query, db: Any, assignments: tuple[tuple[str, Expression], ...]
) -> CompiledStatement:
    """Return ``UPDATE ... SET field = value, ... WHERE ...`` for ``query``."""

    def build(ctx: CompileContext) -> tuple[Any, Any]:
        meta = query.model._meta
        values = {}
        for name, expr in assignments:
            field = meta.get_field(name)
            value = expr.to_sa(ctx)
            if not isinstance(expr, Param):
                # Computed by the server: a backend that would store an out-of-range
                # result silently (SQLite) makes the statement fail instead.
                value = ctx.ops.checked_assignment(
                    value,
                    bounds=field.value_range(),
                    max_length=getattr(field, "save_max_length", None),
                    decimal_places=getattr(field, "decimal_places", None),
                )
            values[ctx.column(field)] = value
        stmt = sa.update(ctx.table).values(values)
        if query.joins:
            return stmt.where(_pk_subquery(query, ctx)), None
        return _where(stmt, query, ctx), None

    return _cached((db.dialect, "update", query.key(), assignments), query, db, build)


def compile_delete(query: Query, db: Any) -> CompiledStatement:
    """Return ``DELETE FROM ... WHERE ...`` for ``query``."""
    def build(ctx: CompileContext) -> tuple[Any, Any]:
        stmt = sa.delete(ctx.table)
        if query.joins:
            return stmt.where(_pk_subquery(query, ctx)), None
        return _where(stmt, query, ctx), None

    return _cached((db.dialect, "delete", query.key()), query, db, build)
