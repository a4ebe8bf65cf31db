"""The query layer answers as Django does on the same data, on every backend.

Covers: ``none()`` as a subquery, ``exclude(a=F("b"))`` with NULLs, values outside
a column's range in filters (Django 5's rule), ``in`` lists longer than a
backend binds, ``None`` on a JSON field, ``TimeField`` transforms, and the
compiled-statement cache keys of expressions holding constants.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.models import Expression, F, JSONNull, Q, Value
from reinhardt_db.models.sql.cache import statement_cache

from .._sql import captured


class Row(models.Model):
    name = models.CharField(max_length=20)
    a = models.IntegerField(null=True)
    b = models.IntegerField(null=True)
    big = models.BigIntegerField(null=True)
    score = models.FloatField(null=True)
    price = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    span = models.DurationField(null=True)
    clock = models.TimeField(null=True)

    class Meta:
        app_label = "tests_parity"


class Tag(models.Model):
    row_id = models.IntegerField()

    class Meta:
        app_label = "tests_parity"


@pytest.fixture
async def rows(make_tables: Any) -> list[Row]:
    await make_tables(Row, Tag)
    created = await Row.objects.bulk_create([
        Row(name="one", a=1, b=1, big=10, score=1.5, price=Decimal("1.00"),
            span=dt.timedelta(seconds=1), clock=dt.time(13, 45, 30)),
        Row(name="two", a=2, b=3, big=20, score=-2.0, price=Decimal("2.50"),
            span=dt.timedelta(days=2), clock=dt.time(0, 5, 59, 999999)),
        Row(name="nulls", a=None, b=None),
        Row(name="b-null", a=4, b=None),
        Row(name="a-null", a=None, b=5),
    ])
    await Tag.objects.bulk_create([Tag(row_id=created[0].pk), Tag(row_id=created[1].pk)])
    return created


async def names(qs: Any) -> list[str]:
    return sorted(await qs.values_list("name", flat=True))


ALL = ["a-null", "b-null", "nulls", "one", "two"]


# -- none() ---------------------------------------------------------------------------------


async def test_none_as_a_subquery_matches_nothing(rows: list[Row]) -> None:
    nothing = Tag.objects.none().values_list("row_id", flat=True)
    assert await names(Row.objects.filter(pk__in=nothing)) == []
    assert await names(Row.objects.exclude(pk__in=nothing)) == ALL
    assert await names(Row.objects.filter(Q(pk__in=nothing) | Q(name="one"))) == ["one"]
    assert await Row.objects.filter(pk__in=Tag.objects.none()).count() == 0
    # The same query over a real subquery still works.
    some = Tag.objects.values_list("row_id", flat=True)
    assert await names(Row.objects.filter(pk__in=some)) == ["one", "two"]


async def test_none_is_part_of_the_cache_key(rows: list[Row]) -> None:
    tags = Tag.objects.values_list("row_id", flat=True)
    assert await names(Row.objects.filter(pk__in=tags)) == ["one", "two"]
    assert await names(Row.objects.filter(pk__in=tags.none())) == []
    assert await names(Row.objects.filter(pk__in=tags)) == ["one", "two"]
    assert Row.objects.none().query.key() != Row.objects.all().query.key()


# -- exclude with F() and NULLs --------------------------------------------------------------


async def test_exclude_f_keeps_rows_where_the_other_column_is_null(rows: list[Row]) -> None:
    # Django: NOT (a = b AND a IS NOT NULL AND b IS NOT NULL)
    assert await names(Row.objects.exclude(a=F("b"))) == ["a-null", "b-null", "nulls", "two"]
    assert await names(Row.objects.filter(a=F("b"))) == ["one"]
    assert await names(Row.objects.exclude(a__lt=F("b"))) == ["a-null", "b-null", "nulls", "one"]
    # A computed right-hand side gets no IS NOT NULL guard in Django: the row whose
    # b is NULL (and a is not) is dropped.
    assert await names(Row.objects.exclude(a=F("b") + 0)) == ["a-null", "nulls", "two"]


# -- out-of-range values in filters (Django 5) ------------------------------------------------


@pytest.mark.parametrize("too_big", [2**31, 2**63, 2**70, 10**30])
async def test_integer_filters_beyond_the_column_range(rows: list[Row], too_big: int) -> None:
    assert await names(Row.objects.filter(a=too_big)) == []
    too_small = -too_big - 1
    assert await names(Row.objects.filter(a=too_small)) == []
    assert await names(Row.objects.filter(a__gt=too_big)) == []
    assert await names(Row.objects.filter(a__gte=too_big)) == []
    # Django's FullResultSet: every row, NULLs included.
    assert await names(Row.objects.filter(a__lt=too_big)) == ALL
    assert await names(Row.objects.filter(a__gt=too_small)) == ALL
    assert await names(Row.objects.exclude(a__lt=too_big)) == []
    assert await names(Row.objects.exclude(a=too_big)) == ALL
    assert await names(Row.objects.filter(a__in=[1, too_big, too_small])) == ["one"]
    assert await names(Row.objects.filter(a__in=[too_big])) == []
    assert await names(Row.objects.filter(a__range=(0, too_big))) == ["b-null", "one", "two"]
    assert await names(Row.objects.filter(a__range=(too_small, 1))) == ["one"]
    assert await names(Row.objects.filter(a__range=(too_big, too_big + 1))) == []


async def test_big_integer_filters_beyond_64_bits(rows: list[Row]) -> None:
    assert await names(Row.objects.filter(big=2**64)) == []
    assert await names(Row.objects.filter(big__lte=2**64)) == ALL
    assert await names(Row.objects.filter(big__lt=2**63 - 1)) == ["one", "two"]


async def test_transform_results_have_their_range_too(rows: list[Row]) -> None:
    assert await names(Row.objects.filter(clock__hour=2**40)) == []


async def test_float_filters_with_nan_and_infinity(rows: list[Row]) -> None:
    assert await names(Row.objects.filter(score=math.nan)) == []
    assert await names(Row.objects.filter(score__lt=math.nan)) == []
    assert await names(Row.objects.exclude(score=math.nan)) == ALL
    assert await names(Row.objects.filter(score=math.inf)) == []
    # Infinity is above every float: the database's answer (NULL is no match).
    assert await names(Row.objects.filter(score__lt=math.inf)) == ["one", "two"]
    assert await names(Row.objects.filter(score__gt=-math.inf)) == ["one", "two"]
    assert await names(Row.objects.exclude(score__lt=math.inf)) == ["a-null", "b-null", "nulls"]
    assert await names(Row.objects.filter(score__in=[math.nan, 1.5, math.inf])) == ["one"]
    assert await names(Row.objects.filter(score__range=(-math.inf, 0))) == ["two"]


async def test_duration_and_decimal_filters_beyond_the_range(rows: list[Row]) -> None:
    huge = dt.timedelta(days=999_999_999)
    assert await names(Row.objects.filter(span=huge)) == []
    assert await names(Row.objects.filter(span__lt=huge)) == ["one", "two"]
    assert await names(Row.objects.filter(span__gt=-huge)) == ["one", "two"]
    assert await names(Row.objects.filter(price=Decimal("1e30"))) == []
    assert await names(Row.objects.filter(price__lt=Decimal("1e30"))) == ["one", "two"]


# -- long in lists ----------------------------------------------------------------------------


@pytest.mark.parametrize("count", [16_385, 40_000, 70_000])
async def test_in_lists_longer_than_the_backend_binds(
    rows: list[Row], backend: Database, count: int, caplog: pytest.LogCaptureFixture
) -> None:
    wanted = [r.pk for r in rows[:2]]
    values = [*wanted, *range(10_000_000, 10_000_000 + count)]
    with captured(caplog) as statements:
        found = await names(Row.objects.filter(pk__in=values))
    assert found == ["one", "two"]
    placeholders = sum(statements[-1].count(mark) for mark in ("?", "%s", "$"))
    features = backend.features
    if features.server_side_parameters and len(values) > features.max_query_params:
        assert placeholders == 1  # the whole list is one parameter
    else:
        assert placeholders >= len(values)
    assert await Row.objects.exclude(pk__in=values).count() == 3
    texts = ["one", *(f"x{i}" for i in range(count))]
    assert await Row.objects.filter(name__in=texts).count() == 1
    assert await Row.objects.filter(Q(name__in=texts) | Q(big__in=values)).count() == 1


async def test_in_list_padding_stays_below_the_limit(rows: list[Row]) -> None:
    from reinhardt_db.models.lookups import _padded

    assert [_padded(n) for n in (1, 2, 3, 5, 1024, 1025, 16_385, 32_000)] == [
        1, 2, 4, 8, 1024, 2048, 17_408, 32_768,
    ]


# -- JSON None (Django's "Storing and querying for None") -------------------------------------


class Dog(models.Model):
    name = models.CharField(max_length=20)
    data = models.JSONField(null=True)

    class Meta:
        app_label = "tests_parity"


@pytest.fixture
async def dogs(make_tables: Any) -> None:
    await make_tables(Dog)


async def test_storing_and_querying_for_none(dogs: None) -> None:
    # The example of Django's docs, line by line.
    await Dog.objects.create(name="Max", data=None)  # SQL NULL.
    await Dog.objects.create(name="Archie", data=Value(None, models.JSONField()))  # JSON null.
    await Dog.objects.create(name="Bella", data=JSONNull())  # JSON null (Django 6's spelling).
    await Dog.objects.create(name="Rex", data={"a": None})

    async def dog_names(qs: Any) -> list[str]:
        return sorted(await qs.values_list("name", flat=True))

    assert await dog_names(Dog.objects.filter(data=None)) == ["Archie", "Bella"]
    assert await dog_names(Dog.objects.filter(data=Value(None, models.JSONField()))) == [
        "Archie", "Bella",
    ]
    assert await dog_names(Dog.objects.filter(data=JSONNull())) == ["Archie", "Bella"]
    assert await dog_names(Dog.objects.filter(data__isnull=True)) == ["Max"]
    assert await dog_names(Dog.objects.filter(data__isnull=False)) == ["Archie", "Bella", "Rex"]
    assert await dog_names(Dog.objects.exclude(data=None)) == ["Rex"]
    assert await dog_names(Dog.objects.filter(data__a=None)) == ["Rex"]
    # Both read back as None.
    assert await Dog.objects.filter(name__in=["Max", "Archie"]).values_list(
        "data", flat=True
    ) == [None, None]


async def test_json_null_in_bulk_writes_and_update(dogs: None) -> None:
    dogs = await Dog.objects.bulk_create([Dog(name="a", data=JSONNull()), Dog(name="b")])
    dogs[1].data = JSONNull()
    await Dog.objects.bulk_update(dogs, ["data"])
    assert await Dog.objects.filter(data=None).count() == 2
    await Dog.objects.update(data=None)
    assert await Dog.objects.filter(data__isnull=True).count() == 2
    await Dog.objects.update(data=JSONNull())
    assert await Dog.objects.filter(data=None).count() == 2


# -- TimeField transforms ---------------------------------------------------------------------


async def test_time_field_hour_minute_second(rows: list[Row]) -> None:
    assert await names(Row.objects.filter(clock__hour=13)) == ["one"]
    assert await names(Row.objects.filter(clock__minute=5)) == ["two"]
    assert await names(Row.objects.filter(clock__second=59)) == ["two"]
    assert await names(Row.objects.filter(clock__hour__lt=1)) == ["two"]
    values = await Row.objects.filter(clock__isnull=False).order_by("clock").values_list(
        "clock__hour", "clock__minute", "clock__second"
    )
    assert values == [(0, 5, 59), (13, 45, 30)]


# -- expression cache keys --------------------------------------------------------------------


class PlusConstant(Expression):
    """A user's expression: renders its constant into the SQL, says nothing about caching."""

    def __init__(self, name: str, constant: int) -> None:
        self.name = name
        self.constant = constant

    def to_sa(self, ctx: Any) -> Any:
        return ctx.ref(self.name) + sa.literal(self.constant)

    def output_field(self, resolver: Any) -> Any:
        return models.IntegerField()


async def test_custom_expressions_with_different_constants_give_different_answers(
    rows: list[Row],
) -> None:
    async def plus(constant: int) -> list[int]:
        qs = Row.objects.filter(name="one").annotate(x=PlusConstant("a", constant))
        return list(await qs.values_list("x", flat=True))

    assert await plus(1) == [2]
    assert await plus(10) == [11]
    assert await plus(1) == [2]
    assert await names(Row.objects.filter(a=PlusConstant("b", 0))) == ["one"]
    assert await names(Row.objects.filter(a=PlusConstant("b", -1))) == ["two"]


async def test_value_with_output_field_is_cached(rows: list[Row]) -> None:
    def query(value: Decimal) -> Any:
        return Row.objects.filter(price=Value(value, output_field=models.DecimalField(
            max_digits=6, decimal_places=2)))

    assert await names(query(Decimal("1.00"))) == ["one"]
    hits = statement_cache.hits
    assert await names(query(Decimal("2.50"))) == ["two"]
    assert statement_cache.hits == hits + 1
    # A field of another kind is another statement.
    other = Row.objects.filter(name=Value("two", output_field=models.CharField(max_length=5)))
    assert await names(other) == ["two"]
