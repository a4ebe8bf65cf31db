"""union(), intersection() and difference() on every backend, and where a backend says no."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.exceptions import FieldError, NotSupportedError
from reinhardt_db.models import F
from reinhardt_db.models.sql.cache import statement_cache

from .._sql import captured


class Player(models.Model):
    name = models.CharField(max_length=30)
    team = models.CharField(max_length=10)
    score = models.IntegerField(null=True)

    class Meta:
        app_label = "tests_setops"
        ordering = ["name"]


class Coach(models.Model):
    full_name = models.CharField(max_length=30)
    years = models.IntegerField()

    class Meta:
        app_label = "tests_setops"


@pytest.fixture
async def players(make_tables: Any) -> list[Player]:
    await make_tables(Player, Coach)
    await Coach.objects.bulk_create([Coach(full_name="zoe", years=3), Coach(full_name="ann", years=9)])
    return await Player.objects.bulk_create([
        Player(name="ann", team="red", score=10),
        Player(name="bob", team="red", score=None),
        Player(name="cid", team="blue", score=7),
        Player(name="dee", team="blue", score=10),
        Player(name="eve", team="green", score=3),
    ])


def names(rows: list[Player]) -> list[str]:
    return sorted(p.name for p in rows)


async def test_union_of_instances(players: list[Player]) -> None:
    red = Player.objects.filter(team="red")
    high = Player.objects.filter(score__gte=10)
    assert names(await red.union(high)) == ["ann", "bob", "dee"]
    assert names(await red.union(high, all=True)) == ["ann", "ann", "bob", "dee"]
    three = red.union(high, Player.objects.filter(team="green"))
    assert names(await three) == ["ann", "bob", "dee", "eve"]
    assert isinstance((await three)[0], Player)


async def test_intersection_and_difference(players: list[Player]) -> None:
    red = Player.objects.filter(team="red")
    high = Player.objects.filter(score__gte=10)
    assert names(await red.intersection(high)) == ["ann"]
    assert names(await high.difference(red)) == ["dee"]
    assert names(await Player.objects.difference(red, high)) == ["cid", "eve"]


async def test_intersection_and_difference_all_keep_duplicates(
    players: list[Player], backend_name: str
) -> None:
    teams = Player.objects.values_list("team", flat=True)
    red_or_blue = Player.objects.filter(team__in=["red", "blue"]).values_list("team", flat=True)
    if backend_name == "sqlite":
        with pytest.raises(NotSupportedError, match=r"INTERSECT ALL.*SQLite"):
            await teams.intersection(red_or_blue, all=True)
        with pytest.raises(NotSupportedError, match="EXCEPT ALL"):
            await teams.difference(red_or_blue, all=True)
        return
    assert sorted(await teams.intersection(red_or_blue, all=True)) == ["blue", "blue", "red", "red"]
    assert sorted(await teams.difference(red_or_blue.filter(name="ann"), all=True)) == [
        "blue", "blue", "green", "red",
    ]


async def test_ordering_and_slicing_the_combined_rows(players: list[Player]) -> None:
    red = Player.objects.filter(team="red")
    blue = Player.objects.filter(team="blue")
    combined = red.union(blue)
    assert [p.name for p in await combined.order_by("-name")] == ["dee", "cid", "bob", "ann"]
    assert [p.name for p in await combined.order_by("-name")[1:3]] == ["cid", "bob"]
    assert [p.name for p in await combined.order_by("name")[:2]] == ["ann", "bob"]
    assert [p.name for p in await combined.order_by("team", "-name")] == ["dee", "cid", "bob", "ann"]
    assert [p.name for p in await combined.order_by("name").reverse()] == ["dee", "cid", "bob", "ann"]
    assert (await combined.order_by("name").first()).name == "ann"  # type: ignore[union-attr]
    assert (await combined.order_by("name").last()).name == "dee"  # type: ignore[union-attr]
    assert (await combined.first()).name == "ann"  # type: ignore[union-attr]  # by pk
    assert [p.name for p in await combined.order_by(F("name").desc())[:1]] == ["dee"]
    with pytest.raises(FieldError, match="Did you mean 'name'"):
        combined.order_by("nmae")
    with pytest.raises(FieldError, match="columns it selects"):
        combined.order_by(F("score") + 1)


async def test_nulls_placement_in_a_combined_ordering(
    players: list[Player], backend_name: str
) -> None:
    combined = Player.objects.filter(team="red").union(Player.objects.filter(team="green"))
    ordered = combined.order_by(F("score").desc(nulls_last=True))
    if backend_name == "mysql":
        with pytest.raises(NotSupportedError, match="MySQL/MariaDB"):
            await ordered
        return
    assert [p.name for p in await ordered] == ["ann", "eve", "bob"]
    first = combined.order_by(F("score").asc(nulls_first=True)).values_list("name", "score")
    assert await first == [("bob", None), ("eve", 3), ("ann", 10)]
    # Ordering by a column the combined rows no longer have is an error, as in SQL.
    with pytest.raises(FieldError, match="values\\(\\) leaves out"):
        combined.order_by("score").values_list("name")


async def test_sliced_and_ordered_parts(players: list[Player]) -> None:
    best = Player.objects.filter(score__isnull=False).order_by("-score", "name")[:2]
    worst = Player.objects.filter(score__isnull=False).order_by("score")[:1]
    assert names(await best.union(worst)) == ["ann", "dee", "eve"]
    assert names(await best.union(worst).union(Player.objects.filter(name="bob"))) == [
        "ann", "bob", "dee", "eve",
    ]
    assert await best.union(worst).order_by("-name").values_list("name", flat=True) == [
        "eve", "dee", "ann",
    ]


async def test_values_and_values_list(players: list[Player]) -> None:
    red = Player.objects.filter(team="red").values_list("name", "score")
    coaches = Coach.objects.values_list("full_name", "years")
    assert sorted(await red.union(coaches), key=str) == [
        ("ann", 10), ("ann", 9), ("bob", None), ("zoe", 3),
    ]
    scored = red.filter(score__isnull=False)
    assert await scored.union(coaches).order_by("-score", "name")[:2] == [("ann", 10), ("ann", 9)]
    # The first queryset's values() apply to the others (Django's rule).
    rows = await Player.objects.filter(team="red").values("name").union(
        Player.objects.filter(team="green")
    ).order_by("name")
    assert rows == [{"name": "ann"}, {"name": "bob"}, {"name": "eve"}]
    # values() on the combined query narrows every part.
    narrowed = Player.objects.filter(team="red").union(Player.objects.filter(score=10))
    assert await narrowed.values_list("team", flat=True).order_by("team") == ["blue", "red"]
    assert sorted(await narrowed.values_list("name", flat=True)) == ["ann", "bob", "dee"]


async def test_count_exists_and_get(players: list[Player]) -> None:
    red = Player.objects.filter(team="red")
    high = Player.objects.filter(score__gte=10)
    assert await red.union(high).count() == 3
    assert await red.union(high, all=True).count() == 4
    assert await red.union(high).order_by("name")[1:].count() == 2
    assert await red.intersection(high).exists()
    assert not await red.filter(score=None).intersection(high).exists()
    assert (await red.intersection(high).get()).name == "ann"
    with pytest.raises(Player.MultipleObjectsReturned):
        await red.union(high).get()


async def test_empty_querysets(players: list[Player]) -> None:
    red = Player.objects.filter(team="red")
    assert names(await red.union(Player.objects.none())) == ["ann", "bob"]
    assert names(await Player.objects.none().union(red)) == ["ann", "bob"]
    assert await Player.objects.none().union(Player.objects.none()) == []
    assert await red.intersection(Player.objects.none()) == []
    assert await Player.objects.none().difference(red) == []
    assert names(await red.difference(Player.objects.none())) == ["ann", "bob"]


async def test_parts_must_select_as_many_columns(players: list[Player]) -> None:
    one = Player.objects.values_list("name")
    two = Coach.objects.values_list("full_name", "years")
    with pytest.raises(TypeError, match="same number of columns"):
        await one.union(two)
    with pytest.raises(TypeError, match="querysets"):
        Player.objects.union(["not", "a", "queryset"])  # type: ignore[list-item]


@pytest.mark.parametrize(
    "call",
    [
        lambda qs: qs.filter(name="ann"),
        lambda qs: qs.exclude(name="ann"),
        lambda qs: qs.annotate(n=F("score")),
        lambda qs: qs.alias(n=F("score")),
        lambda qs: qs.distinct(),
        lambda qs: qs.only("name"),
        lambda qs: qs.defer("name"),
        lambda qs: qs.select_related("x"),
        lambda qs: qs.select_for_update(),
        lambda qs: qs.values(n=F("score")),
    ],
    ids=["filter", "exclude", "annotate", "alias", "distinct", "only", "defer",
         "select_related", "select_for_update", "values-expression"],
)
async def test_what_a_combined_query_refuses(players: list[Player], call: Any) -> None:
    combined = Player.objects.filter(team="red").union(Player.objects.filter(team="blue"))
    with pytest.raises(NotSupportedError, match=r"after union\(\) is not supported"):
        call(combined)


async def test_writes_and_aggregates_on_a_combined_query_are_refused(players: list[Player]) -> None:
    combined = Player.objects.filter(team="red").intersection(Player.objects.all())
    with pytest.raises(NotSupportedError, match=r"update\(\) after intersection"):
        await combined.update(score=1)
    with pytest.raises(NotSupportedError, match=r"delete\(\) after intersection"):
        await combined.delete()
    with pytest.raises(NotSupportedError, match=r"aggregate\(\)"):
        await combined.aggregate(n=models.Count("id"))
    with pytest.raises(NotSupportedError, match=r"contains\(\)"):
        await combined.contains(players[0])
    with pytest.raises(NotSupportedError, match=r"in_bulk\(\)"):
        await combined.in_bulk([1])
    assert await Player.objects.filter(score=1).count() == 0


async def test_refused_where_the_features_say_no(
    players: list[Player], backend: Any, monkeypatch: Any
) -> None:
    """A backend without INTERSECT/EXCEPT (an old MySQL) refuses, naming itself."""
    await backend.server_version()  # the server's features are read at the first connect
    monkeypatch.setattr(
        backend, "features",
        dataclasses.replace(backend.features, supports_intersect_except=False),
    )
    red = Player.objects.filter(team="red")
    with pytest.raises(NotSupportedError, match=rf"intersection\(\) \(INTERSECT\) is not supported on {backend.ops.display_name}"):
        await red.intersection(Player.objects.all())
    with pytest.raises(NotSupportedError, match=r"difference\(\) \(EXCEPT\)"):
        await red.difference(Player.objects.all()).count()
    assert names(await red.union(Player.objects.filter(team="green"))) == ["ann", "bob", "eve"]


async def test_sql_and_the_statement_cache(players: list[Player], caplog: Any) -> None:
    def combined(team: str, low: int) -> Any:
        return Player.objects.filter(team=team).union(
            Player.objects.filter(score__gte=low)
        ).order_by("name").values_list("name", flat=True)

    with captured(caplog) as statements:
        assert await combined("red", 10) == ["ann", "bob", "dee"]
    assert "UNION" in statements[0] and "ORDER BY 1" in statements[0]
    size = len(statement_cache)
    # Other values: the same statement, other answers.
    assert await combined("green", 7) == ["ann", "cid", "dee", "eve"]
    assert await combined("blue", 11) == ["cid", "dee"]
    assert len(statement_cache) == size
    # Another structure never shares the entry.
    as_all = Player.objects.filter(team="red").union(
        Player.objects.filter(score__gte=10), all=True
    ).order_by("name").values_list("name", flat=True)
    assert await as_all == ["ann", "ann", "bob", "dee"]
    as_intersection = Player.objects.filter(team="red").intersection(
        Player.objects.filter(score__gte=10)
    ).order_by("name").values_list("name", flat=True)
    assert await as_intersection == ["ann"]
    assert len(statement_cache) == size + 2


async def test_iterator_explain_and_subqueries(players: list[Player]) -> None:
    combined = Player.objects.filter(team="red").union(Player.objects.filter(score=10))
    assert sorted([p.name async for p in combined.iterator(chunk_size=2)]) == ["ann", "bob", "dee"]
    assert await combined.explain()
    ids = combined.values_list("id", flat=True)
    inside = Player.objects.filter(id__in=ids, team="blue").values_list("name", flat=True)
    assert await inside == ["dee"]
    assert await Player.objects.exclude(id__in=ids).values_list("name", flat=True) == ["cid", "eve"]
