"""Date/time transforms and Extract/Trunc functions in filters, values, annotate and order_by."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.exceptions import FieldError
from reinhardt_db.models import (
    Count,
    Extract,
    ExtractHour,
    ExtractIsoWeekDay,
    ExtractIsoYear,
    ExtractMonth,
    ExtractQuarter,
    ExtractWeek,
    ExtractWeekDay,
    ExtractYear,
    F,
    Trunc,
    TruncDate,
    TruncDay,
    TruncHour,
    TruncMinute,
    TruncMonth,
    TruncQuarter,
    TruncSecond,
    TruncTime,
    TruncWeek,
    TruncYear,
)
from reinhardt_db.models.sql.cache import statement_cache

UTC = dt.UTC


class Event(models.Model):
    title = models.CharField(max_length=20)
    at = models.DateTimeField(null=True)
    on = models.DateField(null=True)
    clock = models.TimeField(null=True)

    class Meta:
        app_label = "tests_datefuncs"


# 2021-01-03 is a Sunday in ISO week 53 of 2020; 2024-02-29 a Thursday; 2024-12-30 a Monday
# in ISO week 1 of 2025.
ROWS = [
    ("a", dt.datetime(2021, 1, 3, 23, 59, 58, 500000, tzinfo=UTC), dt.date(2021, 1, 3), dt.time(8, 5, 1)),
    ("b", dt.datetime(2024, 2, 29, 12, 30, 15, 123456, tzinfo=UTC), dt.date(2024, 2, 29), dt.time(12, 30)),
    ("c", dt.datetime(2024, 12, 30, 0, 0, 0, tzinfo=UTC), dt.date(2024, 12, 30), dt.time(23, 59, 59, 999999)),
    ("d", None, None, None),
]


@pytest.fixture
async def events(make_tables: Any) -> list[Event]:
    await make_tables(Event)
    return await Event.objects.bulk_create(
        [Event(title=t, at=at, on=on, clock=clock) for t, at, on, clock in ROWS]
    )


async def titles(qs: Any) -> list[str]:
    return [e.title for e in await qs]


async def test_time_transform(events: list[Event]) -> None:
    assert await titles(Event.objects.filter(at__time=dt.time(12, 30, 15, 123456))) == ["b"]
    assert await titles(Event.objects.filter(at__time__lt=dt.time(1)).order_by("title")) == ["c"]
    assert await titles(Event.objects.filter(at__time__gte=dt.time(12)).order_by("title")) == ["a", "b"]
    times = await Event.objects.order_by("title").values_list("at__time", flat=True)
    assert times == [dt.time(23, 59, 58, 500000), dt.time(12, 30, 15, 123456), dt.time(0), None]


async def test_transforms_in_annotate_and_order_by(events: list[Event]) -> None:
    rows = await Event.objects.filter(at__isnull=False).annotate(
        year=F("at__year"), week=F("on__week"), day=F("at__iso_week_day"), hour=F("clock__hour"),
    ).order_by("title").values_list("title", "year", "week", "day", "hour")
    assert rows == [("a", 2021, 53, 7, 8), ("b", 2024, 9, 4, 12), ("c", 2024, 1, 1, 23)]
    assert await titles(Event.objects.filter(at__isnull=False).order_by("at__hour", "title")) == [
        "c", "b", "a",
    ]
    assert await titles(Event.objects.filter(on__isnull=False).order_by(F("on__month").desc())) == [
        "c", "b", "a",
    ]
    by_year = await Event.objects.filter(at__isnull=False).values("at__year").annotate(
        n=Count("id")
    ).order_by("at__year")
    assert by_year == [{"at__year": 2021, "n": 1}, {"at__year": 2024, "n": 2}]
    assert await Event.objects.filter(at__date=F("on")).count() == 3


async def test_extract_functions(events: list[Event]) -> None:
    rows = await Event.objects.order_by("title").annotate(
        y=ExtractYear("at"), iy=ExtractIsoYear("on"), q=ExtractQuarter("at"), m=ExtractMonth("on"),
        w=ExtractWeek("at"), wd=ExtractWeekDay("on"), iwd=ExtractIsoWeekDay("at"),
        h=ExtractHour("clock"), s=Extract("clock", "second"), mi=Extract("at", "minute"),
    ).values_list("y", "iy", "q", "m", "w", "wd", "iwd", "h", "s", "mi")
    assert rows == [
        (2021, 2020, 1, 1, 53, 1, 7, 8, 1, 59),
        (2024, 2024, 1, 2, 9, 5, 4, 12, 0, 30),
        (2024, 2025, 4, 12, 1, 2, 1, 23, 59, 0),
        (None,) * 10,
    ]
    later = Event.objects.alias(year=ExtractYear("at")).filter(year__gte=2024)
    assert await titles(later.order_by("title")) == ["b", "c"]
    ordered = Event.objects.filter(at__isnull=False).order_by(ExtractHour("at").desc())
    assert await titles(ordered) == ["a", "b", "c"]


async def test_trunc_functions_on_date_times(events: list[Event]) -> None:
    def at(*parts: int) -> dt.datetime:
        return dt.datetime(*parts, tzinfo=UTC)

    rows = await Event.objects.filter(title="b").annotate(
        y=TruncYear("at"), q=TruncQuarter("at"), m=TruncMonth("at"), w=TruncWeek("at"),
        d=TruncDay("at"), h=TruncHour("at"), mi=TruncMinute("at"), s=TruncSecond("at"),
        date=TruncDate("at"), time=TruncTime("at"),
    ).values("y", "q", "m", "w", "d", "h", "mi", "s", "date", "time")
    assert rows == [{
        "y": at(2024, 1, 1), "q": at(2024, 1, 1), "m": at(2024, 2, 1), "w": at(2024, 2, 26),
        "d": at(2024, 2, 29), "h": at(2024, 2, 29, 12), "mi": at(2024, 2, 29, 12, 30),
        "s": at(2024, 2, 29, 12, 30, 15), "date": dt.date(2024, 2, 29),
        "time": dt.time(12, 30, 15, 123456),
    }]
    quarters = await Event.objects.filter(at__isnull=False).annotate(
        q=Trunc("at", "quarter")
    ).order_by("title").values_list("q", flat=True)
    assert quarters == [at(2021, 1, 1), at(2024, 1, 1), at(2024, 10, 1)]
    by_week = Event.objects.filter(at__isnull=False).order_by(TruncWeek("at").desc())
    assert await titles(by_week) == ["c", "b", "a"]
    # Filtering on a truncated value compares like a date-time.
    in_feb = Event.objects.alias(m=TruncMonth("at")).filter(m=at(2024, 2, 1))
    assert await titles(in_feb) == ["b"]


async def test_trunc_functions_on_dates(events: list[Event]) -> None:
    rows = await Event.objects.order_by("title").annotate(
        y=TruncYear("on"), q=TruncQuarter("on"), m=TruncMonth("on"), w=TruncWeek("on"),
        d=TruncDay("on"),
    ).values_list("y", "q", "m", "w", "d")
    assert rows == [
        (dt.date(2021, 1, 1), dt.date(2021, 1, 1), dt.date(2021, 1, 1), dt.date(2020, 12, 28),
         dt.date(2021, 1, 3)),
        (dt.date(2024, 1, 1), dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 2, 26),
         dt.date(2024, 2, 29)),
        (dt.date(2024, 1, 1), dt.date(2024, 10, 1), dt.date(2024, 12, 1), dt.date(2024, 12, 30),
         dt.date(2024, 12, 30)),
        (None, None, None, None, None),
    ]
    per_year = await Event.objects.filter(on__isnull=False).annotate(
        y=TruncYear("on")
    ).values("y").annotate(n=Count("id")).order_by("y")
    assert per_year == [{"y": dt.date(2021, 1, 1), "n": 1}, {"y": dt.date(2024, 1, 1), "n": 2}]


async def test_wrong_fields_and_kinds(events: list[Event]) -> None:
    with pytest.raises(FieldError, match="needs a DateField, DateTimeField or TimeField"):
        Event.objects.annotate(y=ExtractYear("title"))
    with pytest.raises(FieldError, match="Cannot extract 'hour' from a DateField"):
        Event.objects.annotate(h=ExtractHour("on"))
    with pytest.raises(FieldError, match="Cannot extract 'year' from a TimeField"):
        Event.objects.annotate(y=ExtractYear("clock"))
    with pytest.raises(FieldError, match="Cannot truncate a DateField to 'hour'"):
        Event.objects.annotate(h=TruncHour("on"))
    with pytest.raises(FieldError, match="does not take a TimeField"):
        Event.objects.annotate(h=TruncHour("clock"))
    with pytest.raises(FieldError, match="TruncDate\\(\\) takes a DateTimeField"):
        Event.objects.annotate(d=TruncDate("on"))
    with pytest.raises(ValueError, match="Extract\\(\\) parts are"):
        Extract("at", "fortnight")
    with pytest.raises(ValueError, match="Trunc\\(\\) kinds are"):
        Trunc("at", "decade")
    with pytest.raises(FieldError, match="Did you mean 'at'"):
        Event.objects.annotate(y=ExtractYear("att"))


async def test_functions_share_one_statement_per_shape(events: list[Event]) -> None:
    def query(kind: str, year: int) -> Any:
        return Event.objects.alias(y=Extract("at", kind)).filter(y=year).values_list(
            "title", flat=True
        )

    assert await query("year", 2021) == ["a"]
    size = len(statement_cache)
    assert sorted(await query("year", 2024)) == ["b", "c"]
    assert len(statement_cache) == size
    assert await query("month", 12) == ["c"]  # another part: another statement
    assert len(statement_cache) == size + 1


async def test_functions_of_expressions_aggregates_and_values(events: list[Event]) -> None:
    from reinhardt_db.models import Max, Min

    assert await Event.objects.aggregate(last=ExtractYear(Max("at")), first=ExtractMonth(Min("on"))) == {
        "last": 2024, "first": 1,
    }
    nested = await Event.objects.filter(title="b").annotate(
        q=ExtractQuarter(TruncMonth("at"))
    ).values_list("q", flat=True)
    assert nested == [1]
    rows = await Event.objects.filter(at__isnull=False).values(month=TruncMonth("at")).annotate(
        n=Count("id")
    ).order_by("month")
    assert [r["n"] for r in rows] == [1, 1, 1]
    assert rows[0]["month"] == dt.datetime(2021, 1, 1, tzinfo=UTC)
