"""Window functions: ``Window(expression, partition_by=, order_by=, frame=)``.

::

    await Score.objects.annotate(
        place=Window(Rank(), partition_by="game", order_by=F("points").desc()),
        running=Window(Sum("points"), partition_by="game", order_by="id",
                       frame=RowRange(start=None, end=0)),
    )
    # filtering on a window annotation wraps the query in a subquery (as Django 4.2):
    await Score.objects.annotate(place=Window(RowNumber(), order_by="-points")).filter(place__lte=3)

The expression is a window function (``RowNumber Rank DenseRank PercentRank
CumeDist Ntile Lag Lead FirstValue LastValue NthValue``) or an aggregate
(``Sum Avg Count Min Max ...``). Offsets, ``nth`` and bucket counts are part of
the query's shape (the servers take only constants there); ``Lag``/``Lead``
defaults are bound parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa

from reinhardt_db.exceptions import NotSupportedError
from reinhardt_db.models.aggregates import Aggregate
from reinhardt_db.models.expressions import Expression, F, OrderBy, field_key
from reinhardt_db.models.functions import Func, _Shared, as_expression

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

    from reinhardt_db.models.sql.context import CompileContext, Resolver

__all__ = [
    "CumeDist",
    "DenseRank",
    "FirstValue",
    "Lag",
    "LastValue",
    "Lead",
    "NthValue",
    "Ntile",
    "PercentRank",
    "Rank",
    "RowNumber",
    "RowRange",
    "ValueRange",
    "Window",
]


def _bound(value: int | None, name: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"a frame's {name} is an integer or None, got {value!r}")
    return value


class _Frame:
    """A window frame: ``start``/``end`` are None (unbounded), 0 (the current row),
    a negative number (that many PRECEDING) or a positive one (FOLLOWING)."""

    kind: ClassVar[str] = ""

    def __init__(self, start: int | None = None, end: int | None = None) -> None:
        self.start = _bound(start, "start")
        self.end = _bound(end, "end")
        if start is not None and end is not None and start > end:
            raise ValueError(f"a frame cannot start ({start}) after it ends ({end})")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(start={self.start}, end={self.end})"

    def identity(self) -> tuple[Any, ...]:
        return (self.kind, self.start, self.end)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Frame) and self.identity() == other.identity()

    def __hash__(self) -> int:
        return hash(self.identity())


class RowRange(_Frame):
    """``ROWS BETWEEN ...``: the frame counts rows."""

    kind = "rows"


class ValueRange(_Frame):
    """``RANGE BETWEEN ...``: the frame counts values of the (single) ordering expression."""

    kind = "range"


def _ordering(item: Any) -> OrderBy:
    if isinstance(item, OrderBy):
        return item
    if isinstance(item, str):
        if item.startswith("-"):
            return OrderBy(F(item[1:]), descending=True)
        return OrderBy(F(item))
    if isinstance(item, Expression):
        return OrderBy(item)
    raise TypeError(f"a window's order_by takes names or expressions, got {item!r}")


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


class Window(Expression):
    """``expression OVER (PARTITION BY ... ORDER BY ... frame)``."""

    def __init__(
        self,
        expression: Expression,
        partition_by: Any = None,
        order_by: Any = None,
        frame: _Frame | None = None,
        output_field: Any = None,
    ) -> None:
        if not isinstance(expression, Expression) or not (
            isinstance(expression, (Aggregate, WindowFunction))
        ):
            raise TypeError(
                f"Window() takes a window function (RowNumber(), Rank() ...) or an aggregate "
                f"(Sum(...) ...), got {expression!r}"
            )
        if frame is not None and not isinstance(frame, _Frame):
            raise TypeError(f"frame= takes RowRange(...) or ValueRange(...), got {frame!r}")
        self.source: Expression = expression
        self.partition_by = [as_expression(e) for e in _listed(partition_by)]
        self.order_by = [_ordering(e) for e in _listed(order_by)]
        self.frame = frame
        self._output_field = output_field

    def __repr__(self) -> str:
        return f"Window({self.source!r})"

    def get_source_expressions(self) -> list[Expression]:
        return [self.source, *self.partition_by, *self.order_by]

    @property
    def has_aggregate(self) -> bool:
        # An aggregate OVER a window is computed per row: no GROUP BY.
        return False

    #: Read by the query layer: a condition on this annotation wraps the query.
    contains_over_clause: ClassVar[bool] = True

    def identity(self) -> tuple[Any, ...]:
        return (
            "W",
            self.source.identity(),
            tuple(e.identity() for e in self.partition_by),
            tuple(e.identity() for e in self.order_by),
            None if self.frame is None else self.frame.identity(),
            field_key(self._output_field),
        )

    def parameterize(self, values: list[Any], resolver: Resolver) -> Expression:
        new = Window.__new__(Window)
        new.source = self.source.parameterize(values, resolver)
        new.partition_by = [e.parameterize(values, resolver) for e in self.partition_by]
        new.order_by = [e.parameterize(values, resolver) for e in self.order_by]  # type: ignore[misc]
        new.frame = self.frame
        new._output_field = self._output_field
        return new

    def to_sa(self, ctx: CompileContext) -> ColumnElement[Any]:
        if not ctx.features.supports_window_functions:
            raise NotSupportedError(
                f"window functions are not supported on {ctx.ops.display_name} "
                "(this server version)"
            )
        source = self.source
        default = None
        if isinstance(source, Aggregate):
            function = source.function_sa(ctx)
            default = source.default
        else:
            assert isinstance(source, WindowFunction)
            function = source.function_sa(ctx)
        order: list[Any] = []
        for item in self.order_by:
            order.extend(item.to_sa_terms(ctx))
        frame: dict[str, Any] = {}
        if self.frame is not None:
            bounds = (self.frame.start, self.frame.end)
            frame = {"rows": bounds} if self.frame.kind == "rows" else {"range_": bounds}
        partition = [e.to_sa(ctx) for e in self.partition_by] or None
        over = function.over(partition_by=partition, order_by=order or None, **frame)
        if isinstance(source, _Offset) and len(source.source_expressions) == 2 and not (
            ctx.features.supports_lag_lead_default
        ):
            over = source.emulated_default(ctx, over, partition, order or None)
        if default is not None:
                return sa.func.coalesce(over, default.to_sa(ctx))
        return over

    def output_field(self, resolver: Resolver) -> Any:
        if self._output_field is not None:
            return self._output_field
        return self.source.output_field(resolver)

    def converter(self, ctx: CompileContext) -> Any:
        if self._output_field is not None:
            return ctx.field_converter(self._output_field)
        return self.source.converter(ctx)


class WindowFunction(Func):
    """A function that only makes sense in a ``Window`` (it refuses to compile outside one)."""

    #: Name of the result's field class (None: the first argument's field).
    result_field: ClassVar[str | None] = None

    def to_sa(self, ctx: CompileContext) -> ColumnElement[Any]:
        raise TypeError(f"{type(self).__name__}() is only valid inside Window(...)")

    def function_sa(self, ctx: CompileContext) -> Any:
        """The function call, to which the window's ``OVER`` is added."""
        return self.sql(ctx, [e.to_sa(ctx) for e in self.source_expressions])

    def output_field(self, resolver: Resolver) -> Any:
        if self._output_field is None and self.result_field is not None:
            return _Shared.get(self.result_field)
        return super().output_field(resolver)


class RowNumber(WindowFunction):
    """The row's number in its partition, from 1."""

    function = "row_number"
    arity = 0
    result_field = "IntegerField"


class Rank(WindowFunction):
    """The rank with gaps (ties share a rank; 1, 1, 3)."""

    function = "rank"
    arity = 0
    result_field = "IntegerField"


class DenseRank(WindowFunction):
    """The rank without gaps (1, 1, 2)."""

    function = "dense_rank"
    arity = 0
    result_field = "IntegerField"


class PercentRank(WindowFunction):
    """``(rank - 1) / (rows in partition - 1)``, a float from 0 to 1."""

    function = "percent_rank"
    arity = 0
    result_field = "FloatField"


class CumeDist(WindowFunction):
    """The fraction of partition rows ordered before or tied with this one."""

    function = "cume_dist"
    arity = 0
    result_field = "FloatField"


def _positive(value: Any, what: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{owner}'s {what} must be a positive integer, got {value!r}")
    return value


class Ntile(WindowFunction):
    """The bucket number (1 to ``num_buckets``) the row falls in."""

    function = "ntile"
    arity = 0
    result_field = "IntegerField"

    def __init__(self, num_buckets: int = 1) -> None:
        super().__init__()
        self.num_buckets = _positive(num_buckets, "num_buckets", "Ntile")

    def extra_identity(self) -> tuple[Any, ...]:
        return (self.num_buckets,)

    def sql(self, ctx: CompileContext, args: Sequence[Any]) -> Any:
        return sa.func.ntile(sa.literal_column(str(self.num_buckets), sa.Integer))


class _Offset(WindowFunction):
    """``LAG``/``LEAD``: the value ``offset`` rows before/after, or ``default``."""

    arity = None

    def __init__(self, expression: Any, offset: int = 1, default: Any = None) -> None:
        offset = _positive(offset, "offset", type(self).__name__)
        if default is None:
            super().__init__(expression)
        else:
            super().__init__(expression, default)
        self.offset = offset

    def extra_identity(self) -> tuple[Any, ...]:
        return (self.offset,)

    def sql(self, ctx: CompileContext, args: Sequence[Any]) -> Any:
        offset = sa.literal_column(str(self.offset), sa.Integer)
        value = args[0]
        extra = [offset]
        if len(args) == 2 and ctx.features.supports_lag_lead_default:
            extra.append(args[1])
        return getattr(sa.func, self.function)(value, *extra, type_=getattr(value, "type", None))

    def emulated_default(self, ctx: CompileContext, over: Any, partition: Any, order: Any) -> Any:
        """``CASE WHEN <a row exists offset rows away> THEN over ELSE default END``.

        Not ``COALESCE``: a NULL in the row ``offset`` away stays NULL, as with a
        native default.
        """
        number = sa.func.row_number().over(partition_by=partition, order_by=order)
        offset = sa.literal_column(str(self.offset), sa.Integer)
        if self.function == "lag":
            exists = number > offset
        else:
            total = sa.func.count(sa.literal_column("*")).over(partition_by=partition)
            exists = total - number >= offset
        return sa.case((exists, over), else_=self.source_expressions[1].to_sa(ctx))


class Lag(_Offset):
    """The value of ``expression`` ``offset`` rows before (``default`` when there is none)."""

    function = "lag"


class Lead(_Offset):
    """The value of ``expression`` ``offset`` rows after (``default`` when there is none)."""

    function = "lead"


class FirstValue(WindowFunction):
    """The value of ``expression`` in the frame's first row."""

    function = "first_value"
    arity = 1


class LastValue(WindowFunction):
    """The value of ``expression`` in the frame's last row (mind the default frame)."""

    function = "last_value"
    arity = 1


class NthValue(WindowFunction):
    """The value of ``expression`` in the frame's ``nth`` row (NULL when there is none)."""

    function = "nth_value"
    arity = None

    def __init__(self, expression: Any, nth: int = 1) -> None:
        super().__init__(expression)
        self.nth = _positive(nth, "nth", "NthValue")

    def extra_identity(self) -> tuple[Any, ...]:
        return (self.nth,)

    def sql(self, ctx: CompileContext, args: Sequence[Any]) -> Any:
        return sa.func.nth_value(args[0], sa.literal_column(str(self.nth), sa.Integer))
