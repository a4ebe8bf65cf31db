"""Aggregates in aggregate(), annotate() and values(...).annotate(...) GROUP BY."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.exceptions import NotSupportedError
from reinhardt_db.models import Avg, Count, F, Max, Min, Q, StdDev, Sum, Variance
from reinhardt_db.models.sql.cache import statement_cache
from reinhardt_db.testing import capture_queries

UTC = dt.UTC


class Sale(models.Model):
    region = models.CharField(max_length=10)
    rep = models.CharField(max_length=10, null=True)
    amount = models.IntegerField()
    price = models.DecimalField(max_digits=10, decimal_places=2)
    ratio = models.FloatField(null=True)
    at = models.DateTimeField()

    class Meta:
        app_label = "tests_aggregates"
        ordering = ["at"]


@pytest.fixture
async def sales(make_tables: Any) -> list[Sale]:
    await make_tables(Sale)
    base = dt.datetime(2024, 5, 1, tzinfo=UTC)
    rows = [
        ("north", "ann", 10, "1.50", 0.5, 0),
        ("north", "bob", 20, "2.25", None, 1),
        ("north", "ann", 30, "3.00", 1.5, 2),
        ("south", "cid", 5, "10.10", 2.0, 3),
        ("south", None, 15, "0.05", 1.0, 4),
        ("east", "dee", 40, "7.00", None, 5),
    ]
    return await Sale.objects.bulk_create([
        Sale(region=r, rep=p, amount=a, price=Decimal(pr), ratio=q, at=base + dt.timedelta(days=d))
        for r, p, a, pr, q, d in rows
    ])


async def test_aggregate_over_everything(sales: list[Sale]) -> None:
    result = await Sale.objects.aggregate(
        n=Count("id"), total=Sum("amount"), avg=Avg("amount"), low=Min("amount"),
        high=Max("at"), money=Sum("price"), reps=Count("rep"), distinct_reps=Count("rep", distinct=True),
    )
    assert result == {
        "n": 6, "total": 120, "avg": 20.0, "low": 5, "high": dt.datetime(2024, 5, 6, tzinfo=UTC),
        "money": Decimal("23.90"), "reps": 5, "distinct_reps": 4,
    }
    assert type(result["total"]) is int and type(result["avg"]) is float
    prices = await Sale.objects.aggregate(low=Min("price"), high=Max("price"), mean=Avg("price"))
    assert prices == {"low": Decimal("0.05"), "high": Decimal("10.10"), "mean": Decimal("3.98")}


async def test_aggregate_defaults_names_and_filters(sales: list[Sale]) -> None:
    result = await Sale.objects.filter(region="north").aggregate(Count("id"), Sum("amount"))
    assert result == {"id__count": 3, "amount__sum": 60}
    empty = await Sale.objects.filter(region="west").aggregate(s=Sum("amount"), n=Count("*"))
    assert empty == {"s": None, "n": 0}
    assert await Sale.objects.filter(region="west").aggregate(s=Sum("amount", default=0)) == {"s": 0}
    assert await Sale.objects.none().aggregate(n=Count("id")) == {"n": 0}
    filtered = await Sale.objects.aggregate(
        big=Count("id", filter=Q(amount__gte=20)), big_sum=Sum("amount", filter=Q(region="north")),
    )
    assert filtered == {"big": 3, "big_sum": 60}
    with pytest.raises(TypeError, match="not an aggregate"):
        await Sale.objects.aggregate(x=F("amount"))


async def test_aggregate_over_a_slice_uses_a_subquery(sales: list[Sale]) -> None:
    assert await Sale.objects.order_by("amount")[:3].aggregate(s=Sum("amount")) == {"s": 30}
    assert await Sale.objects.values("region").distinct().aggregate(n=Count("region")) == {"n": 3}


async def test_values_annotate_groups_by_the_values_fields(sales: list[Sale]) -> None:
    rows = await Sale.objects.values("region").annotate(n=Count("id"), total=Sum("amount")).order_by("region")
    assert rows == [
        {"region": "east", "n": 1, "total": 40},
        {"region": "north", "n": 3, "total": 60},
        {"region": "south", "n": 2, "total": 20},
    ]
    by_two = await Sale.objects.filter(rep__isnull=False).values("region", "rep").annotate(
        n=Count("id")
    ).order_by("region", "rep")
    assert [(r["region"], r["rep"], r["n"]) for r in by_two] == [
        ("east", "dee", 1), ("north", "ann", 2), ("north", "bob", 1), ("south", "cid", 1),
    ]


async def test_filter_and_order_on_aggregates_use_having(sales: list[Sale]) -> None:
    rows = await Sale.objects.values("region").annotate(total=Sum("amount")).filter(
        total__gt=25
    ).order_by("-total").values_list("region", "total")
    assert rows == [("north", 60), ("east", 40)]
    regions = await Sale.objects.values("region").annotate(n=Count("id")).filter(
        n__gte=2, region__startswith="n"
    ).values_list("region", flat=True)
    assert regions == ["north"]
    assert await Sale.objects.values("region").annotate(n=Count("id")).count() == 3


async def test_annotate_instances_with_aggregates(sales: list[Sale]) -> None:
    rows = await Sale.objects.annotate(n=Count("id")).filter(region="south").order_by("amount")
    assert [(s.amount, s.__dict__["n"]) for s in rows] == [(5, 1), (15, 1)]
    grouped = await Sale.objects.values("region").annotate(Count("id")).filter(
        id__count__gte=2
    ).order_by("-id__count")
    assert grouped == [{"region": "north", "id__count": 3}, {"region": "south", "id__count": 2}]
    with pytest.raises(ValueError, match="identifiers"):
        Sale.objects.annotate(**{"my__name": Count("id")})


async def test_values_then_annotate_with_expression_and_avg(sales: list[Sale]) -> None:
    rows = await Sale.objects.values("region").annotate(
        avg=Avg("amount"), spread=Max("amount") - Min("amount"), avg_ratio=Avg("ratio")
    ).order_by("region")
    assert rows == [
        {"region": "east", "avg": 40.0, "spread": 0, "avg_ratio": None},
        {"region": "north", "avg": 20.0, "spread": 20, "avg_ratio": 1.0},
        {"region": "south", "avg": 10.0, "spread": 10, "avg_ratio": 1.5},
    ]


async def test_stddev_and_variance(sales: list[Sale], backend_name: str) -> None:
    qs = Sale.objects.filter(region="north")
    result = await qs.aggregate(
        sd=StdDev("amount"), var=Variance("amount"), var_s=Variance("amount", sample=True),
        sd_s=StdDev("amount", sample=True),
    )
    assert result["var"] == pytest.approx(200 / 3)
    assert result["sd"] == pytest.approx((200 / 3) ** 0.5)
    assert result["var_s"] == pytest.approx(100.0)
    assert result["sd_s"] == pytest.approx(10.0)
    # One value: the sample statistics are NULL, the population ones 0.
    one = await Sale.objects.filter(region="east").aggregate(
        v=Variance("amount"), vs=Variance("amount", sample=True)
    )
    assert one == {"v": 0.0, "vs": None}


async def test_stddev_refused_where_features_say_no(
    sales: list[Sale], backend: Any
) -> None:
    statement_cache.clear()
    backend.features = dataclasses.replace(backend.features, supports_statistical_aggregates=False)
    try:
        with pytest.raises(NotSupportedError, match=f"StdDev is not available on {backend.ops.display_name}"):
            await Sale.objects.aggregate(s=StdDev("amount"))
    finally:
        statement_cache.clear()


async def test_meta_ordering_is_not_used_for_groups(sales: list[Sale]) -> None:
    # Meta.ordering = ["at"] would split every group if it were added to GROUP BY.
    rows = await Sale.objects.values("region").annotate(n=Count("id"))
    assert sorted((r["region"], r["n"]) for r in rows) == [("east", 1), ("north", 3), ("south", 2)]


async def test_aggregate_filter_clause_follows_features(sales: list[Sale], backend: Any) -> None:
    statement_cache.clear()
    with capture_queries() as queries:
        result = await Sale.objects.aggregate(
            north=Count("id", filter=Q(region="north")),
            reps=Count("rep", distinct=True, filter=Q(amount__gte=10)),
            total=Sum("amount", filter=Q(region="south") | Q(rep__isnull=True)),
        )
    assert result == {"north": 3, "reps": 3, "total": 20}
    sql = queries[0].sql.upper()
    if backend.features.supports_aggregate_filter_clause:
        assert "FILTER (WHERE" in sql and "CASE" not in sql
    else:
        assert "CASE WHEN" in sql and "FILTER" not in sql

    async def run(minimum: int) -> dict[str, Any]:
        return await Sale.objects.aggregate(n=Count("id", filter=Q(amount__gte=minimum)))

    from ._cache import bound_pair

    one, two = await bound_pair(run, 10, 20)
    assert one == {"n": 5} and two == {"n": 3}


async def test_aggregate_filter_clause_refused_falls_back_to_case(
    sales: list[Sale], backend: Any
) -> None:
    statement_cache.clear()
    backend.features = dataclasses.replace(backend.features, supports_aggregate_filter_clause=False)
    try:
        with capture_queries() as queries:
            rows = await Sale.objects.values("region").annotate(
                big=Count("id", filter=Q(amount__gt=12))
            ).order_by("region")
        assert [(r["region"], r["big"]) for r in rows] == [("east", 1), ("north", 2), ("south", 1)]
        assert "FILTER" not in queries[0].sql.upper()
    finally:
        statement_cache.clear()
