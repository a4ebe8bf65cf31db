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
from sqlalchemy.sql import operators as sa_operators
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import UnaryExpression

from reinhardt_db.exceptions import FieldError, NotSupportedError
from reinhardt_db.models import _iterables as readers
from reinhardt_db.models.expressions import Expression, F, OrderBy, Param
from reinhardt_db.models.sql.cache import CompiledStatement, statement_cache
from reinhardt_db.models.sql.combined import build_combined
from reinhardt_db.models.sql.context import LOOKUP_SEP, CompileContext
from reinhardt_db.models.sql.deferred import loaded_fields, model_fields
from reinhardt_db.models.sql.query import Query
from reinhardt_db.models.sql.where import (
    compile_node,
    iter_leaves,
    node_has_aggregate,
    node_refs_window,
)

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
    "compile_keyset_select",
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
    # Per slice: attname -> its column's position in the row.
    positions = [{name: index for index, name in enumerate(parts.names)}]

    def add(nodes: tuple[Any, ...], parent: int, prefix: str) -> None:
        for relation, join, children in nodes:
            model = relation.related_model
            path = f"{prefix}{LOOKUP_SEP}{relation.name}" if prefix else relation.name
            fields = model_fields(
                model, query.deferred, path, {child.name for child, _, _ in children}
            )
            key_field, shared = _shared_key(ctx, join, fields, positions[parent])
            names, converters, own = [], [], {}
            for field in fields:
                names.append(field.attname)
                converters.append(ctx.field_converter(field))
                if field is key_field:
                    continue  # read from the parent's foreign key column
                own[field.attname] = len(parts.columns)
                parts.columns.append(ctx.column(field, join))
                parts.names.append(f"{len(slices)}.{field.attname}")
                parts.converters.append(ctx.field_converter(field))
            key = fields.index(key_field if key_field is not None else model._meta.pk_fields[0])
            link, target = _linked_key(ctx, join, fields, positions[parent], shared)
            slices.append(readers.ModelSlice(
                model, names, converters, parent, relation.cache_name,
                relation.back_cache_name, key, shared, link, target,
            ))
            positions.append(own)
            add(children, len(slices) - 1, path)

    add(query.select_related, 0, "")
    parts.slices = slices


def _linked_key(
    ctx: CompileContext, join: int, fields: list[Any], parent: dict[str, int], shared: int
) -> tuple[int, int]:
    """``(parent's foreign key row position, offset of the joined key in fields)`` when the
    two may be joined without being equal in Python, else ``(-1, -1)``.

    Text keys only, where the database's equality is not Python's
    (``features.text_equality_is_exact``): the reader then compares the two
    values and records a link the database made under a collation
    (``related_descriptors.mark_linked``).
    """
    step = ctx.joins[join - 1].step
    if (
        shared >= 0 or ctx.features.text_equality_is_exact or not step.direct
        or step.to_field not in fields or isinstance(step.to_field.column_type(), sa.Integer)
    ):
        return -1, -1
    position = parent.get(step.from_field.attname)
    return (-1, -1) if position is None else (position, fields.index(step.to_field))


def _shared_key(
    ctx: CompileContext, join: int, fields: list[Any], parent: dict[str, int]
) -> tuple[Any, int]:
    """``(field, position)`` when the joined model's ``field`` need not be selected.

    Along an INNER join that follows a foreign key forwards, the joined row's
    ``to_field`` equals the parent's foreign key column, which the row already
    holds: the reader takes it from there (one column less to send, decode and
    read per row). Only for integer keys, which are equal only when identical
    on every backend (text is not: MariaDB's default collations join 'FR' to
    'fr' and 'fr ' to 'fr'); not across a LEFT OUTER join, where a NULL in the
    joined key is how a missing row shows; nor where the two columns convert
    differently. Else ``(None, -1)``.
    """
    step = ctx.joins[join - 1].step
    if (
        ctx.joins[join - 1].outer or not step.direct or step.to_field not in fields
        or not isinstance(step.to_field.column_type(), sa.Integer)
    ):
        return None, -1
    position = parent.get(step.from_field.attname)
    if position is None or (
        ctx.field_converter(step.from_field) is not ctx.field_converter(step.to_field)
    ):
        return None, -1
    return step.to_field, position


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
    if name in meta.hybrids and name in labels:
        # Selected by values(): sort on its column, as for an annotation (DISTINCT
        # needs the very expression it selects; a rebuilt one binds new parameters).
        return [labels[name]]
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
    query: Query,
    ctx: CompileContext,
    mode: str,
    order_out: list[Any] | None = None,
    extra: tuple[str, ...] = (),
) -> tuple[sa.Select[Any], SelectParts]:
    """Build the SELECT for ``query`` and describe its columns.

    Conditions on window annotations cannot be in the WHERE of the SELECT that
    computes the window: the query is wrapped (:func:`_build_qualified`).
    ``order_out``: the ORDER BY terms are appended there instead of applied.
    ``extra`` names annotations selected after the columns ``mode`` reads (the
    keys of keyset pagination); the row reader is built from the others.
    """
    if query.combinator:
        return build_combined(query, ctx, mode, build_select)
    if query.annotations:
        qualify = [node for node in query.where if node_refs_window(node, query.annotations)]
        if qualify:
            return _build_qualified(query, ctx, mode, qualify)
    parts = _select_columns(query, ctx, mode)
    for name in extra:
        _add_annotation(parts, query, ctx, name)
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
            if not (name in annotations and (
                annotations[name].has_aggregate or _has_window(annotations[name])
            ))
        ]
        for name in query.group_by:
            if name not in parts.names:
                group.append(ctx.ref(name))
        stmt = stmt.group_by(*group)
    terms = _order_terms(query, ctx, parts.labels, grouped)
    if order_out is not None:
        order_out.extend(terms)
    elif terms:
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


def _build_qualified(
    query: Query, ctx: CompileContext, mode: str, qualify: list[Any]
) -> tuple[sa.Select[Any], SelectParts]:
    """``SELECT ... FROM (<query without the window conditions>) WHERE <them> ORDER BY ...``.

    As Django 4.2 does: the inner SELECT computes the windows over the rows the
    other conditions keep; the outer one filters on the window values, orders
    and slices. The inner SELECT also exposes the model's columns and the
    annotations so the outer conditions and ordering can read them.
    """
    inner_query = query.clone()
    inner_query.where = tuple(node for node in query.where if node not in qualify)
    inner_query.low_mark, inner_query.high_mark = 0, None
    inner_query.distinct, inner_query.distinct_fields = False, ()
    inner_query.select_for_update = None
    grouped = query.has_aggregate_annotation
    # The ordering is computed inside (it may read joined tables) and applied outside.
    order: list[Any] = []
    stmt, parts = build_select(inner_query, ctx, mode, order)
    columns = [column.label(f"__c{i}") for i, column in enumerate(parts.columns)]
    order_terms = []
    for k, term in enumerate(order):
        element, modifiers = _order_modifiers(term)
        columns.append(element.label(f"__o{k}"))
        order_terms.append((f"__o{k}", modifiers))
    exposed: set[str] = set()
    meta = query.model._meta
    for field in meta.concrete_fields:
        if grouped and field.name not in (query.values_fields or ()):
            continue
        if field.column not in exposed:
            columns.append(ctx.column(field).label(field.column))
            exposed.add(field.column)
    selected = {name: f"__c{i}" for i, name in enumerate(parts.names)}
    annotation_labels: dict[str, str] = {}
    for name in query.annotations:
        if name in exposed:
            raise NotSupportedError(
                f"the annotation {name!r} has the name of a column of {meta.object_name}; "
                "rename it to filter on a window annotation"
            )
        if name in selected:
            annotation_labels[name] = selected[name]
            continue
        if grouped and name not in query.annotation_mask:
            continue
        columns.append(ctx.annotation_sa(name).label(name))
        annotation_labels[name] = name
    derived = stmt.with_only_columns(*columns, maintain_column_froms=False).subquery("qualify")
    outer = ctx.child(query.model, query.annotations, 0, table=derived)
    for name, label in annotation_labels.items():
        outer._annotation_sa[name] = derived.c[label]
    out_parts = SelectParts()
    out_parts.names, out_parts.converters = parts.names, parts.converters
    out_parts.model_fields, out_parts.slices = parts.model_fields, parts.slices
    out_parts.columns = [derived.c[f"__c{i}"] for i in range(len(parts.columns))]
    out_parts.labels = {name: derived.c[label] for name, label in annotation_labels.items()}
    out = sa.select(*out_parts.columns)
    for node in qualify:
        for path, _ in iter_leaves(node):
            if getattr(path, "joins", None):
                raise NotSupportedError(
                    f"a condition on {str(path)!r} (across a relation) cannot be in the same "
                    "filter() call as a condition on a window annotation; use two filter() calls"
                )
        out = out.where(compile_node(outer, node))
    for label, modifiers in order_terms:
        rebased: Any = derived.c[label]
        for modifier in reversed(modifiers):
            rebased = modifier(rebased)
        out = out.order_by(rebased)
    if query.distinct:
        out = out.distinct()
    position = len(query.values)
    if query.high_mark is not None:
        out = out.limit(ctx.bind(position, None, sa.Integer()))
        position += 1
    if query.low_mark:
        out = out.offset(ctx.bind(position, None, sa.Integer()))
    return out.select_from(outer.from_clause()), out_parts


_MODIFIERS: dict[Any, Any] = {
    sa_operators.asc_op: sa.asc,
    sa_operators.desc_op: sa.desc,
    sa_operators.nulls_first_op: sa.nulls_first,
    sa_operators.nulls_last_op: sa.nulls_last,
}


def _order_modifiers(term: Any) -> tuple[Any, list[Any]]:
    """Split an ORDER BY term into its expression and its ASC/DESC/NULLS modifiers."""
    modifiers: list[Any] = []
    while isinstance(term, UnaryExpression) and term.modifier in _MODIFIERS:
        modifiers.append(_MODIFIERS[term.modifier])
        term = term.element
    return term, modifiers


def _finish(stmt: Any, ctx: CompileContext, dialect: Any, reader: Any = None) -> CompiledStatement:
    compiled = stmt.compile(dialect=dialect)
    return CompiledStatement(compiled.string, ctx.getters(compiled), reader, statement_tables(stmt))


def statement_tables(stmt: Any) -> frozenset[str]:
    """The names of every table ``stmt`` touches: FROM, joins, aliases and subqueries."""
    return frozenset(
        element.name for element in visitors.iterate(stmt) if isinstance(element, sa.Table)
    )


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


class KeysetReader:
    """Read a page: items from the leading columns, key values from the trailing ones."""

    __slots__ = ("converters", "reader", "width")

    def __init__(self, reader: Any, width: int, converters: list[Any]) -> None:
        self.reader = reader
        self.width = width
        self.converters = converters

    def items(self, rows: Sequence[Any], alias: str) -> list[Any]:
        """Return the page's items as the QuerySet's mode reads them."""
        width = self.width
        return self.reader([tuple(row[:width]) for row in rows], alias)

    def keys(self, row: Sequence[Any]) -> list[Any]:
        """Return the ordering values of one row (converted like the fields read them)."""
        values = list(row[self.width:])
        return [
            value if value is None or convert is None else convert(value)
            for value, convert in zip(values, self.converters, strict=True)
        ]


def compile_keyset_select(
    query: Query, db: Any, mode: str, key_names: tuple[str, ...]
) -> CompiledStatement:
    """Return the SELECT of a keyset page: ``query``'s columns, then the ordering keys.

    The entry's reader is a :class:`KeysetReader`.
    """
    key = (db.dialect, "keyset", mode, query.key(), key_names)
    entry = statement_cache.get(key)
    if entry is None:
        ctx = CompileContext(
            query.model, db.ops, db.features, query.annotations, joins=query.joins,
            param_count=len(query.values),
        )
        stmt, parts = build_select(query, ctx, mode, extra=key_names)
        width = len(parts.columns) - len(key_names)
        item_parts = SelectParts()
        item_parts.names = parts.names[:width]
        item_parts.converters = parts.converters[:width]
        item_parts.slices = parts.slices
        reader = KeysetReader(
            _reader(mode, query, item_parts), width, parts.converters[width:]
        )
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
    ) or _filters_on_window(query) or any(_has_window(a) for a in query.annotations.values())


def _has_window(expression: Any) -> bool:
    """True when ``expression`` computes a window (never grouped by, never aggregated)."""
    if getattr(expression, "contains_over_clause", False):
        return True
    return any(_has_window(e) for e in expression.get_source_expressions())


def _filters_on_window(query: Query) -> bool:
    return bool(query.annotations) and any(
        node_refs_window(node, query.annotations) for node in query.where
    )


def _refuse_window_filter(query: Query, action: str) -> None:
    if _filters_on_window(query):
        raise NotSupportedError(
            f"{action}() cannot run on a query filtered on a window annotation; "
            "select the primary keys first: pk__in=list(await qs.values_list('pk', flat=True))"
        )


def _where(stmt: Any, query: Query, ctx: CompileContext) -> Any:
    for node in query.where:
        stmt = stmt.where(compile_node(ctx, node))
    return stmt


def _where_or_pk_subquery(stmt: Any, query: Query, ctx: CompileContext) -> Any:
    """The conditions of an UPDATE/DELETE: in its WHERE, or through ``_pk_subquery``
    when they need joins (the query's, or ones a hybrid property's expression made)."""
    if not query.joins:
        direct = _where(stmt, query, ctx)
        if not ctx.joins:
            return direct
    return stmt.where(_pk_subquery(query, ctx))


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

    _refuse_window_filter(query, "update")

    def build(ctx: CompileContext) -> tuple[Any, Any]:
        meta = query.model._meta
        values = {}
        for name, expr in assignments:
            if _has_window(expr):
                raise FieldError(
                    f"update() cannot set {name!r} to a window expression (servers compute "
                    "windows only in SELECT); select the values first, then bulk_update()"
                )
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
        return _where_or_pk_subquery(stmt, query, ctx), None

    return _cached((db.dialect, "update", query.key(), assignments), query, db, build)


def compile_delete(query: Query, db: Any) -> CompiledStatement:
    """Return ``DELETE FROM ... WHERE ...`` for ``query``."""
    _refuse_window_filter(query, "delete")

    def build(ctx: CompileContext) -> tuple[Any, Any]:
        return _where_or_pk_subquery(sa.delete(ctx.table), query, ctx), None

    return _cached((db.dialect, "delete", query.key()), query, db, build)
