"""``Case``/``When`` in annotate, filter (through alias), order_by, update and aggregates."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)

from ._cache import bound_pair


class Club(models.Model):
    name = models.CharField(max_length=20)

    class Meta:
        app_label = "tests_conditional"


class Member(models.Model):
    name = models.CharField(max_length=20)
    tier = models.CharField(max_length=10, null=True)
    points = models.IntegerField(null=True)
    label = models.CharField(max_length=20, default="")
    club = models.ForeignKey(Club, on_delete=models.CASCADE, null=True, related_name="members")

    class Meta:
        app_label = "tests_conditional"


@pytest.fixture
async def members(make_tables: Any) -> list[Member]:
    await make_tables(Club, Member)
    chess = await Club.objects.create(name="chess")
    return await Member.objects.bulk_create([
        Member(name="ann", tier="gold", points=90, club=chess),
        Member(name="bob", tier="silver", points=50, club=chess),
        Member(name="cid", tier=None, points=None),
        Member(name="dee", tier="gold", points=10),
        Member(name="eve", tier="", points=50),
    ])


async def column(qs: Any, name: str) -> list[Any]:
    return list(await qs.order_by("id").values_list(name, flat=True))


async def test_case_picks_the_first_matching_branch(members: list[Member]) -> None:
    qs = Member.objects.annotate(
        discount=Case(
            When(tier="gold", points__gte=50, then=Value(20)),
            When(Q(tier="gold") | Q(points=50), then=Value(10)),
            default=Value(0),
        )
    )
    assert await column(qs, "discount") == [20, 10, 0, 10, 10]


async def test_case_without_default_is_null(members: list[Member]) -> None:
    qs = Member.objects.annotate(x=Case(When(tier="gold", then=F("points"))))
    assert await column(qs, "x") == [90, None, None, 10, None]
    # A string `then` names a field, as in Django.
    qs = Member.objects.annotate(x=Case(When(tier__isnull=True, then="name"), default=Value("-")))
    assert await column(qs, "x") == ["-", "-", "cid", "-", "-"]


async def test_when_across_a_relation_and_with_exists(members: list[Member]) -> None:
    qs = Member.objects.annotate(
        where=Case(When(club__name="chess", then=Value("club")), default=Value("solo"))
    )
    assert await column(qs, "where") == ["club", "club", "solo", "solo", "solo"]
    richer = Member.objects.filter(club=OuterRef("club"), points__gt=OuterRef("points"))
    qs = Club.objects.annotate(
        busy=Case(When(Exists(Member.objects.filter(club=OuterRef("pk"))), then=Value(1)),
                  default=Value(0))
    )
    assert await column(qs, "busy") == [1]
    qs = Member.objects.annotate(
        top=Case(When(~Exists(richer), club__isnull=False, then=Value(True)), default=Value(False))
    )
    assert await column(qs, "top") == [True, False, False, False, False]


async def test_case_constants_are_bound(members: list[Member]) -> None:
    async def run(threshold: int) -> list[Any]:
        qs = Member.objects.annotate(
            big=Case(When(points__gte=threshold, then=Value("yes")), default=Value("no"))
        )
        return await column(qs, "big")

    one, two = await bound_pair(run, 50, 60)
    assert one == ["yes", "yes", "no", "no", "yes"]
    assert two == ["yes", "no", "no", "no", "no"]

    async def result(word: str) -> list[Any]:
        qs = Member.objects.annotate(x=Case(When(tier="gold", then=Value(word)), default=Value("")))
        return await column(qs, "x")

    gold, star = await bound_pair(result, "gold!", "star")
    assert gold[0] == "gold!" and star[0] == "star"


async def test_case_in_filter_order_by_update_and_aggregate(members: list[Member]) -> None:
    rank = Case(When(tier="gold", then=Value(1)), When(tier="silver", then=Value(2)), default=Value(3))
    ordered = await Member.objects.order_by(rank, "name")
    assert [m.name for m in ordered] == ["ann", "dee", "bob", "cid", "eve"]
    kept = await Member.objects.alias(r=rank).filter(r__lte=2).order_by("id")
    assert [m.name for m in kept] == ["ann", "bob", "dee"]
    updated = await Member.objects.update(
        label=Case(When(points__gte=50, then=Value("high")), default=F("name"))
    )
    assert updated == 5
    assert await column(Member.objects.all(), "label") == ["high", "high", "cid", "dee", "high"]
    totals = await Member.objects.aggregate(
        gold=Sum(Case(When(tier="gold", then=Value(1)), default=Value(0))),
        n=Count(Case(When(points__gt=20, then=F("id")))),
    )
    assert totals == {"gold": 2, "n": 3}


async def test_case_grouped_by_values(members: list[Member]) -> None:
    rows = await Member.objects.values("points").annotate(n=Count("id")).filter(
        points__isnull=False
    ).order_by("points")
    assert [(r["points"], r["n"]) for r in rows] == [(10, 1), (50, 2), (90, 1)]


def test_errors() -> None:
    with pytest.raises(ValueError, match="needs a condition"):
        When(then=Value(1))
    with pytest.raises(TypeError, match="Q object or a boolean expression"):
        When(3, then=Value(1))
    with pytest.raises(ValueError, match="at least one When"):
        Case()
    with pytest.raises(TypeError, match="takes When"):
        Case(Value(1))  # type: ignore[arg-type]
