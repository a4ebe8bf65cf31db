"""``Subquery``, ``Exists`` and ``OuterRef`` in filter, annotate, order_by and update."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.exceptions import FieldError
from reinhardt_db.models import Count, Exists, F, Max, OuterRef, Q, RawSQL, Subquery, Value
from reinhardt_db.models.functions import Coalesce
from reinhardt_db.testing import capture_queries

from ._cache import bound_pair

UTC = dt.UTC


class Writer(models.Model):
    name = models.CharField(max_length=20)
    best = models.CharField(max_length=40, default="")
    mentor = models.ForeignKey("self", on_delete=models.SET_NULL, null=True)

    class Meta:
        app_label = "tests_subqueries"


class Story(models.Model):
    title = models.CharField(max_length=40)
    writer = models.ForeignKey(Writer, on_delete=models.CASCADE, related_name="stories")
    stars = models.IntegerField(null=True)

    class Meta:
        app_label = "tests_subqueries"


@pytest.fixture
async def writers(make_tables: Any) -> list[Writer]:
    await make_tables(Writer, Story)
    ann = await Writer.objects.create(name="ann")
    bob = await Writer.objects.create(name="bob", mentor=ann)
    cid = await Writer.objects.create(name="cid", mentor=ann)
    await Story.objects.bulk_create([
        Story(title="Dawn", writer=ann, stars=3),
        Story(title="Dusk", writer=ann, stars=5),
        Story(title="Élan", writer=bob, stars=None),
        Story(title="Echo", writer=bob, stars=4),
    ])
    return [ann, bob, cid]


async def column(qs: Any, name: str) -> list[Any]:
    return list(await qs.order_by("id").values_list(name, flat=True))


def best_of() -> Any:
    return Story.objects.filter(writer=OuterRef("pk"), stars__isnull=False).order_by("-stars")


async def test_subquery_annotation(writers: list[Writer]) -> None:
    qs = Writer.objects.annotate(top=Subquery(best_of().values("title")[:1]))
    assert await column(qs, "top") == ["Dusk", "Echo", None]
    qs = Writer.objects.annotate(top_stars=Subquery(best_of().values("stars")[:1]))
    assert await column(qs, "top_stars") == [5, 4, None]


async def test_subquery_in_filter_and_order_by(writers: list[Writer]) -> None:
    stars = Subquery(best_of().values("stars")[:1])
    found = await Writer.objects.filter(pk__in=Story.objects.values("writer")).annotate(
        s=stars
    ).filter(s__gte=5)
    assert [w.name for w in found] == ["ann"]
    ordered = await Writer.objects.order_by(Subquery(best_of().values("stars")[:1]).desc(
        nulls_last=True
    ))
    assert [w.name for w in ordered] == ["ann", "bob", "cid"]
    # As the right-hand side of a lookup.
    found = await Story.objects.filter(
        stars=Subquery(Story.objects.filter(writer=OuterRef("writer")).order_by(
            F("stars").desc(nulls_last=True)
        ).values("stars")[:1])
    ).order_by("id")
    assert [s.title for s in found] == ["Dusk", "Echo"]


async def test_subquery_with_an_aggregate(writers: list[Writer]) -> None:
    counts = Story.objects.filter(writer=OuterRef("pk")).values("writer").annotate(
        n=Count("id")
    ).values("n")
    qs = Writer.objects.annotate(n=Coalesce(Subquery(counts), Value(0)))
    assert await column(qs, "n") == [2, 2, 0]
    top = Story.objects.filter(writer=OuterRef("pk")).values("writer").annotate(
        m=Max("stars")
    ).values("m")
    assert await column(Writer.objects.annotate(m=Subquery(top)), "m") == [5, 4, None]


async def test_exists_in_filter_annotate_and_exclude(writers: list[Writer]) -> None:
    has_stories = Exists(Story.objects.filter(writer=OuterRef("pk")))
    assert [w.name for w in await Writer.objects.filter(has_stories).order_by("id")] == [
        "ann", "bob",
    ]
    assert [w.name for w in await Writer.objects.filter(~has_stories)] == ["cid"]
    assert [w.name for w in await Writer.objects.exclude(has_stories)] == ["cid"]
    assert await column(Writer.objects.annotate(has=has_stories), "has") == [True, True, False]
    starless = Exists(Story.objects.filter(writer=OuterRef("pk"), stars__isnull=True))
    both = await Writer.objects.filter(has_stories, ~starless)
    assert [w.name for w in both] == ["ann"]


async def test_outer_ref_on_the_same_model_and_across_relations(writers: list[Writer]) -> None:
    # Writers whose mentor has a five-star story: OuterRef across a relation.
    qs = Writer.objects.filter(
        Exists(Story.objects.filter(writer=OuterRef("mentor"), stars=5))
    ).order_by("id")
    assert [w.name for w in await qs] == ["bob", "cid"]
    # A subquery over the same table (its own alias) reading the mentor's name.
    mentor_name = Writer.objects.filter(pk=OuterRef("mentor")).values("name")
    assert await column(Writer.objects.annotate(m=Subquery(mentor_name)), "m") == [
        None, "ann", "ann",
    ]
    qs = Writer.objects.annotate(
        mentor_stories=Subquery(
            Story.objects.filter(writer__name=OuterRef("mentor__name")).values("writer").annotate(
                n=Count("id")
            ).values("n")
        )
    )
    assert await column(qs, "mentor_stories") == [None, 2, 2]


async def test_subquery_in_update(writers: list[Writer]) -> None:
    await Writer.objects.update(best=Coalesce(Subquery(best_of().values("title")[:1]), Value("-")))
    assert await column(Writer.objects.all(), "best") == ["Dusk", "Echo", "-"]
    await Story.objects.filter(
        Exists(Writer.objects.filter(pk=OuterRef("writer"), name="bob"))
    ).update(stars=F("stars") + 1)
    assert await column(Story.objects.all(), "stars") == [3, 5, None, 5]


async def test_inner_constants_are_bound(writers: list[Writer]) -> None:
    async def run(minimum: int) -> list[Any]:
        inner = Story.objects.filter(writer=OuterRef("pk"), stars__gte=minimum)
        return await column(Writer.objects.annotate(n=Exists(inner)), "n")

    one, two = await bound_pair(run, 4, 5)
    assert one == [True, True, False]
    assert two == [True, False, False]

    async def title(name: str) -> list[Any]:
        inner = Story.objects.filter(writer=OuterRef("pk"), title__startswith=name)
        return await column(Writer.objects.annotate(t=Subquery(inner.values("title")[:1])), "t")

    dawn, echo = await bound_pair(title, "Da", "Ec")
    assert dawn == ["Dawn", None, None] and echo == [None, "Echo", None]
    with capture_queries() as queries:
        await title("Élan")
    assert "Élan" not in queries[0].sql


async def test_subquery_errors(writers: list[Writer]) -> None:
    with pytest.raises(FieldError, match="Did you mean 'mentor'"):
        Writer.objects.annotate(x=Exists(Story.objects.filter(writer=OuterRef("mentr"))))
    with pytest.raises(TypeError, match="one column"):
        Subquery(Story.objects.values("title", "stars"))
    with pytest.raises(TypeError, match="takes a QuerySet"):
        Subquery([1, 2])
    with pytest.raises(FieldError, match="not used inside another one"):
        await Story.objects.filter(writer=OuterRef("pk"))
    with pytest.raises(TypeError, match="not a condition"):
        Writer.objects.filter(Subquery(Story.objects.values("title")[:1]))


async def test_subquery_as_an_in_list_and_exists_in_order_by(writers: list[Writer]) -> None:
    starred = Story.objects.filter(stars__gte=4).values("writer")
    found = await Writer.objects.filter(pk__in=Subquery(starred)).order_by("id")
    assert [w.name for w in found] == ["ann", "bob"]
    has_stories = Exists(Story.objects.filter(writer=OuterRef("pk")))
    ordered = await Writer.objects.order_by(has_stories.asc(), "-id")
    assert [w.name for w in ordered] == ["cid", "bob", "ann"]


async def test_exists_combines_with_q_and_raw_conditions(writers: list[Writer]) -> None:
    has_stories = Exists(Story.objects.filter(writer=OuterRef("pk")))
    five = Exists(Story.objects.filter(writer=OuterRef("pk"), stars=5))
    assert await column(Writer.objects.filter(has_stories & ~five), "name") == ["bob"]
    assert await column(Writer.objects.filter(five | Q(name="cid")), "name") == ["ann", "cid"]
    assert await column(Writer.objects.filter(Q(name="bob") | five), "name") == ["ann", "bob"]
    raw = RawSQL("name <> %s", ("ann",), output_field=models.BooleanField())
    assert await column(Writer.objects.filter(raw), "name") == ["bob", "cid"]


async def test_outer_ref_two_queries_out(writers: list[Writer]) -> None:
    # Writers with a story that has a better-rated story by the same writer's mentor.
    better_by_mentor = Story.objects.filter(
        writer=OuterRef(OuterRef("mentor")), stars__gt=OuterRef("stars")
    )
    qs = Writer.objects.filter(
        Exists(Story.objects.filter(writer=OuterRef("pk")).filter(Exists(better_by_mentor)))
    )
    assert await column(qs, "name") == ["bob"]
    assert repr(OuterRef(OuterRef("pk"))) == "OuterRef(OuterRef('pk'))"
    with pytest.raises(FieldError, match="Did you mean 'mentor'"):
        Writer.objects.filter(
            Exists(Story.objects.filter(writer=OuterRef("pk")).filter(
                Exists(Story.objects.filter(writer=OuterRef(OuterRef("mentr"))))
            ))
        )
    with pytest.raises(FieldError, match="2 others"):
        await Story.objects.filter(
            Exists(Story.objects.filter(writer=OuterRef(OuterRef("writer"))))
        )
    with pytest.raises(TypeError, match="field name or an OuterRef"):
        OuterRef(3)  # type: ignore[arg-type]
