"""Aggregates: ``Count Sum Avg Min Max StdDev Variance``.

Use them in ``aggregate()`` (one row for the whole query), in ``annotate()`` (per
row, or per group after ``values(...)``)::

    await Book.objects.aggregate(n=Count("id"), avg=Avg("price"))
    await Book.objects.values("genre").annotate(n=Count("id", filter=Q(price__gt=10)))

``filter=`` is compiled as ``CASE WHEN ... END`` inside the aggregate, which every
backend understands; ``distinct=True`` gives ``COUNT(DISTINCT ...)``; ``default=``
replaces a NULL result (``Sum`` of no rows).
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa

from reinhardt_db.backends.base.types import NumericValue
from reinhardt_db.exceptions import NotSupportedError
from reinhardt_db.models.expressions import Expression, F, Value
from reinhardt_db.models.query_utils import Q

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

    from reinhardt_db.models.sql.context import CompileContext, Resolver

__all__ = ["Aggregate", "Avg", "Count", "Max", "Min", "StdDev", "Sum", "Variance"]


def _int(value: Any) -> Any:
    return int(value)


def _float(value: Any) -> Any:
    return float(value)


class Aggregate(Expression):
    """Base of aggregates: ``function`` names the SQL aggregate function."""

    contains_aggregate = True
    function: ClassVar[str] = ""
    allow_distinct: ClassVar[bool] = False
    #: A floating-point aggregate: its argument goes through ``ops.float_aggregate_source``
    #: (MySQL computes AVG/STDDEV of integers as DECIMAL with 4 places).
    float_result: ClassVar[bool] = False

    def __init__(
        self,
        expression: Any,
        *,
        distinct: bool = False,
        filter: Q | None = None,
        default: Any = None,
    ) -> None:
        if distinct and not self.allow_distinct:
            raise TypeError(f"{type(self).__name__} does not allow distinct=True")
        if filter is not None and not isinstance(filter, Q):
            raise TypeError(f"filter= takes a Q object, got {filter!r}")
        if isinstance(expression, str) and expression != "*":
            expression = F(expression)
        elif expression != "*" and not isinstance(expression, Expression):
            raise TypeError(f"{type(self).__name__}() takes a field name or an expression")
        self.source: Any = expression
        self.distinct = distinct
        self.filter = filter
        self.filter_shape: Any = None
        self.default = default

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.source!r})"

    def get_source_expressions(self) -> list[Expression]:
        sources: list[Expression] = []
        if isinstance(self.source, Expression):
            sources.append(self.source)
        if isinstance(self.default, Expression):
            sources.append(self.default)
        return sources

    def identity(self) -> tuple[Any, ...]:
        # Shapes are immutable and hashed at least twice per cache lookup: keep it.
        cached: tuple[Any, ...] | None = self.__dict__.get("_identity")
        if cached is None:
            source = self.source.identity() if isinstance(self.source, Expression) else self.source
            default = self.default.identity() if isinstance(self.default, Expression) else None
            cached = (self.function, source, self.distinct, self.filter_shape, default)
            self.__dict__["_identity"] = cached
        return cached

    def resolve(self, resolver: Resolver) -> None:
        if isinstance(self.source, Expression):
            self.source.resolve(resolver)
            if self.source.has_aggregate:
                raise TypeError(f"cannot compute {type(self).__name__} of an aggregate")

    def parameterize(self, values: list[Any], resolver: Resolver) -> Expression:
        from reinhardt_db.models.sql.where import parameterize_q

        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__.pop("_identity", None)
        if isinstance(self.source, Expression):
            new.source = self.source.parameterize(values, resolver)
        if self.filter is not None:
            new.filter_shape = parameterize_q(self.filter, values, resolver)
            new.filter = None
        if self.default is not None:
            default = self.default if isinstance(self.default, Expression) else Value(self.default)
            new.default = default.parameterize(values, resolver)
        return new

    def _filter_clause(self, ctx: CompileContext) -> bool:
        return self.filter_shape is not None and ctx.features.supports_aggregate_filter_clause

    def source_sa(self, ctx: CompileContext) -> Any:
        """The aggregated expression, with ``filter=`` applied as a CASE where the
        backend has no ``FILTER (WHERE ...)`` clause."""
        case = self.filter_shape is not None and not self._filter_clause(ctx)
        source = (
            sa.literal_column("1") if self.source == "*" and case
            else sa.literal_column("*") if self.source == "*"
            else self.source.to_sa(ctx)
        )
        if case:
            from reinhardt_db.models.sql.where import compile_node

            source = sa.case((compile_node(ctx, self.filter_shape), source), else_=sa.null())
        if self.float_result and self.source != "*":
            field = self.source.output_field(ctx)
            if field is None or field.python_type is not decimal.Decimal:
                source = ctx.ops.float_aggregate_source(source)
        if self.distinct:
            source = sa.distinct(source)
        return source

    def sql_function(self, ctx: CompileContext) -> Callable[..., Any]:
        """The SQLAlchemy function for this aggregate on ``ctx``'s backend."""
        return getattr(sa.func, self.function)

    def function_sa(self, ctx: CompileContext) -> Any:
        """The aggregate call, with ``FILTER (WHERE ...)`` where the backend has it."""
        expr = self.sql_function(ctx)(self.source_sa(ctx))
        if self._filter_clause(ctx):
            from reinhardt_db.models.sql.where import compile_node

            expr = expr.filter(compile_node(ctx, self.filter_shape))
        return expr

    def to_sa(self, ctx: CompileContext) -> ColumnElement[Any]:
        expr = self.function_sa(ctx)
        if self.default is not None:
            expr = sa.func.coalesce(expr, self.default.to_sa(ctx))
        return expr

    def output_field(self, resolver: Resolver) -> Any:
        if isinstance(self.source, Expression):
            return self.source.output_field(resolver)
        return None

    def converter(self, ctx: CompileContext) -> Callable[[Any], Any] | None:
        field = self.output_field(ctx)
        if field is None:
            return None
        places = getattr(field, "decimal_places", None)
        if field.python_type is decimal.Decimal and places is not None:
            return _decimal(places)
        return ctx.field_converter(field)


def _decimal(places: int) -> Callable[[Any], decimal.Decimal]:
    """Decimal results (SQLite gives floats) rounded to the field's decimal places."""
    quantum = decimal.Decimal(1).scaleb(-places)

    def convert(value: Any) -> decimal.Decimal:
        number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(repr(value))
        return number.quantize(quantum)

    return convert


def _is_integer(field: Any) -> bool:
    return field is not None and field.python_type is int


class Count(Aggregate):
    """Count rows (``Count("*")``) or non-NULL values (``Count("field")``)."""

    function = "count"
    allow_distinct = True

    def __init__(
        self,
        expression: Any = "*",
        *,
        distinct: bool = False,
        filter: Q | None = None,
        default: Any = None,
    ) -> None:
        if expression == "*" and distinct:
            raise ValueError("Count('*', distinct=True) is not meaningful; name a field")
        super().__init__(expression, distinct=distinct, filter=filter, default=default)

    def output_field(self, resolver: Resolver) -> Any:
        from reinhardt_db.models.fields import IntegerField

        return _SHARED_FIELDS.get(IntegerField)

    def converter(self, ctx: CompileContext) -> Callable[[Any], Any] | None:
        return None  # every driver returns COUNT as int


class _Shared:
    """One unbound field instance per field class, for typing aggregate results."""

    def __init__(self) -> None:
        self._fields: dict[type, Any] = {}

    def get(self, cls: type) -> Any:
        field = self._fields.get(cls)
        if field is None:
            field = self._fields[cls] = cls()
        return field


_SHARED_FIELDS = _Shared()


class Sum(Aggregate):
    """The sum of the values (NULL for no rows unless ``default=``)."""

    function = "sum"
    allow_distinct = True

    def converter(self, ctx: CompileContext) -> Callable[[Any], Any] | None:
        field = self.output_field(ctx)
        if _is_integer(field):
            # MySQL and PostgreSQL widen integer sums to DECIMAL/NUMERIC.
            return _int
        if field is not None and field.python_type is float:
            return _float
        return super().converter(ctx)


class Avg(Aggregate):
    """The mean of the values: a float (a Decimal for DecimalField)."""

    function = "avg"
    allow_distinct = True
    float_result = True

    def converter(self, ctx: CompileContext) -> Callable[[Any], Any] | None:
        field = self.output_field(ctx)
        if field is not None and field.python_type is decimal.Decimal:
            return super().converter(ctx) or decimal.Decimal
        return _float

    def output_field(self, resolver: Resolver) -> Any:
        field = super().output_field(resolver)
        if field is not None and field.python_type is decimal.Decimal:
            return field
        from reinhardt_db.models.fields import FloatField

        return _SHARED_FIELDS.get(FloatField)


class Min(Aggregate):
    """The smallest value."""

    function = "min"

    def source_sa(self, ctx: CompileContext) -> Any:
        return _numeric(self, super().source_sa(ctx), ctx)


class Max(Aggregate):
    """The largest value."""

    function = "max"

    def source_sa(self, ctx: CompileContext) -> Any:
        return _numeric(self, super().source_sa(ctx), ctx)


def _numeric(aggregate: Aggregate, source: Any, ctx: CompileContext) -> Any:
    """Decimals compare as numbers for MIN/MAX (SQLite stores them as text)."""
    field = aggregate.output_field(ctx)
    if field is not None and field.python_type is decimal.Decimal:
        return NumericValue(source)
    return source


class StdDev(Aggregate):
    """The standard deviation (population; ``sample=True`` for the sample one)."""

    function = "stddev"
    float_result = True
    names: ClassVar[tuple[str, str]] = ("stddev_pop", "stddev_samp")

    def __init__(self, expression: Any, *, sample: bool = False, filter: Q | None = None,
                 default: Any = None) -> None:
        super().__init__(expression, filter=filter, default=default)
        self.sample = sample

    def identity(self) -> tuple[Any, ...]:
        return (*super().identity(), self.sample)

    def sql_function(self, ctx: CompileContext) -> Callable[..., Any]:
        if not ctx.features.supports_statistical_aggregates:
            raise NotSupportedError(
                f"{type(self).__name__} is not available on {ctx.ops.display_name}"
            )
        return getattr(sa.func, self.names[1] if self.sample else self.names[0])

    def converter(self, ctx: CompileContext) -> Callable[[Any], Any] | None:
        return _float

    def output_field(self, resolver: Resolver) -> Any:
        from reinhardt_db.models.fields import FloatField

        return _SHARED_FIELDS.get(FloatField)


class Variance(StdDev):
    """The variance (population; ``sample=True`` for the sample one)."""

    function = "variance"
    names = ("var_pop", "var_samp")
