"""Date and time fields.

``DateTimeField`` values are timezone-aware and UTC on every backend: a naive
datetime is an error, an aware one in another zone is converted to UTC.
PostgreSQL stores ``TIMESTAMP WITH TIME ZONE``, MySQL ``DATETIME(6)`` holding
UTC, SQLite ISO-8601 UTC text (``YYYY-MM-DD HH:MM:SS.ffffff``, fixed width so
text order is time order). ``TimeField`` holds naive times of day, and
``DurationField`` ``timedelta`` (``INTERVAL`` on PostgreSQL, a ``BIGINT`` of
microseconds elsewhere).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Literal, overload

import sqlalchemy as sa
from typing_extensions import Unpack

from reinhardt_db.backends.base.operations import DatabaseOperations
from reinhardt_db.exceptions import ValidationError
from reinhardt_db.models.fields.base import (
    _N,
    NOT_PROVIDED,
    DbConverter,
    Field,
    FieldOptions,
)

if TYPE_CHECKING:
    from reinhardt_db.models.expressions import FieldRef

__all__ = ["DateField", "DateTimeField", "DurationField", "TimeField"]

UTC = dt.UTC


class _AutoNowMixin(Generic[_N]):
    """``auto_now`` (every save) and ``auto_now_add`` (first save) set the current time."""

    auto_now: bool
    auto_now_add: bool
    attname: str
    default: Any

    def __init__(
        self,
        verbose_name: str | None = None,
        *,
        auto_now: bool = False,
        auto_now_add: bool = False,
        **kwargs: Unpack[FieldOptions[_N]],
    ) -> None:
        if auto_now or auto_now_add:
            kwargs.setdefault("editable", False)
            kwargs.setdefault("blank", True)
        super().__init__(verbose_name, **kwargs)  # type: ignore[call-arg,misc]
        self.auto_now, self.auto_now_add = auto_now, auto_now_add

    def check_definition(self) -> None:
        """Reject ``auto_now`` with ``auto_now_add`` or with ``default``."""
        super().check_definition()  # type: ignore[misc]
        if self.auto_now and self.auto_now_add:
            self.fail("auto_now and auto_now_add are mutually exclusive; keep one.")  # type: ignore[attr-defined]
        if (self.auto_now or self.auto_now_add) and self.default is not NOT_PROVIDED:
            option = "auto_now" if self.auto_now else "auto_now_add"
            self.fail(  # type: ignore[attr-defined]
                f"{option} and default are mutually exclusive; {option} already supplies "
                "the value, so remove default (or drop the auto option)."
            )

    def _now(self) -> Any:
        raise NotImplementedError

    def pre_save(self, instance: Any, add: bool) -> Any:
        """Stamp the current time for ``auto_now``, or ``auto_now_add`` on insert."""
        if self.auto_now or (self.auto_now_add and add):
            value = self._now()
            setattr(instance, self.attname, value)
            return value
        return super().pre_save(instance, add)  # type: ignore[misc]

    def _deconstruct_extra(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.auto_now:
            extra["auto_now"] = True
        if self.auto_now_add:
            extra["auto_now_add"] = True
        return extra


class DateField(_AutoNowMixin[_N], Field[dt.date, _N]):
    """A calendar date (``DATE``)."""

    empty_strings_allowed = False
    python_type = dt.date
    description = "Date (without time)"

    def _now(self) -> dt.date:
        return dt.datetime.now(UTC).date()

    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return ``DATE``."""
        return sa.Date()

    def to_python(self, value: Any) -> dt.date | None:
        """Coerce datetimes (their UTC date) and ISO strings to ``date``."""
        if value is None or type(value) is dt.date:
            return value
        if isinstance(value, dt.datetime):
            if value.utcoffset() is None:
                return value.date()
            return self._utc_of(value).date()
        if isinstance(value, dt.date):
            return dt.date(value.year, value.month, value.day)
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                try:
                    return dt.datetime.fromisoformat(value.strip()).date()
                except ValueError:
                    pass
        raise self.invalid(value, "a date (YYYY-MM-DD)")

    def db_adapter(self, ops: DatabaseOperations) -> Callable[[Any], Any] | None:
        """Return the backend's adapter (ISO text on SQLite; the drivers take ``date``)."""
        return ops.date_adapter()

    def db_value_check(self, ops: DatabaseOperations) -> Callable[[Any], Any] | None:
        """Refuse dates outside what the backend stores exactly (``ops.date_range()``)."""
        return _backend_range(self, ops, ops.date_range(), _same)

    def db_converter(self, ops: DatabaseOperations) -> DbConverter | None:
        """Return the backend's converter (an ISO text parser on SQLite)."""
        return ops.date_converter()

    def _utc_of(self, value: dt.datetime) -> dt.datetime:
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValidationError(
                f"{self.label}: {value.isoformat()} is outside the years 1 to 9999 in UTC, "
                "the range of Python's datetime",
                code="out_of_range",
            ) from None


class DateTimeField(DateField[_N]):
    """A timezone-aware UTC date and time, microsecond precision on every backend."""

    python_type = dt.datetime
    description = "Date (with time)"

    if TYPE_CHECKING:  # values are datetimes although the class extends DateField

        @overload
        def __get__(self, instance: None, owner: type[Any]) -> FieldRef: ...

        @overload
        def __get__(
            self: DateTimeField[Literal[False]], instance: object, owner: type[Any]
        ) -> dt.datetime: ...

        @overload
        def __get__(self, instance: object, owner: type[Any]) -> dt.datetime | None: ...

        def __get__(self, instance: object | None, owner: type[Any]) -> Any: ...

    def _now(self) -> dt.datetime:
        return dt.datetime.now(UTC)

    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return ``DATETIME`` (PostgreSQL ``TIMESTAMP WITH TIME ZONE``, MySQL ``DATETIME(6)``)."""
        return sa.DateTime()

    def to_python(self, value: Any) -> dt.datetime | None:
        """Coerce ISO strings and dates (midnight UTC) to an aware UTC ``datetime``."""
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                raise self.invalid(value, "an ISO 8601 date and time") from None
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return dt.datetime(value.year, value.month, value.day, tzinfo=UTC)
        elif not isinstance(value, dt.datetime):
            raise self.invalid(value, "a datetime")
        return self._to_utc(value)

    def _to_utc(self, value: dt.datetime) -> dt.datetime:
        if value.utcoffset() is None:
            raise ValidationError(
                f"{self.label} received a naive datetime ({value.isoformat()}); use an "
                "aware datetime, e.g. datetime.now(timezone.utc) or "
                "value.replace(tzinfo=timezone.utc).",
                code="naive_datetime",
            )
        return value if value.tzinfo is UTC else self._utc_of(value)

    def db_adapter(self, ops: DatabaseOperations) -> Callable[[Any], Any] | None:
        """Return the backend's adapter of the value converted to UTC (or refused if naive)."""
        return ops.datetime_adapter(self._to_utc)

    def db_value_check(self, ops: DatabaseOperations) -> Callable[[Any], Any] | None:
        """Refuse instants outside what the backend stores exactly (``ops.datetime_range()``)."""
        return _backend_range(self, ops, ops.datetime_range(), self._to_utc)

    def db_converter(self, ops: DatabaseOperations) -> DbConverter | None:
        """Return the backend's converter (None where the driver gives aware UTC already)."""
        return ops.datetime_converter()


class TimeField(_AutoNowMixin[_N], Field[dt.time, _N]):
    """A time of day without time zone (``TIME``; ``TIME(6)`` on MySQL)."""

    empty_strings_allowed = False
    python_type = dt.time
    description = "Time"

    def _now(self) -> dt.time:
        return dt.datetime.now(UTC).time()

    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return ``TIME`` (``TIME(6)`` on MySQL for microseconds)."""
        return sa.Time()

    def to_python(self, value: Any) -> dt.time | None:
        """Coerce ISO strings and datetimes to a naive ``time``."""
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            value = value.time()
        elif isinstance(value, str):
            try:
                value = dt.time.fromisoformat(value.strip())
            except ValueError:
                raise self.invalid(value, "a time (HH:MM[:SS[.ffffff]])") from None
        elif not isinstance(value, dt.time):
            raise self.invalid(value, "a time")
        if value.tzinfo is not None:
            raise ValidationError(
                f"{self.label} stores a time of day without time zone; got {value.isoformat()}. "
                "Pass value.replace(tzinfo=None), or use a DateTimeField for instants.",
                code="aware_time",
            )
        return value

    def db_adapter(self, ops: DatabaseOperations) -> Callable[[Any], Any] | None:
        """Return the backend's adapter (fixed-width ISO text on SQLite)."""
        return ops.time_adapter()

    def db_value_check(self, ops: DatabaseOperations) -> Callable[[Any], Any] | None:
        """Refuse an aware ``time`` (``to_python`` does; a ``time`` skips it on the fast path)."""
        to_python = self.to_python

        def check(value: dt.time) -> dt.time:
            return value if value.tzinfo is None else to_python(value)  # type: ignore[return-value]

        return check

    def db_converter(self, ops: DatabaseOperations) -> DbConverter | None:
        """Return the backend's converter (a text parser on SQLite, timedelta -> time on MySQL)."""
        return ops.time_converter()


def _same(value: Any) -> Any:
    return value


DURATION_MAX = dt.timedelta(microseconds=2**63 - 1)
DURATION_MIN = -DURATION_MAX


def _range_check(
    field: Field[Any, Any],
    bounds: tuple[Any, Any] | None,
    normalize: Callable[[Any], Any],
    where: str,
) -> Callable[[Any], Any] | None:
    """Return a check refusing values outside ``bounds`` (inclusive), or None without bounds.

    ``where`` ends the message: who cannot store the value, and why.
    """
    if bounds is None:
        return None
    low, high = bounds

    def check(value: Any) -> Any:
        try:
            # Aware datetimes compare by instant whatever their zone: no conversion needed.
            if low <= value <= high:
                return value
        except TypeError:  # a naive datetime: normalize() says what is wrong with it
            if low <= normalize(value) <= high:
                return value
        raise field.data_error(
            f"{value} is outside the range of {type(field).__name__} "
            f"({low} to {high}) {where}"
        )

    return check


def _backend_range(
    field: Field[Any, Any], ops: DatabaseOperations, bounds: tuple[Any, Any] | None,
    normalize: Callable[[Any], Any],
) -> Callable[[Any], Any] | None:
    note = ops.range_note(field.get_internal_type())
    return _range_check(field, bounds, normalize, f"on {ops.display_name}: {note}")


_DURATION_RE = re.compile(
    r"^(?:(?P<days>-?\d+) days?,? )?(?P<sign>-?)(?P<hours>\d+):(?P<minutes>\d\d):"
    r"(?P<seconds>\d\d)(?:\.(?P<micro>\d{1,6}))?$"
)
_ISO_DURATION_RE = re.compile(
    r"^(?P<sign>[-+]?)P(?:(?P<days>\d+(?:\.\d+)?)D)?(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?"
    r"(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


class DurationField(Field[dt.timedelta, _N]):
    """A ``timedelta``: ``INTERVAL`` on PostgreSQL, ``BIGINT`` microseconds elsewhere."""

    empty_strings_allowed = False
    python_type = dt.timedelta
    description = "Duration"

    def column_type(self) -> sa.types.TypeEngine[Any]:
        """Return ``BIGINT`` of microseconds (``INTERVAL`` on PostgreSQL)."""
        return sa.BigInteger()

    def to_python(self, value: Any) -> dt.timedelta | None:
        """Coerce ``str(timedelta)`` forms and ISO 8601 durations (``P1DT2H``)."""
        if value is None or isinstance(value, dt.timedelta):
            return value
        if isinstance(value, str):
            parsed = _parse_duration(value.strip())
            if parsed is not None:
                return parsed
        raise self.invalid(value, "a duration (timedelta, '1 day, 2:03:04' or 'P1DT2H3M4S')")

    def db_adapter(self, ops: DatabaseOperations) -> Callable[[Any], Any] | None:
        """Return the backend's adapter (timedelta -> microseconds without an interval type)."""
        return ops.duration_adapter()

    def value_range(self) -> tuple[Any, Any] | None:
        """Return +-(2**63 - 1) microseconds (a ``BIGINT``), the same on every backend.

        PostgreSQL's ``INTERVAL`` would hold more; the limit keeps every backend alike.
        """
        return DURATION_MIN, DURATION_MAX

    def db_value_check(self, ops: DatabaseOperations) -> Callable[[Any], Any] | None:
        """Refuse durations beyond +-(2**63 - 1) microseconds (about 292,000 years)."""
        return _range_check(
            self, (DURATION_MIN, DURATION_MAX), _same,
            "on every backend (a BIGINT of microseconds where there is no interval type)",
        )

    def db_converter(self, ops: DatabaseOperations) -> DbConverter | None:
        """Return the backend's converter (microseconds -> timedelta)."""
        return ops.duration_converter()


def _parse_duration(text: str) -> dt.timedelta | None:
    match = _DURATION_RE.match(text)
    if match:
        parts = match.groupdict()
        sign = -1 if parts["sign"] else 1
        micro = int((parts["micro"] or "0").ljust(6, "0"))
        clock = dt.timedelta(
            hours=int(parts["hours"]), minutes=int(parts["minutes"]),
            seconds=int(parts["seconds"]), microseconds=micro,
        )
        return dt.timedelta(days=int(parts["days"] or 0)) + sign * clock
    match = _ISO_DURATION_RE.match(text)
    if match and text not in ("P", "-P", "+P") and not text.endswith("T"):
        parts = match.groupdict()
        sign = -1 if parts["sign"] == "-" else 1
        kwargs = {k: float(parts[k]) for k in ("days", "hours", "minutes", "seconds") if parts[k]}
        return sign * dt.timedelta(**kwargs)
    return None
