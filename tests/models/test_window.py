"""Window functions, aggregates over windows, frames, and filtering on window annotations."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.exceptions import FieldError, NotSupportedError
from reinhardt_db.models import (
    Avg,
    Count,
    CumeDist,
    DenseRank,
    F,
    FirstValue,
    Lag,
    LastValue,
    Lead,
    Max,
    NthValue,
    Ntile,
    PercentRank,
    Rank,
    RowNumber,
    RowRange,
    Sum,
    Value,
    ValueRange,
    Window,
)
from reinhardt_db.models.sql.cache import statement_cache

from ._cache import bound_pair, shaped_pair


class Arena(models.Model):
    name = models.CharField(max_length=10)

    class Meta:
        app_label = "tests_window"


class Result(models.Model):
    game = models.CharField(max_length=10)
    player = models.CharField(max_length=10)
    points = models.IntegerField(null=True)
    arena = models.ForeignKey(Arena, on_delete=models.CASCADE, null=True)

    class Meta:
        app_label = "tests_window"


ROWS = [
    ("chess", "ann", 10), ("chess", "bob", 30), ("chess", "cid", 30), ("chess", "dee", None),
    ("go", "ann", 7), ("go", "eve", 12), ("go", "fay", 12),
]


@pytest.fixture
async def results(make_tables: Any) -> list[Result]:
    await make_tables(Arena, Result)
    hall = await Arena.objects.create(name="hall")
    return await Result.objects.bulk_create([
        Result(game=g, player=p, points=n, arena=hall if g == "chess" else None) for g, p, n in ROWS
    ])


async def column(qs: Any, name: str) -> list[Any]:
    return list(await qs.order_by("id").values_list(name, flat=True))


BY_POINTS = [F("points").desc(nulls_last=True), "id"]


async def test_numbering_functions_with_ties(results: list[Result]) -> None:
    qs = Result.objects.annotate(
        n=Window(RowNumber(), partition_by="game", order_by=BY_POINTS),
        r=Window(Rank(), partition_by="game", order_by=F("points").desc(nulls_last=True)),
        d=Window(DenseRank(), partition_by=[F("game")], order_by=F("points").desc(nulls_last=True)),
    )
    assert await column(qs, "n") == [3, 1, 2, 4, 3, 1, 2]
    assert await column(qs, "r") == [3, 1, 1, 4, 3, 1, 1]
    assert await column(qs, "d") == [2, 1, 1, 3, 2, 1, 1]


async def test_distribution_functions(results: list[Result]) -> None:
    qs = Result.objects.filter(game="go").annotate(
        pr=Window(PercentRank(), order_by="points"),
        cd=Window(CumeDist(), order_by="points"),
        tile=Window(Ntile(2), order_by=["points", "id"]),
    )
    assert await column(qs, "pr") == [0.0, 0.5, 0.5]
    assert await column(qs, "cd") == pytest.approx([1 / 3, 1.0, 1.0])
    assert await column(qs, "tile") == [1, 1, 2]

    async def tiles(buckets: int) -> list[Any]:
        qs = Result.objects.annotate(t=Window(Ntile(buckets), order_by="id"))
        return await column(qs, "t")

    two, three = await shaped_pair(tiles, 2, 3)
    assert two == [1, 1, 1, 1, 2, 2, 2]
    assert three == [1, 1, 1, 2, 2, 3, 3]


async def test_lag_and_lead(results: list[Result]) -> None:
    qs = Result.objects.annotate(
        prev=Window(Lag("points"), partition_by="game", order_by="id"),
        nxt=Window(Lead("points", offset=2), partition_by="game", order_by="id"),
        prev_or=Window(Lag("points", default=Value(-1)), partition_by="game", order_by="id"),
        nxt_or=Window(Lead("player", default=Value("-")), partition_by="game", order_by="id"),
    )
    assert await column(qs, "prev") == [None, 10, 30, 30, None, 7, 12]
    assert await column(qs, "nxt") == [30, None, None, None, 12, None, None]
    # The default only fills missing rows: dee's NULL stays NULL for the row after it.
    assert await column(qs, "prev_or") == [-1, 10, 30, 30, -1, 7, 12]
    assert await column(qs, "nxt_or") == ["bob", "cid", "dee", "-", "eve", "fay", "-"]
    after_null = Result.objects.filter(game="chess").annotate(
        x=Window(Lead("points", default=Value(0)), order_by="id")
    )
    # The default fills only the missing row after dee; cid's next value is dee's NULL.
    assert await column(after_null, "x") == [30, 30, None, 0]

    async def default(value: int) -> list[Any]:
        qs = Result.objects.annotate(x=Window(Lag("points", default=Value(value)), order_by="id"))
        return await column(qs, "x")

    minus, zero = await bound_pair(default, -1, 0)
    assert minus[0] == -1 and zero[0] == 0

    async def offset(n: int) -> list[Any]:
        qs = Result.objects.annotate(x=Window(Lag("points", offset=n), order_by="id"))
        return await column(qs, "x")

    one, two = await shaped_pair(offset, 1, 2)
    assert one[:3] == [None, 10, 30] and two[:3] == [None, None, 10]


async def test_value_functions_and_frames(results: list[Result]) -> None:
    whole = RowRange(start=None, end=None)
    qs = Result.objects.filter(game="chess").annotate(
        first=Window(FirstValue("player"), order_by="id"),
        last=Window(LastValue("player"), order_by="id", frame=whole),
        second=Window(NthValue("player", nth=2), order_by="id", frame=whole),
        last_so_far=Window(LastValue("player"), order_by="id", frame=RowRange(None, 0)),
    )
    assert await column(qs, "first") == ["ann"] * 4
    assert await column(qs, "last") == ["dee"] * 4
    assert await column(qs, "second") == ["bob"] * 4
    assert await column(qs, "last_so_far") == ["ann", "bob", "cid", "dee"]


async def test_aggregates_over_windows(results: list[Result]) -> None:
    qs = Result.objects.annotate(
        total=Window(Sum("points"), partition_by="game"),
        running=Window(Sum("points"), partition_by="game", order_by="id", frame=RowRange(None, 0)),
        moving=Window(Max("points"), order_by="id", frame=RowRange(-1, 1)),
        n=Window(Count("points"), partition_by="game"),
        mean=Window(Avg("points"), partition_by="game"),
        near=Window(Count("id"), order_by="points", frame=ValueRange(-5, 5)),
    )
    assert await column(qs, "total") == [70, 70, 70, 70, 31, 31, 31]
    assert await column(qs, "running") == [10, 40, 70, 70, 7, 19, 31]
    assert await column(qs, "moving") == [30, 30, 30, 30, 12, 12, 12]
    assert await column(qs, "n") == [3, 3, 3, 3, 3, 3, 3]
    assert await column(qs, "mean") == pytest.approx([70 / 3] * 4 + [31 / 3] * 3)
    # Values within 5 of the row's own (NULLs are peers of each other only).
    assert await column(qs, "near") == [4, 2, 2, 1, 4, 4, 4]

    async def frame(size: int) -> list[Any]:
        qs = Result.objects.annotate(x=Window(Count("id"), order_by="id", frame=RowRange(-size, 0)))
        return await column(qs, "x")

    one, two = await shaped_pair(frame, 1, 2)
    assert one == [1, 2, 2, 2, 2, 2, 2] and two == [1, 2, 3, 3, 3, 3, 3]


async def test_filtering_on_a_window_wraps_the_query(results: list[Result]) -> None:
    ranked = Result.objects.annotate(
        place=Window(Rank(), partition_by="game", order_by=F("points").desc(nulls_last=True))
    )
    winners = await ranked.filter(place=1).order_by("game", "player")
    assert [(r.game, r.player, r.place) for r in winners] == [  # type: ignore[attr-defined]
        ("chess", "bob", 1), ("chess", "cid", 1), ("go", "eve", 1), ("go", "fay", 1),
    ]
    # A plain condition filters before the window is computed, as in Django.
    top_of_rest = ranked.filter(player__in=["ann", "dee", "bob"]).filter(place__lte=1)
    assert sorted(await top_of_rest.values_list("game", "player")) == [
        ("chess", "bob"), ("go", "ann"),
    ]
    assert await ranked.filter(place__gt=1).count() == 3
    assert await ranked.exclude(place=1).order_by(F("points").desc(nulls_last=True))[:1].values_list(
        "player", flat=True
    ) == ["ann"]
    rows = await ranked.filter(place=1, points__gt=20).values("player", "place").order_by("player")
    assert rows == [{"player": "bob", "place": 1}, {"player": "cid", "place": 1}]

    async def place(limit: int) -> list[Any]:
        return sorted(await ranked.filter(place__lte=limit).values_list("player", flat=True))

    one, three = await bound_pair(place, 1, 3)
    assert one == ["bob", "cid", "eve", "fay"]
    assert three == ["ann", "ann", "bob", "cid", "eve", "fay"]


async def test_window_filter_refusals(results: list[Result]) -> None:
    ranked = Result.objects.annotate(n=Window(RowNumber(), order_by="id"))
    with pytest.raises(NotSupportedError, match="two filter"):
        await ranked.filter(n=1, arena__name="hall")
    with pytest.raises(NotSupportedError, match="update"):
        await ranked.filter(n=1).update(points=0)
    with pytest.raises(FieldError, match="window expression"):
        await Result.objects.update(points=Window(RowNumber(), order_by="id"))
    with pytest.raises(NotSupportedError, match="delete"):
        await ranked.filter(n=1).delete()
    # In two filter() calls the relation filters first.
    assert await ranked.filter(arena__name="hall").filter(n=1).count() == 1


async def test_window_not_supported_by_features(results: list[Result], backend: Any) -> None:
    statement_cache.clear()
    backend.features = dataclasses.replace(backend.features, supports_window_functions=False)
    try:
        with pytest.raises(NotSupportedError, match=backend.ops.display_name):
            await Result.objects.annotate(n=Window(RowNumber(), order_by="id"))
    finally:
        statement_cache.clear()


def test_argument_errors() -> None:
    with pytest.raises(TypeError, match="window function"):
        Window(F("points"))
    with pytest.raises(ValueError, match="positive"):
        Ntile(0)
    with pytest.raises(ValueError, match="positive"):
        Lag("points", offset=0)
    with pytest.raises(ValueError, match="positive"):
        NthValue("points", nth=-1)
    with pytest.raises(ValueError, match="cannot start"):
        RowRange(2, 1)
    with pytest.raises(TypeError, match="integer"):
        RowRange("a", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="frame="):
        Window(RowNumber(), frame=(1, 2))  # type: ignore[arg-type]


async def test_window_function_outside_a_window(results: list[Result]) -> None:
    with pytest.raises(TypeError, match="only valid inside Window"):
        await Result.objects.annotate(n=RowNumber())


async def test_windows_over_groups_and_aggregates_over_windows(results: list[Result]) -> None:
    # Rank the games by their total points: the window orders by an aggregate.
    rows = await Result.objects.values("game").annotate(
        total=Sum("points"),
        place=Window(Rank(), order_by=Sum("points").desc()),
    ).order_by("place")
    assert [(r["game"], r["total"], r["place"]) for r in rows] == [("chess", 70, 1), ("go", 31, 2)]
    # An aggregate over window values runs over the windowed rows (a subquery).
    numbered = Result.objects.annotate(n=Window(RowNumber(), partition_by="game", order_by="id"))
    assert await numbered.aggregate(most=Max("n"), total=Sum("n")) == {"most": 4, "total": 16}
    assert await numbered.count() == 7


async def test_window_filter_with_select_related_and_alias(results: list[Result]) -> None:
    last = Result.objects.select_related("arena").alias(
        n=Window(RowNumber(), partition_by="game", order_by="-id")
    ).filter(n=1).order_by(F("arena__name").asc(nulls_first=True), "game")
    found = [(r.game, r.player, r.arena.name if r.arena else None) for r in await last]
    assert found == [("go", "fay", None), ("chess", "dee", "hall")]
    assert [r.player for r in await last.reverse()] == ["dee", "fay"]
    assert sorted(await last.values_list("player", flat=True)) == ["dee", "fay"]


async def test_window_filter_ordered_by_the_window_itself(results: list[Result]) -> None:
    ranked = Result.objects.annotate(
        place=Window(DenseRank(), partition_by="game", order_by=F("points").desc(nulls_last=True))
    )
    rows = await ranked.filter(place__lte=2).order_by("-place", "id").values_list(
        "player", "place"
    )
    assert rows == [("ann", 2), ("ann", 2), ("bob", 1), ("cid", 1), ("eve", 1), ("fay", 1)]
    page = await ranked.filter(place__lte=2).order_by("-place", "id")[1:3]
    assert [(r.player, r.game) for r in page] == [("ann", "go"), ("bob", "chess")]
