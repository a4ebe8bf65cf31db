"""Query expressions: ``F``, ``Value``, arithmetic, ordering and class-level field access.

An expression is a value: building one does no I/O and checks nothing. When a
QuerySet method receives one it is *resolved* (names checked against the model,
``FieldError`` otherwise) and *parameterized*: every constant is moved out into
the query's parameter list and replaced by a :class:`Param` slot, so the
expression that remains describes only the query's shape. That shape is hashable
and is part of the compiled-statement cache key; the constants are bound
parameters on every backend.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import sqlalchemy as sa

from reinhardt_db.backends.base.operations import divide
from reinhardt_db.models.query_utils import Q

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

    from reinhardt_db.models.sql.context import CompileContext, Resolver

__all__ = [
    "CombinedExpression",
    "Expression",
    "F",
    "FieldRef",
    "OrderBy",
    "Param",
    "Value",
    "field_key",
]

T = TypeVar("T")


class Expression:
    """Base of every query expression.

    Subclasses implement :meth:`to_sa` (build the SQLAlchemy expression) and,
    when they hold constants or other expressions, :meth:`get_source_expressions`,
    :meth:`parameterize` and :meth:`identity`.

    :meth:`identity` is the expression's part of the compiled-statement cache
    key. The default covers the source expressions *and* every other attribute
    of the instance, so a subclass that keeps a constant in an attribute and
    renders it into its SQL gets one cache entry per constant, never another
    constant's SQL. Moving constants into the parameter list (:meth:`parameterize`
    returning :class:`Param` slots) lets one entry serve every value.
    """

    contains_aggregate: ClassVar[bool] = False

    # -- structure ---------------------------------------------------------------------
    def get_source_expressions(self) -> list[Expression]:
        """Return the expressions this one is built from."""
        return []

    def identity(self) -> tuple[Any, ...]:
        """Return a hashable description of this expression's shape (constants included)."""
        return (
            tuple(e.identity() for e in self.get_source_expressions()),
            _attributes(self),
        )

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.identity() == other.identity()

    def __hash__(self) -> int:
        return hash((type(self), self.identity()))

    @property
    def has_aggregate(self) -> bool:
        """True when this expression or one inside it is an aggregate."""
        return self.contains_aggregate or any(
            e.has_aggregate for e in self.get_source_expressions()
        )

    # -- the query layer's protocol -------------------------------------------------------
    def resolve(self, resolver: Resolver) -> None:
        """Check every name this expression refers to; raise ``FieldError`` if one is unknown."""
        for expression in self.get_source_expressions():
            expression.resolve(resolver)

    def parameterize(self, values: list[Any], resolver: Resolver) -> Expression:
        """Return the shape of this expression, appending its constants to ``values``."""
        return self

    def to_sa(self, ctx: CompileContext) -> ColumnElement[Any]:
        """Build the SQLAlchemy expression (on a parameterized expression)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement to_sa()")

    def output_field(self, resolver: Resolver) -> Any:
        """Return the Field describing this expression's result, or None when unknown."""
        for expression in self.get_source_expressions():
            field = expression.output_field(resolver)
            if field is not None:
                return field
        return None

    def converter(self, ctx: CompileContext) -> Callable[[Any], Any] | None:
        """Return the function turning the driver's value into Python's (None: as is)."""
        field = self.output_field(ctx)
        return None if field is None else ctx.field_converter(field)

    # -- operators -------------------------------------------------------------------------
    def _combine(self, other: Any, connector: str, reversed_: bool = False) -> CombinedExpression:
        other_expr = other if isinstance(other, Expression) else Value(other)
        if reversed_:
            return CombinedExpression(other_expr, connector, self)
        return CombinedExpression(self, connector, other_expr)

    def __add__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "+")

    def __sub__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "-")

    def __mul__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "*")

    def __truediv__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "/")

    def __mod__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "%")

    def __pow__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "^")

    def __radd__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "+", True)

    def __rsub__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "-", True)

    def __rmul__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "*", True)

    def __rtruediv__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "/", True)

    def __rmod__(self, other: Any) -> CombinedExpression:
        return self._combine(other, "%", True)

    def __neg__(self) -> CombinedExpression:
        return CombinedExpression(Value(0), "-", self)

    def asc(self, *, nulls_first: bool | None = None, nulls_last: bool | None = None) -> OrderBy:
        """Order by this expression, ascending; ``nulls_first``/``nulls_last`` place NULLs."""
        return OrderBy(self, descending=False, nulls_first=nulls_first, nulls_last=nulls_last)

    def desc(self, *, nulls_first: bool | None = None, nulls_last: bool | None = None) -> OrderBy:
        """Order by this expression, descending; ``nulls_first``/``nulls_last`` place NULLs."""
        return OrderBy(self, descending=True, nulls_first=nulls_first, nulls_last=nulls_last)


class F(Expression):
    """A reference to a field (or annotation) of the queried model.

    ``F("age") + 1`` in ``update()``, ``filter(updated_at__gt=F("created_at"))``,
    ``order_by(F("score").desc(nulls_last=True))``. Transforms may follow the
    name: ``F("created_at__year")``.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"F({self.name!r})"

    def identity(self) -> tuple[Any, ...]:
        return ("F", self.name)

    def resolve(self, resolver: Resolver) -> None:
        resolver.resolve_ref(self.name)

    def parameterize(self, values: list[Any], resolver: Resolver) -> Expression:
        # Across relations the name becomes a JoinPath naming the query's joins.
        name = resolver.ref_path(self.name)
        return self if name is self.name else F(name)

    def to_sa(self, ctx: CompileContext) -> ColumnElement[Any]:
        return ctx.ref(self.name)

    def output_field(self, resolver: Resolver) -> Any:
        return resolver.resolve_ref(self.name).output_field

    @property
    def has_aggregate(self) -> bool:
        return False


class Value(Expression):
    """A constant inside an expression; always sent as a bound parameter.

    ``output_field`` (a Field instance) adapts the value for the database and
    types the result.
    """

    __slots__ = ("_output_field", "value")

    def __init__(self, value: Any, output_field: Any = None) -> None:
        self.value = value
        self._output_field = output_field

    def __repr__(self) -> str:
        return f"Value({self.value!r})"

    def identity(self) -> tuple[Any, ...]:
        return ("V", type(self.value), repr(self.value), field_key(self._output_field))

    def parameterize(self, values: list[Any], resolver: Resolver) -> Expression:
        value = self.value
        if value is None and self._output_field is not None:
            # What None means for that field (JSONField: the JSON scalar null).
            value = getattr(self._output_field, "null_value", None)
        values.append(value)
        return Param(len(values) - 1, self._output_field, type(self.value))

    def output_field(self, resolver: Resolver) -> Any:
        return self._output_field


def field_key(field: Any) -> Any:
    """Return a hashable identity of a Field for cache keys (never ``id()``, which is reused).

    A field bound to a model is ``(model, name)``; an unbound one (``Value(x,
    output_field=JSONField())``) is its class and deconstructed options, so equal
    fields built twice share one compiled statement.
    """
    if field is None:
        return None
    model = getattr(field, "model", None)
    if model is not None:
        return (model, field.name)
    cached = field.__dict__.get("_cache_key")
    if cached is None:
        _, _, args, kwargs = field.deconstruct()
        cached = (type(field), _hashable(args), _hashable(sorted(kwargs.items())))
        field.__dict__["_cache_key"] = cached
    return cached


def _hashable(value: Any) -> Any:
    """Return a hashable stand-in for ``value`` that tells different values apart."""
    if isinstance(value, Expression):
        return ("E", type(value), value.identity())
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_hashable(item) for item in value))
    if isinstance(value, dict):
        return (dict, tuple((_hashable(k), _hashable(v)) for k, v in value.items()))
    if hasattr(value, "deconstruct") and hasattr(value, "get_db_prep_func"):
        return ("field", field_key(value))
    try:
        hash(value)
    except TypeError:
        return (type(value), repr(value))
    return (type(value), value)


def _attributes(expr: Expression) -> tuple[Any, ...]:
    """Every instance attribute of ``expr`` (constants and expressions alike), hashable."""
    names: list[str] = []
    for klass in type(expr).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        names.extend([slots] if isinstance(slots, str) else slots)
    state = getattr(expr, "__dict__", None)
    if state:
        names.extend(state)
    found = []
    for name in sorted(set(names)):
        if name.startswith("__"):
            continue
        try:
            value = getattr(expr, name)
        except AttributeError:
            continue
        found.append((name, _hashable(value)))
    return tuple(found)


_SQL_TYPES: dict[type, Any] = {
    bool: sa.Boolean, int: sa.Integer, float: sa.Float, str: sa.String,
    decimal.Decimal: sa.Numeric, bytes: sa.LargeBinary, dt.datetime: sa.DateTime,
    dt.date: sa.Date, dt.time: sa.Time, dt.timedelta: sa.Interval,
}


class Param(Expression):
    """A parameter slot: the constant at ``index`` of the query's parameter list.

    Without an ``output_field`` the bound parameter is typed from the Python type
    of the value (part of the shape), so the database knows what it receives.
    ``for_save``: the value is written to the field's column (``update()``), so it
    goes through ``get_db_prep_save_func`` and a value the column cannot hold is
    ``DataError``.
    """

    __slots__ = ("_output_field", "for_save", "index", "python_type")

    def __init__(
        self,
        index: int,
        output_field: Any = None,
        python_type: type | None = None,
        for_save: bool = False,
    ) -> None:
        self.index = index
        self._output_field = output_field
        self.python_type = python_type
        self.for_save = for_save

    def __repr__(self) -> str:
        return f"Param({self.index})"

    def identity(self) -> tuple[Any, ...]:
        return (
            "P", self.index, field_key(self._output_field), self.python_type, self.for_save,
        )

    def to_sa(self, ctx: CompileContext) -> ColumnElement[Any]:
        field = self._output_field
        if field is not None:
            adapter = ctx.field_save_adapter(field) if self.for_save else ctx.field_adapter(field)
            return ctx.bind(self.index, adapter, field.sa_type(ctx.ops))
        sql_type = _SQL_TYPES.get(self.python_type) if self.python_type is not None else None
        return ctx.bind(self.index, None, sql_type() if sql_type is not None else None)

    def output_field(self, resolver: Resolver) -> Any:
        return self._output_field


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": divide,  # generic form; to_sa asks the backend (ops.divide)
    "%": lambda a, b: a % b,
    "^": lambda a, b: sa.func.power(a, b),
}


class CombinedExpression(Expression):
    """``lhs <connector> rhs``: arithmetic between expressions (``F("a") * 2``)."""

    __slots__ = ("connector", "lhs", "rhs")

    def __init__(self, lhs: Expression, connector: str, rhs: Expression) -> None:
        if connector not in _OPERATORS:
            raise ValueError(f"unknown operator {connector!r}; use one of {', '.join(_OPERATORS)}")
        self.lhs, self.connector, self.rhs = lhs, connector, rhs

    def __repr__(self) -> str:
        return f"{self.lhs!r} {self.connector} {self.rhs!r}"

    def get_source_expressions(self) -> list[Expression]:
        return [self.lhs, self.rhs]

    def identity(self) -> tuple[Any, ...]:
        return ("C", self.connector, self.lhs.identity(), self.rhs.identity())

    def parameterize(self, values: list[Any], resolver: Resolver) -> Expression:
        lhs = self.lhs.parameterize(values, resolver)
        rhs = self.rhs.parameterize(values, resolver)
        return CombinedExpression(lhs, self.connector, rhs)

    def to_sa(self, ctx: CompileContext) -> ColumnElement[Any]:
        lhs, rhs = self.lhs.to_sa(ctx), self.rhs.to_sa(ctx)
        if self.connector == "/":
            return ctx.ops.divide(lhs, rhs)
        return _OPERATORS[self.connector](lhs, rhs)


class OrderBy(Expression):
    """An ordering term: ``F("x").desc(nulls_last=True)``."""

    __slots__ = ("descending", "expression", "nulls_first", "nulls_last")

    def __init__(
        self,
        expression: Expression,
        descending: bool = False,
        nulls_first: bool | None = None,
        nulls_last: bool | None = None,
    ) -> None:
        if nulls_first and nulls_last:
            raise ValueError("nulls_first and nulls_last are mutually exclusive")
        self.expression = expression
        self.descending = descending
        self.nulls_first = bool(nulls_first)
        self.nulls_last = bool(nulls_last)

    def __repr__(self) -> str:
        direction = "DESC" if self.descending else "ASC"
        return f"OrderBy({self.expression!r}, {direction})"

    def get_source_expressions(self) -> list[Expression]:
        return [self.expression]

    def identity(self) -> tuple[Any, ...]:
        return (
            "O", self.expression.identity(), self.descending, self.nulls_first, self.nulls_last,
        )

    def parameterize(self, values: list[Any], resolver: Resolver) -> Expression:
        return OrderBy(
            self.expression.parameterize(values, resolver),
            self.descending,
            self.nulls_first or None,
            self.nulls_last or None,
        )

    def reversed(self) -> OrderBy:
        """Return the opposite ordering (NULL placement flips too, as Django does)."""
        return OrderBy(
            self.expression,
            not self.descending,
            nulls_first=self.nulls_last or None,
            nulls_last=self.nulls_first or None,
        )

    def to_sa_terms(self, ctx: CompileContext) -> list[Any]:
        """Return the ORDER BY terms for this ordering on ``ctx``'s backend."""
        if type(self.expression) is F:  # a JSON key may sort on more than one term
            exprs = ctx.order_refs(self.expression.name)
        else:
            exprs = [self.expression.to_sa(ctx)]
        return [
            term for expr in exprs
            for term in ctx.order_terms(expr, self.descending, self.nulls_first, self.nulls_last)
        ]


class FieldRef(F, Generic[T]):
    """A model field read on the class: ``User.age``, for class-level expressions.

    Comparisons build the same ``Q`` objects as keyword lookups::

        User.objects.filter(User.age >= 18, User.username.startswith("a"))
        # same as filter(age__gte=18, username__startswith="a")
    """

    __slots__ = ("model",)

    def __init__(self, model: Any, name: str) -> None:
        super().__init__(name)
        self.model = model

    @property
    def field(self) -> Any:
        """The model field this reference reads."""
        return self.model._meta.get_field(self.name)

    def __repr__(self) -> str:
        return f"FieldRef({self.name!r})"

    def parameterize(self, values: list[Any], resolver: Resolver) -> Expression:
        return F(resolver.ref_path(self.name))

    def _q(self, lookup: str, value: Any) -> Q:
        return Q((f"{self.name}__{lookup}", value))

    __hash__ = Expression.__hash__

    def __eq__(self, other: object) -> Q:  # type: ignore[override]
        return self._q("exact", other)

    def __ne__(self, other: object) -> Q:  # type: ignore[override]
        return ~self._q("exact", other)

    def __lt__(self, other: Any) -> Q:
        return self._q("lt", other)

    def __le__(self, other: Any) -> Q:
        return self._q("lte", other)

    def __gt__(self, other: Any) -> Q:
        return self._q("gt", other)

    def __ge__(self, other: Any) -> Q:
        return self._q("gte", other)

    def exact(self, value: Any) -> Q:
        """``field = value`` (``None`` means IS NULL)."""
        return self._q("exact", value)

    def iexact(self, value: Any) -> Q:
        """Case-insensitive equality."""
        return self._q("iexact", value)

    def contains(self, value: Any) -> Q:
        """Case-sensitive substring match (for JSON fields: containment)."""
        return self._q("contains", value)

    def icontains(self, value: Any) -> Q:
        """Case-insensitive substring match."""
        return self._q("icontains", value)

    def startswith(self, value: Any) -> Q:
        """Case-sensitive prefix match."""
        return self._q("startswith", value)

    def istartswith(self, value: Any) -> Q:
        """Case-insensitive prefix match."""
        return self._q("istartswith", value)

    def endswith(self, value: Any) -> Q:
        """Case-sensitive suffix match."""
        return self._q("endswith", value)

    def iendswith(self, value: Any) -> Q:
        """Case-insensitive suffix match."""
        return self._q("iendswith", value)

    def in_(self, values: Any) -> Q:
        """``field IN (...)``; also takes a ``values_list(..., flat=True)`` QuerySet."""
        return self._q("in", values)

    def range(self, low: Any, high: Any) -> Q:
        """``low <= field <= high`` (SQL BETWEEN)."""
        return self._q("range", (low, high))

    between = range

    def isnull(self, value: bool = True) -> Q:
        """``field IS NULL`` (or IS NOT NULL with ``False``)."""
        return self._q("isnull", value)

    def is_null(self) -> Q:
        """``field IS NULL``."""
        return self._q("isnull", True)

    def is_not_null(self) -> Q:
        """``field IS NOT NULL``."""
        return self._q("isnull", False)

    def regex(self, pattern: str) -> Q:
        """Case-sensitive regular-expression match."""
        return self._q("regex", pattern)

    def iregex(self, pattern: str) -> Q:
        """Case-insensitive regular-expression match."""
        return self._q("iregex", pattern)

    def lookup(self, lookup_name: str, value: Any) -> Q:
        """Any registered lookup by name: ``User.username.lookup("ne", "x")``."""
        return self._q(lookup_name, value)
