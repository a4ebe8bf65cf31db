"""Date functions for annotations, ordering and ``values()``: ``Extract`` and ``Trunc``.

They are the expression forms of the date transforms (``stamp__year``), for
where a name does not fit::

    months = TruncMonth("published")
    await Post.objects.annotate(month=months).values("month").annotate(n=Count("id"))
    await Post.objects.order_by(ExtractHour("published"), "title")
    await Post.objects.alias(year=ExtractYear("published")).filter(year__gte=2024)

``Extract*`` give integers (the same parts, same conventions and UTC as the
transforms: ``week_day`` 1 = Sunday, ``iso_week_day`` 1 = Monday, ISO weeks).
``Trunc*`` give the start of the period: a date for a ``DateField``, an aware
UTC date-time for a ``DateTimeField`` (``TruncDate``/``TruncTime`` take the
date or the time of day of a date-time). Weeks start on Monday. The SQL of
each comes from the backend (``ops.extract``, ``ops.truncate``,
``ops.cast_date``, ``ops.cast_time``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from reinhardt_db.backends.base.operations import TRUNC_KINDS
from reinhardt_db.exceptions import FieldError
from reinhardt_db.models.expressions import Expression, F

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

    from reinhardt_db.models.sql.context import CompileContext, Resolver

__all__ = [
    "Extract",
    "ExtractDay",
    "ExtractHour",
    "ExtractIsoWeekDay",
    "ExtractIsoYear",
    "ExtractMinute",
    "ExtractMonth",
    "ExtractQuarter",
    "ExtractSecond",
    "ExtractWeek",
    "ExtractWeekDay",
    "ExtractYear",
    "Trunc",
    "TruncDate",
    "TruncDay",
    "TruncHour",
    "TruncMinute",
    "TruncMonth",
    "TruncQuarter",
    "TruncSecond",
    "TruncTime",
    "TruncWeek",
    "TruncYear",
]

_DATE_PARTS = frozenset({
    "year", "month", "day", "week", "week_day", "iso_week_day", "quarter", "iso_year",
})
_TIME_PARTS = frozenset({"hour", "minute", "second"})
_DATE_TRUNC = frozenset(TRUNC_KINDS[:5])  # year ... day


def _field(name: str) -> Any:
    """One shared, unbound field instance per class (types the results)."""
    found = _FIELDS.get(name)
    if found is None:
        from reinhardt_db.models import fields

        found = _FIELDS[name] = getattr(fields, name)()
    return found


_FIELDS: dict[str, Any] = {}


def _kind_of(field: Any) -> str | None:
    """``"datetime"``, ``"date"``, ``"time"`` or None for the field an expression gives."""
    if field is None:
        return None
    for klass in type(field).__mro__:
        name = klass.__name__
        if name == "DateTimeField":
            return "datetime"
        if name == "DateField":
            return "date"
        if name == "TimeField":
            return "time"
    return None


class _DateFunction(Expression):
    """A function of one date, date-time or time expression (a field name or expression)."""

    __slots__ = ("expression", "kind", "source_kind")

    #: Set by subclasses: the part or period, e.g. ``"year"``.
    default_kind: ClassVar[str] = ""
    function_name: ClassVar[str] = ""

    def __init__(self, expression: Any, kind: str | None = None) -> None:
        self.expression: Expression = F(expression) if isinstance(expression, str) else expression
        if not isinstance(self.expression, Expression):
            raise TypeError(
                f"{type(self).__name__}() takes a field name or an expression, got {expression!r}"
            )
        self.kind = kind or self.default_kind
        self.source_kind: str | None = None
        self._check_kind()

    def _check_kind(self) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.expression!r}, {self.kind!r})"

    def get_source_expressions(self) -> list[Expression]:
        return [self.expression]

    def identity(self) -> tuple[Any, ...]:
        return (self.function_name, self.kind, self.source_kind, self.expression.identity())

    def resolve(self, resolver: Resolver) -> None:
        self.expression.resolve(resolver)
        source = _kind_of(self.expression.output_field(resolver))
        if source is None:
            raise FieldError(
                f"{type(self).__name__}() needs a DateField, DateTimeField or TimeField, "
                f"got {self.expression!r}"
            )
        self._check_source(source)
        self.source_kind = source

    def _check_source(self, source: str) -> None:
        raise NotImplementedError

    def parameterize(self, values: list[Any], resolver: Resolver) -> Expression:
        new = type(self).__new__(type(self))
        new.expression = self.expression.parameterize(values, resolver)
        new.kind = self.kind
        new.source_kind = self.source_kind or _kind_of(self.expression.output_field(resolver))
        return new

    @property
    def has_aggregate(self) -> bool:
        return self.expression.has_aggregate


class Extract(_DateFunction):
    """One integer part of a date, date-time or time: ``Extract("published", "year")``."""

    function_name = "extract"

    def _check_kind(self) -> None:
        if self.kind not in _DATE_PARTS | _TIME_PARTS:
            raise ValueError(
                f"Extract() parts are {', '.join(sorted(_DATE_PARTS | _TIME_PARTS))}; "
                f"got {self.kind!r}"
            )

    def _check_source(self, source: str) -> None:
        if source == "date" and self.kind in _TIME_PARTS:
            raise FieldError(f"Cannot extract {self.kind!r} from a DateField (no time of day)")
        if source == "time" and self.kind in _DATE_PARTS:
            raise FieldError(f"Cannot extract {self.kind!r} from a TimeField (no date)")

    def to_sa(self, ctx: CompileContext) -> ColumnElement[Any]:
        return ctx.ops.extract(self.kind, self.expression.to_sa(ctx))

    def output_field(self, resolver: Resolver) -> Any:
        return _field("IntegerField")


class ExtractYear(Extract):
    """The year."""

    default_kind = "year"


class ExtractIsoYear(Extract):
    """The ISO 8601 week-numbering year."""

    default_kind = "iso_year"


class ExtractQuarter(Extract):
    """The quarter, 1-4."""

    default_kind = "quarter"


class ExtractMonth(Extract):
    """The month, 1-12."""

    default_kind = "month"


class ExtractWeek(Extract):
    """The ISO 8601 week number, 1-53."""

    default_kind = "week"


class ExtractDay(Extract):
    """The day of the month."""

    default_kind = "day"


class ExtractWeekDay(Extract):
    """The day of the week, 1 = Sunday ... 7 = Saturday."""

    default_kind = "week_day"


class ExtractIsoWeekDay(Extract):
    """The ISO day of the week, 1 = Monday ... 7 = Sunday."""

    default_kind = "iso_week_day"


class ExtractHour(Extract):
    """The hour, 0-23 (UTC)."""

    default_kind = "hour"


class ExtractMinute(Extract):
    """The minute, 0-59."""

    default_kind = "minute"


class ExtractSecond(Extract):
    """The whole second, 0-59."""

    default_kind = "second"


class Trunc(_DateFunction):
    """The start of the ``kind`` period holding a date or date-time: ``Trunc("at", "month")``.

    A ``DateField`` gives a date (down to ``day``), a ``DateTimeField`` an aware
    UTC date-time (down to ``second``).
    """

    function_name = "trunc"

    def _check_kind(self) -> None:
        if self.kind not in (*TRUNC_KINDS, "date", "time"):
            raise ValueError(
                f"Trunc() kinds are {', '.join(TRUNC_KINDS)}, date, time; got {self.kind!r}"
            )

    def _check_source(self, source: str) -> None:
        if source == "time":
            raise FieldError(f"{type(self).__name__}() does not take a TimeField")
        if source == "date" and self.kind not in _DATE_TRUNC:
            raise FieldError(
                f"Cannot truncate a DateField to {self.kind!r}; "
                f"use one of {', '.join(sorted(_DATE_TRUNC))}"
            )

    def to_sa(self, ctx: CompileContext) -> ColumnElement[Any]:
        expr = self.expression.to_sa(ctx)
        if self.kind == "date":
            return ctx.ops.cast_date(expr)
        if self.kind == "time":
            return ctx.ops.cast_time(expr)
        return ctx.ops.truncate(
            self.kind, expr, "date" if self.source_kind == "date" else "datetime"
        )

    def output_field(self, resolver: Resolver) -> Any:
        if self.kind == "date":
            return _field("DateField")
        if self.kind == "time":
            return _field("TimeField")
        source = self.source_kind or _kind_of(self.expression.output_field(resolver))
        return _field("DateField" if source == "date" else "DateTimeField")


class TruncYear(Trunc):
    """January 1st of the year."""

    default_kind = "year"


class TruncQuarter(Trunc):
    """The first day of the quarter."""

    default_kind = "quarter"


class TruncMonth(Trunc):
    """The first day of the month."""

    default_kind = "month"


class TruncWeek(Trunc):
    """The Monday of the (ISO) week."""

    default_kind = "week"


class TruncDay(Trunc):
    """Midnight of the day."""

    default_kind = "day"


class TruncHour(Trunc):
    """The start of the hour."""

    default_kind = "hour"


class TruncMinute(Trunc):
    """The start of the minute."""

    default_kind = "minute"


class TruncSecond(Trunc):
    """The start of the second."""

    default_kind = "second"


class TruncDate(Trunc):
    """The date of a date-time (UTC)."""

    default_kind = "date"

    def _check_source(self, source: str) -> None:
        if source != "datetime":
            raise FieldError("TruncDate() takes a DateTimeField")


class TruncTime(Trunc):
    """The time of day of a date-time (UTC)."""

    default_kind = "time"

    def _check_source(self, source: str) -> None:
        if source != "datetime":
            raise FieldError("TruncTime() takes a DateTimeField")
