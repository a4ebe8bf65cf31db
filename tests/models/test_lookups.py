"""Every lookup and transform, on every backend; custom lookups; JSON key paths."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from reinhardt_db import models
from reinhardt_db.exceptions import FieldError
from reinhardt_db.models import Lookup, Transform
from reinhardt_db.models.datetime_transforms import ExtractYear

UTC = dt.UTC


class Item(models.Model):
    name = models.CharField(max_length=40)
    qty = models.IntegerField(null=True)
    day = models.DateField(null=True)
    stamp = models.DateTimeField(null=True)
    data = models.JSONField(null=True)

    class Meta:
        app_label = "tests_lookups"


@pytest.fixture
async def items(make_tables: Any) -> list[Item]:
    await make_tables(Item)
    rows = [
        Item(name="Apple pie", qty=3, day=dt.date(2024, 1, 15),
             stamp=dt.datetime(2024, 1, 15, 13, 45, 30, tzinfo=UTC),
             data={"owner": {"name": "ann", "age": 30}, "tags": ["a", "b"], "n": 5}),
        Item(name="apple tart", qty=10, day=dt.date(2023, 12, 31),
             stamp=dt.datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC),
             data={"owner": {"name": "bob", "age": 7}, "tags": ["b"], "n": 12}),
        Item(name="Banana_split 100%", qty=None, day=dt.date(2021, 1, 3),
             stamp=dt.datetime(2021, 1, 3, 0, 0, 1, tzinfo=UTC),
             data={"owner": None, "n": "5"}),
        Item(name="cherry", qty=0, day=None, stamp=None, data=None),
    ]
    return await Item.objects.bulk_create(rows)


async def names(**lookups: Any) -> list[str]:
    return sorted(await Item.objects.filter(**lookups).values_list("name", flat=True))


async def test_equality_and_comparisons(items: list[Item]) -> None:
    assert await names(qty=3) == ["Apple pie"]
    assert await names(qty__exact=10) == ["apple tart"]
    assert await names(qty=None) == ["Banana_split 100%"]
    assert await names(qty__gt=3) == ["apple tart"]
    assert await names(qty__gte=3) == ["Apple pie", "apple tart"]
    assert await names(qty__lt=3) == ["cherry"]
    assert await names(qty__lte=3) == ["Apple pie", "cherry"]
    assert await names(qty__in=[0, 10, None]) == ["apple tart", "cherry"]
    assert await names(qty__in=[]) == []
    assert await names(qty__range=(1, 10)) == ["Apple pie", "apple tart"]
    assert await names(qty__isnull=True) == ["Banana_split 100%"]
    assert await names(qty__isnull=False) == ["Apple pie", "apple tart", "cherry"]
    assert await names(name__iexact="CHERRY") == ["cherry"]
    with pytest.raises(ValueError, match="isnull"):
        Item.objects.filter(qty__isnull="yes")
    with pytest.raises(ValueError, match="None"):
        Item.objects.filter(qty__gt=None)
    with pytest.raises(ValueError, match="list"):
        Item.objects.filter(qty__in="abc")


async def test_in_with_a_queryset(items: list[Item]) -> None:
    big = Item.objects.filter(qty__gte=3).values_list("id", flat=True)
    assert await names(id__in=big) == ["Apple pie", "apple tart"]
    assert await names(pk__in=Item.objects.filter(name__startswith="c")) == ["cherry"]
    assert sorted(await Item.objects.exclude(id__in=big).values_list("name", flat=True)) == [
        "Banana_split 100%", "cherry",
    ]


async def test_in_lists_of_many_sizes(items: list[Item]) -> None:
    ids = [i.pk for i in items]
    for size in range(1, 12):
        wanted = (ids * 4)[:size]
        assert await Item.objects.filter(pk__in=wanted).count() == len(set(wanted))


async def test_text_patterns_are_case_exact_or_not(items: list[Item]) -> None:
    assert await names(name__contains="pple") == ["Apple pie", "apple tart"]
    assert await names(name__contains="Apple") == ["Apple pie"]
    assert await names(name__icontains="APPLE") == ["Apple pie", "apple tart"]
    assert await names(name__startswith="apple") == ["apple tart"]
    assert await names(name__istartswith="apple") == ["Apple pie", "apple tart"]
    assert await names(name__endswith="Tart") == []
    assert await names(name__iendswith="TART") == ["apple tart"]
    assert await names(name__endswith="pie") == ["Apple pie"]


async def test_wildcards_in_values_are_literal(items: list[Item]) -> None:
    assert await names(name__contains="_") == ["Banana_split 100%"]
    assert await names(name__contains="%") == ["Banana_split 100%"]
    assert await names(name__contains="a_s") == ["Banana_split 100%"]
    assert await names(name__contains="a%s") == []
    assert await names(name__startswith="*") == []
    assert await names(name__contains="?") == []
    assert await names(name__icontains="[a]") == []
    assert await names(name__endswith="0%") == ["Banana_split 100%"]


async def test_regex(items: list[Item], backend: Any) -> None:
    assert await names(name__regex=r"^[Aa]pple") == ["Apple pie", "apple tart"]
    assert await names(name__regex=r"^apple") == ["apple tart"]
    assert await names(name__iregex=r"^APPLE") == ["Apple pie", "apple tart"]
    assert await names(name__regex=r"[0-9]+%$") == ["Banana_split 100%"]


async def test_date_transforms(items: list[Item]) -> None:
    assert await names(day__year=2024) == ["Apple pie"]
    assert await names(day__year__gte=2023) == ["Apple pie", "apple tart"]
    assert await names(day__month=12) == ["apple tart"]
    assert await names(day__day=3) == ["Banana_split 100%"]
    assert await names(day__quarter=4) == ["apple tart"]
    assert await names(day__quarter=1) == ["Apple pie", "Banana_split 100%"]
    # 2021-01-03 is a Sunday in ISO week 53 of 2020; 2023-12-31 is a Sunday in week 52
    assert await names(day__week=53) == ["Banana_split 100%"]
    assert await names(day__iso_year=2020) == ["Banana_split 100%"]
    assert await names(day__week_day=1) == ["Banana_split 100%", "apple tart"]  # Sunday
    assert await names(day__iso_week_day=7) == ["Banana_split 100%", "apple tart"]
    assert await names(day__iso_week_day=1) == ["Apple pie"]  # 2024-01-15 is a Monday
    assert await names(day__week=3) == ["Apple pie"]


async def test_datetime_transforms(items: list[Item]) -> None:
    assert await names(stamp__year=2023) == ["apple tart"]
    assert await names(stamp__date=dt.date(2024, 1, 15)) == ["Apple pie"]
    assert await names(stamp__date__lt=dt.date(2022, 1, 1)) == ["Banana_split 100%"]
    assert await names(stamp__hour=13) == ["Apple pie"]
    assert await names(stamp__minute=59) == ["apple tart"]
    assert await names(stamp__second=1) == ["Banana_split 100%"]
    assert await names(stamp__second=30) == ["Apple pie"]
    assert await names(stamp__week_day=1) == ["Banana_split 100%", "apple tart"]
    assert await names(stamp__iso_year=2020) == ["Banana_split 100%"]
    values = await Item.objects.filter(stamp__isnull=False).order_by("stamp").values_list(
        "stamp__year", "stamp__date", "stamp__hour"
    )
    assert values == [(2021, dt.date(2021, 1, 3), 0), (2023, dt.date(2023, 12, 31), 23),
                      (2024, dt.date(2024, 1, 15), 13)]


async def test_transforms_are_only_where_they_make_sense(items: list[Item]) -> None:
    with pytest.raises(FieldError, match="Did you mean 'year'"):
        Item.objects.filter(day__yaer=2024)
    with pytest.raises(FieldError):
        Item.objects.filter(day__hour=3)  # a date has no hour
    with pytest.raises(FieldError):
        Item.objects.filter(qty__year=3)


async def test_json_key_paths(items: list[Item]) -> None:
    assert await names(data__owner__name="ann") == ["Apple pie"]
    assert await names(data__owner__age__gt=10) == ["Apple pie"]
    assert await names(data__owner__age__lte=7) == ["apple tart"]
    assert await names(data__n=5) == ["Apple pie"]  # JSON equality: 5, not "5"
    assert await names(data__n="5") == ["Banana_split 100%"]
    assert await names(data__owner=None) == ["Banana_split 100%"]  # a JSON null
    assert await names(data__owner__isnull=True) == ["cherry"]  # key missing
    assert await names(data__owner__isnull=False) == ["Apple pie", "Banana_split 100%", "apple tart"]
    assert await names(data__owner__name__istartswith="A") == ["Apple pie"]
    assert await names(data__owner__name__icontains="O") == ["apple tart"]
    assert await names(data__owner__name__in=["bob", "zed"]) == ["apple tart"]
    assert await names(data__tags__0="b") == ["apple tart"]
    assert await names(data__missing__deeper="x") == []
    values = await Item.objects.order_by("qty").filter(qty__gte=3).values_list("data__owner__name", flat=True)
    assert values == ["ann", "bob"]


async def test_json_key_names_are_bound(items: list[Item]) -> None:
    hostile = "x') OR 1=1 --"
    assert await names(**{f"data__{hostile}": 1}) == []
    assert await names(data__has_key=hostile) == []


async def test_json_has_key_lookups(items: list[Item]) -> None:
    assert await names(data__has_key="tags") == ["Apple pie", "apple tart"]
    assert await names(data__has_keys=["tags", "n"]) == ["Apple pie", "apple tart"]
    assert await names(data__has_any_keys=["tags", "owner"]) == [
        "Apple pie", "Banana_split 100%", "apple tart",
    ]
    assert await names(data__owner__has_key="age") == ["Apple pie", "apple tart"]
    with pytest.raises(ValueError):
        Item.objects.filter(data__has_keys=[1, 2])


async def test_json_containment(items: list[Item]) -> None:
    assert await names(data__contains={"owner": {"name": "ann"}}) == ["Apple pie"]
    assert await names(data__tags__contains=["b"]) == ["Apple pie", "apple tart"]
    assert await names(data__contained_by={"n": "5", "owner": None, "x": 1}) == ["Banana_split 100%"]


async def test_json_exact_on_the_whole_document(items: list[Item]) -> None:
    assert await names(data={"owner": None, "n": "5"}) == ["Banana_split 100%"]
    # None is the JSON scalar null in a filter (Django's rule): "cherry" holds SQL NULL.
    assert await names(data=None) == []
    assert await names(data__isnull=True) == ["cherry"]


async def test_negation_keeps_null_rows(items: list[Item]) -> None:
    assert sorted(await Item.objects.exclude(qty=3).values_list("name", flat=True)) == [
        "Banana_split 100%", "apple tart", "cherry",
    ]
    assert sorted(await Item.objects.exclude(day__year=2024).values_list("name", flat=True)) == [
        "Banana_split 100%", "apple tart", "cherry",
    ]
    assert sorted(await Item.objects.exclude(qty__isnull=True).values_list("name", flat=True)) == [
        "Apple pie", "apple tart", "cherry",
    ]


class NotEqual(Lookup):
    lookup_name = "ne"

    def as_expression(self, lhs: Any, rhs: Any) -> Any:
        return lhs != rhs


class Doubled(Transform):
    lookup_name = "doubled"

    def as_expression(self, lhs: Any) -> Any:
        return lhs * 2


async def test_custom_lookup_and_transform(items: list[Item]) -> None:
    models.IntegerField.register_lookup(NotEqual)
    models.IntegerField.register_lookup(Doubled)
    try:
        assert await names(qty__ne=3) == ["apple tart", "cherry"]
        assert await names(qty__doubled=20) == ["apple tart"]
        assert await names(qty__doubled__gt=5) == ["Apple pie", "apple tart"]
        assert await names(qty__doubled__ne=0) == ["Apple pie", "apple tart"]
        assert await Item.objects.filter(qty=3).values_list("qty__doubled", flat=True) == [6]
        with pytest.raises(FieldError):
            Item.objects.filter(name__ne="x")  # registered on IntegerField only
    finally:
        models.IntegerField._unregister_lookup(NotEqual)
        models.IntegerField._unregister_lookup(Doubled)
    with pytest.raises(FieldError):
        Item.objects.filter(qty__ne=3)


class AtMost(Lookup):
    """``as_expression`` matches nothing: only the backend's ``as_<vendor>`` finds rows."""

    lookup_name = "atmost"

    def as_expression(self, lhs: Any, rhs: Any) -> Any:
        return sa.false()

    def as_sqlite(self, lhs: Any, rhs: Any) -> Any:
        return lhs <= rhs

    as_postgresql = as_mysql = as_sqlite


class NextYear(ExtractYear):
    """A user transform built from the backend's operations (``self.ops``)."""

    lookup_name = "next_year"

    def as_expression(self, lhs: Any) -> Any:
        return self.ops.extract("year", lhs) + 1


async def test_user_lookups_may_override_per_backend_and_use_ops(
    items: list[Item], backend_name: str
) -> None:
    models.IntegerField.register_lookup(AtMost)
    models.DateField.register_lookup(NextYear)
    try:
        assert await names(qty__atmost=3) == ["Apple pie", "cherry"]
        assert await names(day__next_year=2025) == ["Apple pie"]
        assert await Item.objects.filter(qty=10).values_list("day__next_year", flat=True) == [
            2024
        ]
    finally:
        models.IntegerField._unregister_lookup(AtMost)
        models.DateField._unregister_lookup(NextYear)


async def test_querysets_as_scalar_values(items: list[Item]) -> None:
    biggest = Item.objects.order_by("-qty").filter(qty__isnull=False).values("qty")[:1]
    assert await names(qty=biggest) == ["apple tart"]
    assert await names(qty__lt=biggest) == ["Apple pie", "cherry"]


async def test_in_lists_of_every_shape(items: list[Item]) -> None:
    """Duplicates and NULLs leave the list; generators, sets and instances work."""
    from reinhardt_db.testing import capture_queries

    with capture_queries() as queries:
        assert await names(qty__in=[10, 10, None, 0, 10]) == ["apple tart", "cherry"]
    assert len(queries[0].params) == 2  # 10 and 0, each once (no NULL)
    assert await names(qty__in=(q for q in (3, None, 3))) == ["Apple pie"]
    assert await names(qty__in={0, 3}) == ["Apple pie", "cherry"]
    assert await names(qty__in=[None]) == []
    assert await names(pk__in=[items[0], items[3].pk, items[0]]) == ["Apple pie", "cherry"]
