"""Date and time transforms: ``created_at__year``, ``created_at__date``, ``__week_day`` ...

``TimeField`` has ``hour``, ``minute`` and ``second``; ``DateTimeField`` also
``date`` and ``time``.

Each extracts one part of a date or date-time as an integer (``date`` gives a
date). Date-times are stored in UTC on every backend and the sessions run in
UTC, so the parts are UTC parts. Weeks and ISO years follow ISO 8601; ``week_day``
counts 1 = Sunday ... 7 = Saturday (Django's convention), ``iso_week_day``
1 = Monday ... 7 = Sunday. The SQL of each part comes from the backend
(``ops.extract``, ``ops.cast_date``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from reinhardt_db.models.lookups import Transform

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

__all__ = [
    "DATETIME_TRANSFORMS",
    "DATE_TRANSFORMS",
    "TIME_TRANSFORMS",
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
    "TruncDate",
    "TruncTime",
]


class LazyField:
    """A class attribute that builds a field instance on first use (fields load later)."""

    def __init__(self, class_name: str) -> None:
        self.class_name = class_name
        self.value: Any = None

    def __get__(self, instance: Any, owner: type) -> Any:
        if self.value is None:
            from reinhardt_db.models import fields

            self.value = getattr(fields, self.class_name)()
        return self.value


class Extract(Transform):
    """Extract one integer part (``part``) of a date/date-time: ``ops.extract`` builds it."""

    output_field: ClassVar[Any] = LazyField("IntegerField")
    part: ClassVar[str] = ""

    def as_expression(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return self.ops.extract(self.part, lhs)


class ExtractYear(Extract):
    """The year."""

    lookup_name = part = "year"


class ExtractMonth(Extract):
    """The month, 1-12."""

    lookup_name = part = "month"


class ExtractDay(Extract):
    """The day of the month, 1-31."""

    lookup_name = part = "day"


class ExtractHour(Extract):
    """The hour, 0-23 (UTC)."""

    lookup_name = part = "hour"


class ExtractMinute(Extract):
    """The minute, 0-59."""

    lookup_name = part = "minute"


class ExtractSecond(Extract):
    """The whole second, 0-59."""

    lookup_name = part = "second"


class ExtractQuarter(Extract):
    """The quarter, 1-4."""

    lookup_name = part = "quarter"


class ExtractWeek(Extract):
    """The ISO 8601 week number, 1-53."""

    lookup_name = part = "week"


class ExtractIsoYear(Extract):
    """The ISO 8601 week-numbering year."""

    lookup_name = part = "iso_year"


class ExtractWeekDay(Extract):
    """The day of the week, 1 = Sunday ... 7 = Saturday."""

    lookup_name = part = "week_day"


class ExtractIsoWeekDay(Extract):
    """The ISO day of the week, 1 = Monday ... 7 = Sunday."""

    lookup_name = part = "iso_week_day"


class TruncDate(Transform):
    """The date part of a date-time (UTC)."""

    lookup_name = "date"
    output_field: ClassVar[Any] = LazyField("DateField")

    def as_expression(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return self.ops.cast_date(lhs)


class TruncTime(Transform):
    """The time of day of a date-time (UTC)."""

    lookup_name = "time"
    output_field: ClassVar[Any] = LazyField("TimeField")

    def as_expression(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return self.ops.cast_time(lhs)


DATE_TRANSFORMS: tuple[type[Transform], ...] = (
    ExtractYear, ExtractMonth, ExtractDay, ExtractWeek, ExtractWeekDay, ExtractIsoWeekDay,
    ExtractQuarter, ExtractIsoYear,
)
TIME_TRANSFORMS: tuple[type[Transform], ...] = (ExtractHour, ExtractMinute, ExtractSecond)
DATETIME_TRANSFORMS: tuple[type[Transform], ...] = (
    *DATE_TRANSFORMS, TruncDate, TruncTime, *TIME_TRANSFORMS,
)
