"""Date and time transforms: ``created_at__year``, ``created_at__date``, ``__week_day`` ...

Each extracts one part of a date or date-time as an integer (``date`` gives a
date). Date-times are stored in UTC on every backend and the sessions run in
UTC, so the parts are UTC parts. Weeks and ISO years follow ISO 8601; ``week_day``
counts 1 = Sunday ... 7 = Saturday (Django's convention), ``iso_week_day``
1 = Monday ... 7 = Sunday.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa

from reinhardt_db.models.expressions import sql_divide
from reinhardt_db.models.lookups import Transform

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

__all__ = [
    "DATETIME_TRANSFORMS",
    "DATE_TRANSFORMS",
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


def _lit(text: str, type_: Any = sa.Integer) -> ColumnElement[Any]:
    """A constant of this module's own SQL (never user input)."""
    return sa.literal_column(text, type_)


def _strftime(fmt: str, lhs: Any) -> ColumnElement[Any]:
    return sa.cast(sa.func.strftime(_lit(f"'{fmt}'", sa.String), lhs), sa.Integer)


def _iso_thursday(lhs: Any) -> ColumnElement[Any]:
    # The Thursday of a date's ISO week decides its ISO year and week number.
    return sa.func.date(lhs, _lit("'-3 days'", sa.String), _lit("'weekday 4'", sa.String))


class Extract(Transform):
    """Extract one integer part of a date/date-time.

    ``pg`` names the PostgreSQL ``EXTRACT`` field, ``sqlite`` the ``strftime``
    format; subclasses override ``as_<vendor>`` where a backend needs more.
    """

    output_field: ClassVar[Any] = LazyField("IntegerField")
    pg: ClassVar[str] = ""
    mysql: ClassVar[str] = ""
    sqlite: ClassVar[str] = ""

    def as_postgresql(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return sa.cast(sa.extract(self.pg, lhs), sa.Integer)

    def as_mysql(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return sa.cast(sa.extract(self.mysql or self.pg, lhs), sa.Integer)

    def as_sqlite(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return _strftime(self.sqlite, lhs)


class ExtractYear(Extract):
    """The year."""

    lookup_name = "year"
    pg, sqlite = "year", "%Y"


class ExtractMonth(Extract):
    """The month, 1-12."""

    lookup_name = "month"
    pg, sqlite = "month", "%m"


class ExtractDay(Extract):
    """The day of the month, 1-31."""

    lookup_name = "day"
    pg, sqlite = "day", "%d"


class ExtractHour(Extract):
    """The hour, 0-23 (UTC)."""

    lookup_name = "hour"
    pg, sqlite = "hour", "%H"


class ExtractMinute(Extract):
    """The minute, 0-59."""

    lookup_name = "minute"
    pg, sqlite = "minute", "%M"


class ExtractSecond(Extract):
    """The whole second, 0-59."""

    lookup_name = "second"
    pg, sqlite = "second", "%S"

    def as_postgresql(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return sa.cast(sa.func.floor(sa.extract("second", lhs)), sa.Integer)


class ExtractQuarter(Extract):
    """The quarter, 1-4."""

    lookup_name = "quarter"
    pg = "quarter"

    def as_sqlite(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return sql_divide(_strftime("%m", lhs) + _lit("2"), _lit("3"))


class ExtractWeek(Extract):
    """The ISO 8601 week number, 1-53."""

    lookup_name = "week"
    pg = "week"

    def as_mysql(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return sa.func.week(lhs, _lit("3"))

    def as_sqlite(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        day_of_year = _strftime("%j", _iso_thursday(lhs))
        return sql_divide(day_of_year - _lit("1"), _lit("7")) + _lit("1")


class ExtractIsoYear(Extract):
    """The ISO 8601 week-numbering year."""

    lookup_name = "iso_year"
    pg = "isoyear"

    def as_mysql(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return sa.func.yearweek(lhs, _lit("3")).op("DIV")(_lit("100"))

    def as_sqlite(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return _strftime("%Y", _iso_thursday(lhs))


class ExtractWeekDay(Extract):
    """The day of the week, 1 = Sunday ... 7 = Saturday."""

    lookup_name = "week_day"
    pg = "dow"

    def as_postgresql(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return super().as_postgresql(lhs) + _lit("1")

    def as_mysql(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return sa.func.dayofweek(lhs)

    def as_sqlite(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return _strftime("%w", lhs) + _lit("1")


class ExtractIsoWeekDay(Extract):
    """The ISO day of the week, 1 = Monday ... 7 = Sunday."""

    lookup_name = "iso_week_day"
    pg = "isodow"

    def as_mysql(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return sa.func.weekday(lhs) + _lit("1")

    def as_sqlite(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return (_strftime("%w", lhs) + _lit("6")) % _lit("7") + _lit("1")


class TruncDate(Transform):
    """The date part of a date-time (UTC)."""

    lookup_name = "date"
    output_field: ClassVar[Any] = LazyField("DateField")

    def as_postgresql(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return sa.cast(lhs, sa.Date)

    def as_expression(self, lhs: ColumnElement[Any]) -> ColumnElement[Any]:
        return sa.func.date(lhs)


DATE_TRANSFORMS: tuple[type[Transform], ...] = (
    ExtractYear, ExtractMonth, ExtractDay, ExtractWeek, ExtractWeekDay, ExtractIsoWeekDay,
    ExtractQuarter, ExtractIsoYear,
)
DATETIME_TRANSFORMS: tuple[type[Transform], ...] = (
    *DATE_TRANSFORMS, TruncDate, ExtractHour, ExtractMinute, ExtractSecond,
)
