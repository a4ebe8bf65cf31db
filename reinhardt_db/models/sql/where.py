"""WHERE trees: from ``Q``/keyword lookups to shapes, and from shapes to SQL.

A filter is stored as a *shape*: nested tuples ``(connector, negated, children)``
whose leaves are ``(path, rhs_shape)``; constants live in the query's parameter
list, so the shape is hashable and identical for every call with the same
structure. :func:`compile_node` turns a shape into an SQLAlchemy condition.

Negation keeps Django's two-valued semantics: under an odd number of NOTs a
lookup on a nullable column also requires the column to be non-NULL, so
``exclude(age=3)`` keeps rows whose age is NULL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from reinhardt_db.backends.vendors import features_for, operations_for
from reinhardt_db.exceptions import FieldError
from reinhardt_db.models.expressions import Expression, F
from reinhardt_db.models.lookups import (
    CONSTANT_RESULTS,
    EMPTY_RESULT,
    FULL_RESULT,
    NOT_NULL_RESULT,
)
from reinhardt_db.models.query_utils import Q
from reinhardt_db.models.sql.context import CompileContext, PathInfo, Resolver, annotation_head
from reinhardt_db.models.sql.joins import RelatedExists

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

    from reinhardt_db.backends.base import DatabaseOperations

__all__ = [
    "compile_node",
    "iter_leaves",
    "node_has_aggregate",
    "node_refs_window",
    "parameterize_filter",
    "parameterize_q",
    "q_to_clause",
]

Node = tuple[Any, ...]
_NULL_RHS = ("C", None)
#: The right-hand side of a leaf whose "path" is a boolean expression (``Exists``).
EXPRESSION_CONDITION = ("X", None)


def _expression_leaf(expression: Expression, values: list[Any], resolver: Resolver) -> Node:
    """Return the leaf of a boolean expression used as a condition (``filter(Exists(...))``)."""
    if not getattr(expression, "conditional", False):
        field = expression.output_field(resolver)
        if field is None or field.get_internal_type() != "BooleanField":
            raise TypeError(
                f"filter() got {expression!r}, which is not a condition: compare a "
                "class-level field to build one, e.g. filter(User.age >= 18), pass keyword "
                "lookups, or pass a boolean expression such as Exists(...)"
            )
    expression.resolve(resolver)
    return (expression.parameterize(values, resolver), EXPRESSION_CONDITION)


def _leaf(
    path: str, value: Any, values: list[Any], resolver: Resolver, negated: bool = False
) -> Node:
    if not isinstance(path, str):
        raise TypeError(f"a lookup name must be a string, got {path!r}")
    info = resolver.resolve_lookup(path)
    assert info.lookup is not None
    if info.field is not None and info.field.is_relation:
        value = info.field.lookup_value(value)
    if info.steps:
        return resolver.relation_leaf(path, info, value, values, negated)
    shape = info.lookup.shape_rhs(value, values, resolver, info.bounds)
    if shape == FULL_RESULT and not getattr(info.output_field, "beyond_range_matches_null", False):
        # Django's FullResultSet (NULLs match too) is its rule for integers only;
        # elsewhere the database's answer is every value, not NULL.
        shape = NOT_NULL_RESULT
    return (path, shape)


def _add_child(children: list[Node], node: Node, connector: str) -> None:
    """Inline a plain node into its parent when that does not change the meaning.

    ``filter(User.age >= 18)`` then has the same shape as ``filter(age__gte=18)``.
    """
    if not node[1] and (node[0] == connector or len(node[2]) == 1):
        children.extend(node[2])
    else:
        children.append(node)


def parameterize_q(q: Q, values: list[Any], resolver: Resolver, negated: bool = False) -> Node:
    """Return the shape of ``q``, appending its constants to ``values``.

    ``negated``: ``q`` sits under a NOT (conditions over multi-valued relations
    then become subqueries, as Django's ``exclude()`` does).
    """
    children: list[Node] = []
    negated = negated or q.negated
    for child in q.children:
        if isinstance(child, Q):
            _add_child(
                children, parameterize_q(child, values, resolver, negated), q.connector
            )
        elif isinstance(child, tuple) and len(child) == 2:
            children.append(_leaf(child[0], child[1], values, resolver, negated))
        elif isinstance(child, Expression):
            children.append(_expression_leaf(child, values, resolver))
        else:
            raise TypeError(f"a Q object holds lookups or Q objects, got {child!r}")
    return (q.connector, q.negated, tuple(children))


def parameterize_filter(
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    values: list[Any],
    resolver: Resolver,
    negated: bool = False,
) -> Node:
    """Return the shape of ``filter(*args, **kwargs)`` (``exclude`` when ``negated``)."""
    children: list[Node] = []
    for arg in args:
        if isinstance(arg, Q):
            _add_child(children, parameterize_q(arg, values, resolver, negated), Q.AND)
        elif isinstance(arg, Expression) and not isinstance(arg, F):
            children.append(_expression_leaf(arg, values, resolver))
        elif isinstance(arg, bool) or isinstance(arg, Expression):
            raise TypeError(
                f"filter() got {arg!r}: compare a class-level field to build a condition, "
                "e.g. filter(User.age >= 18), or pass keyword lookups"
            )
        else:
            raise TypeError(f"filter() takes Q objects and keyword lookups, got {arg!r}")
    for path, value in kwargs.items():
        children.append(_leaf(path, value, values, resolver, negated))
    return (Q.AND, negated, tuple(children))


def iter_leaves(node: Node) -> Iterator[Node]:
    """Yield every ``(path, rhs)`` leaf of a shape."""
    if len(node) == 2:
        yield node
        return
    for child in node[2]:
        yield from iter_leaves(child)


def node_has_aggregate(node: Node, annotations: Mapping[str, Expression]) -> bool:
    """True when a leaf of ``node`` refers to an aggregate annotation (HAVING material)."""
    for path, rhs in iter_leaves(node):
        if rhs == EXPRESSION_CONDITION:
            if _refs_aggregate(path, annotations):
                return True
            continue
        head = annotation_head(path, annotations)
        if head is not None and annotations[head].has_aggregate:
            return True
        if isinstance(rhs, Expression) and _refs_aggregate(rhs, annotations):
            return True
    return False


def node_refs_window(node: Node, annotations: Mapping[str, Expression]) -> bool:
    """True when a leaf of ``node`` reads a window annotation (the query is then wrapped)."""
    for path, rhs in iter_leaves(node):
        if rhs == EXPRESSION_CONDITION:
            if _refs_window(path, annotations):
                return True
            continue
        if type(path) is RelatedExists:
            continue
        head = annotation_head(path, annotations)
        if head is not None and _refs_window(annotations[head], annotations):
            return True
        if isinstance(rhs, Expression) and _refs_window(rhs, annotations):
            return True
    return False


def _refs_window(expr: Expression, annotations: Mapping[str, Expression]) -> bool:
    if getattr(expr, "contains_over_clause", False):
        return True
    name = getattr(expr, "name", None)
    if isinstance(name, str) and type(expr) is F:
        head = annotation_head(name, annotations)
        if head is not None and annotations[head] is not expr:
            return _refs_window(annotations[head], annotations)
    return any(_refs_window(e, annotations) for e in expr.get_source_expressions())


def _refs_aggregate(expr: Expression, annotations: Mapping[str, Expression]) -> bool:
    if expr.has_aggregate:
        return True
    name = getattr(expr, "name", None)
    if isinstance(name, str):
        head = annotation_head(name, annotations)
        if head is not None and annotations[head].has_aggregate:
            return True
    return any(_refs_aggregate(e, annotations) for e in expr.get_source_expressions())


def compile_node(ctx: CompileContext, node: Node, negated: bool = False) -> ColumnElement[bool]:
    """Build the SQLAlchemy condition for a shape."""
    if len(node) == 2:
        return _compile_leaf(ctx, node, negated)
    connector, node_negated, children = node
    inner = negated != node_negated
    parts = [compile_node(ctx, child, inner) for child in children]
    if not parts:
        return sa.true()  # an empty Q() matches everything, even under ~
    expr: ColumnElement[bool]
    if len(parts) == 1:
        expr = parts[0]
    elif connector == Q.OR:
        expr = sa.or_(*parts)
    elif connector == Q.XOR:
        # True when an odd number of the parts are true (Django's XOR).
        one: Any = sa.literal_column("1")
        zero: Any = sa.literal_column("0")
        total = sum((sa.case((part, one), else_=zero) for part in parts[1:]),
                    sa.case((parts[0], one), else_=zero))
        expr = (total % sa.literal_column("2")) == one
    else:
        expr = sa.and_(*parts)
    return sa.not_(expr) if node_negated else expr


def _compile_leaf(ctx: CompileContext, leaf: Node, negated: bool) -> ColumnElement[bool]:
    path, rhs_shape = leaf
    if rhs_shape == EXPRESSION_CONDITION:
        return path.to_sa(ctx)
    if type(path) is RelatedExists:
        return _compile_exists(ctx, path, rhs_shape[1])
    if rhs_shape in CONSTANT_RESULTS:
        # Known at filter() time (Django's EmptyResultSet / FullResultSet): a
        # constant, NULLs included, so NOT of it is the whole opposite.
        if rhs_shape == EMPTY_RESULT:
            return sa.false()
        if rhs_shape == FULL_RESULT:
            return sa.true()
        return ctx.lhs(ctx.resolve_lookup(path), path)[0].is_not(None)
    info = ctx.resolve_lookup(path)
    lhs, transform = ctx.lhs(info, path)
    lookup_cls = info.lookup
    assert lookup_cls is not None
    lookup = lookup_cls(info.output_field, ctx, transform)
    rhs = lookup.compile_rhs(rhs_shape)
    expr = lookup.build(lhs, rhs)
    if negated and not lookup.handles_null and rhs_shape != _NULL_RHS:
        guards = [lhs.is_not(None)] if info.nullable else []
        # exclude(a=F("b")): a row where b is NULL is kept, as in Django.
        if _nullable_column_ref(ctx, rhs_shape):
            guards.append(rhs.is_not(None))
        if guards:
            expr = sa.and_(expr, *guards)
    return expr


def _compile_exists(ctx: CompileContext, cond: RelatedExists, absent: bool) -> ColumnElement[bool]:
    """``EXISTS`` (``NOT EXISTS`` when ``absent``) of the related rows ``cond`` describes."""
    step = cond.step
    outer = ctx.alias(cond.outer)
    inner_query = cond.query
    if inner_query is None:
        table = ctx.new_alias(step.to_model._meta.table)
        stmt: Any = sa.select(sa.literal_column("1")).select_from(table)
        stmt = stmt.where(step.condition(outer, table, ctx))
    else:
        inner = ctx.aliased_child(
            inner_query.model, inner_query.annotations, cond.base, inner_query.joins
        )
        stmt = sa.select(sa.literal_column("1")).where(step.condition(outer, inner.table, inner))
        for node in inner_query.where:
            stmt = stmt.where(compile_node(inner, node))
        stmt = stmt.select_from(inner.from_clause())
    exists = sa.exists(stmt)
    return sa.not_(exists) if absent else exists


def _nullable_column_ref(ctx: CompileContext, shape: Any) -> bool:
    """True when ``shape`` is ``F(name)`` naming a nullable column (no transform)."""
    if type(shape) is not F:
        return False
    info = ctx.resolve_ref(shape.name)
    return info.annotation is None and not info.transforms and bool(info.nullable)


class _SchemaResolver(Resolver):
    """Resolves a condition of the schema (``CheckConstraint``, a partial index): columns only.

    A hybrid property is refused: migrations build tables from historical
    models, which have none, so the condition would not apply there.
    """

    pad_lists = False  # DDL is compiled once; keep the list as written

    def resolve_lookup(self, path: str) -> PathInfo:
        return self._columns_only(path, super().resolve_lookup(path))

    def resolve_ref(self, path: str) -> PathInfo:
        return self._columns_only(path, super().resolve_ref(path))

    def _columns_only(self, path: str, info: PathInfo) -> PathInfo:
        if info.hybrid is not None:
            shape = info.hybrid
            raise FieldError(
                f"{path!r} names the hybrid property {shape.model.__name__}.{shape.name}, "
                "which a constraint or index condition cannot use (it is schema, and "
                "migrations know no hybrids); write the fields its expression reads."
            )
        return info


def q_to_clause(
    model: Any, q: Q, ops: DatabaseOperations | str, table: Any = None
) -> ColumnElement[bool]:
    """Return ``q`` as an SQLAlchemy condition on ``model``'s table, values bound inline.

    Used for ``CheckConstraint(condition=Q(...))``: the bound parameters carry
    their (adapted) values, so DDL compilation renders them as literals. ``ops``
    is the backend's operations (or its vendor name); its default features apply.
    """
    backend = operations_for(ops)
    values: list[Any] = []
    node = parameterize_q(q, values, _SchemaResolver(model))
    ctx = CompileContext(
        model, backend, features_for(backend.vendor), values=values, table=table
    )
    return compile_node(ctx, node)
