"""Subquery expressions: ``Subquery``, ``Exists`` and ``OuterRef``.

::

    newest = Comment.objects.filter(post=OuterRef("pk")).order_by("-created_at")
    await Post.objects.annotate(
        newest_comment=Subquery(newest.values("text")[:1]),
        has_comments=Exists(Comment.objects.filter(post=OuterRef("pk"))),
    )
    await Post.objects.filter(Exists(Comment.objects.filter(post=OuterRef("pk"))))

``OuterRef(name)`` refers to a field of the query the subquery is used in; it
is checked against that model when the subquery is added to it. The inner
query's constants join the outer query's parameters, and the inner query's
shape is part of the outer one's cache key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from reinhardt_db.exceptions import FieldError
from reinhardt_db.models.expressions import Expression, F, field_key
from reinhardt_db.models.query_utils import Q

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

    from reinhardt_db.models.sql.context import CompileContext, Resolver
    from reinhardt_db.models.sql.query import Query

__all__ = ["Exists", "OuterRef", "Subquery"]


class OuterRef(F):
    """A field of the enclosing query, used inside a ``Subquery``/``Exists``.

    ``OuterRef(OuterRef("pk"))`` reaches two queries out (a subquery in a subquery).
    """

    __slots__ = ("depth",)

    def __init__(self, name: str | OuterRef) -> None:
        if isinstance(name, OuterRef):
            super().__init__(name.name)
            self.depth: int = name.depth + 1
        elif isinstance(name, str):
            super().__init__(name)
            self.depth = 1
        else:
            raise TypeError(f"OuterRef() takes a field name or an OuterRef, got {name!r}")

    def __repr__(self) -> str:
        inner = repr(self.name)
        for _ in range(self.depth):
            inner = f"OuterRef({inner})"
        return inner

    def identity(self) -> tuple[Any, ...]:
        return ("OuterRef", self.name, self.depth)

    def resolve(self, resolver: Resolver) -> None:
        # Checked against the outer model when the subquery joins its query.
        return None

    def parameterize(self, values: list[Any], resolver: Resolver) -> Expression:
        return self

    def _target(self, ctx: Any) -> Any:
        for _ in range(self.depth):
            ctx = getattr(ctx, "outer", None)
            if ctx is None:
                return None
        return ctx

    def to_sa(self, ctx: CompileContext) -> ColumnElement[Any]:
        outer = self._target(ctx)
        if outer is None:
            raise FieldError(
                f"{self!r} refers to an enclosing query, but this query is not used inside "
                f"{'another one' if self.depth == 1 else f'{self.depth} others'}: wrap it in "
                "Subquery() or Exists()"
            )
        return outer.ref(self.name)

    def output_field(self, resolver: Resolver) -> Any:
        outer = self._target(resolver)
        return None if outer is None else outer.resolve_ref(self.name).output_field


def _outer_refs(query: Query, depth: int = 1) -> list[str]:
    """The names the OuterRefs in ``query`` read ``depth`` queries out (subqueries included)."""
    found: list[str] = []

    def expression(expr: Any) -> None:
        if isinstance(expr, OuterRef):
            if expr.depth == depth:
                found.append(expr.name)
            return
        if isinstance(expr, Subquery):
            found.extend(_outer_refs(expr.query, depth + 1))
            return
        if isinstance(expr, Expression):
            for source in expr.get_source_expressions():
                expression(source)
            shape = getattr(expr, "filter_shape", None) or getattr(expr, "condition", None)
            if isinstance(shape, tuple):
                node(shape)

    def node(shape: tuple[Any, ...]) -> None:
        if len(shape) == 2:
            expression(shape[0])  # a boolean expression used as a condition
            rhs = shape[1]
            if type(rhs) is tuple and rhs and rhs[0] == "SQ":  # a QuerySet as a value
                found.extend(_outer_refs(rhs[1], depth + 1))
            else:
                expression(rhs)
            return
        for child in shape[2]:
            node(child)

    for where in query.where:
        node(where)
    for annotation in query.annotations.values():
        expression(annotation)
    for item in query.order_by:
        expression(item)
    return found


class Subquery(Expression):
    """The value of a one-column, (at most) one-row query: ``Subquery(qs.values("x")[:1])``.

    A model QuerySet without ``values()`` selects its primary key.
    ``output_field`` types the result (else the selected column's field).
    """

    #: ``pk__in=Subquery(...)`` takes the rows of the query as the list.
    is_subquery = True

    def __init__(self, queryset: Any, output_field: Any = None) -> None:
        query = getattr(queryset, "query", None)
        if query is None or not getattr(queryset, "_is_queryset", False):
            raise TypeError(f"{type(self).__name__}() takes a QuerySet, got {queryset!r}")
        self.query: Query = query.clone()
        self.base = 0
        self._output_field = output_field
        self._check_columns()

    def _check_columns(self) -> None:
        query = self.query
        if query.values_fields is not None and len(query.values_fields) != 1:
            raise TypeError(
                f"a Subquery must select one column, this one selects "
                f"{', '.join(map(str, query.values_fields))}; use values('field')"
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<{self.query.model.__name__} query>)"

    def identity(self) -> tuple[Any, ...]:
        return (type(self).__name__, self.query.key(), self.base, field_key(self._output_field))

    def resolve(self, resolver: Resolver) -> None:
        for name in _outer_refs(self.query):
            resolver.resolve_ref(name)

    def parameterize(self, values: list[Any], resolver: Resolver) -> Expression:
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.base = len(values)
        values.extend(self.query.params())
        return new

    def inner_query(self) -> Query:
        """The query as it runs inside the outer one."""
        query = self.query
        if query.values_fields is None:
            query = query.clone()
            query.values_fields = (query.model._meta.pk.name,)
            query.annotation_mask = ()
        if not query.is_sliced and query.order_by == () and query.default_ordering:
            query = query.clone()
            query.clear_ordering()  # an order without a LIMIT changes nothing here
        return query

    def select(self, ctx: CompileContext) -> Any:
        """Build the inner SELECT inside ``ctx``'s statement (its table under an alias)."""
        from reinhardt_db.models.sql.compiler import MODE_TUPLES, build_select

        query = self.inner_query()
        inner = ctx.aliased_child(query.model, query.annotations, self.base, query.joins)
        stmt, _ = build_select(query, inner, MODE_TUPLES)
        # Every other table is the enclosing queries' (SQLAlchemy would only look one
        # level up on its own; OuterRef(OuterRef(...)) reads two).
        own = [inner.alias(join) for join in range(len(inner.joins) + 1)]
        return stmt.correlate_except(*own)

    def to_sa(self, ctx: CompileContext) -> ColumnElement[Any]:
        return self.select(ctx).scalar_subquery()

    def output_field(self, resolver: Resolver) -> Any:
        if self._output_field is not None:
            return self._output_field
        query = self.query
        name = query.values_fields[0] if query.values_fields else "pk"
        if name in query.annotations:
            return None
        from reinhardt_db.models.sql.context import Resolver as PlainResolver

        return PlainResolver(query.model, query.annotations).resolve_ref(str(name)).output_field


class Exists(Subquery):
    """Whether the query has any row: ``EXISTS (SELECT 1 ...)``; ``~Exists(...)`` negates.

    A boolean: use it in ``filter()``/``exclude()``, ``annotate()``, ``When()``
    and ``order_by()``.
    """

    #: A condition: ``filter(Exists(...))`` takes it as it is.
    conditional = True

    def __init__(self, queryset: Any, negated: bool = False) -> None:
        super().__init__(queryset)
        self.negated = negated

    def _check_columns(self) -> None:
        return None  # EXISTS does not care what is selected

    def identity(self) -> tuple[Any, ...]:
        return (*super().identity(), self.negated)

    def __and__(self, other: Any) -> Q:
        return Q(self) & (other if isinstance(other, Q) else Q(other))

    def __or__(self, other: Any) -> Q:
        return Q(self) | (other if isinstance(other, Q) else Q(other))

    def __rand__(self, other: Any) -> Q:
        return (other if isinstance(other, Q) else Q(other)) & Q(self)

    def __ror__(self, other: Any) -> Q:
        return (other if isinstance(other, Q) else Q(other)) | Q(self)

    def __invert__(self) -> Exists:
        new = Exists.__new__(Exists)
        new.__dict__.update(self.__dict__)
        new.negated = not self.negated
        return new

    def inner_query(self) -> Query:
        query = self.query.clone()
        query.values_fields = (query.model._meta.pk.name,)
        query.annotation_mask = ()
        if not query.is_sliced:
            query.clear_ordering()
        return query

    def to_sa(self, ctx: CompileContext) -> ColumnElement[Any]:
        exists = sa.exists(self.select(ctx))
        return sa.not_(exists) if self.negated else exists

    def output_field(self, resolver: Resolver) -> Any:
        from reinhardt_db.models.functions import _Shared

        return _Shared.get("BooleanField")
