"""Q, F, Value, arithmetic, ordering expressions and class-level field expressions."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.exceptions import FieldError
from reinhardt_db.models import F, FieldRef, Q, Value
from reinhardt_db.models.sql.cache import statement_cache


class Score(models.Model):
    player = models.CharField(max_length=20)
    points = models.IntegerField()
    bonus = models.IntegerField(null=True)

    class Meta:
        app_label = "tests_expressions"


@pytest.fixture
async def scores(make_tables: Any) -> list[Score]:
    await make_tables(Score)
    return await Score.objects.bulk_create([
        Score(player="ann", points=10, bonus=5),
        Score(player="bob", points=7, bonus=None),
        Score(player="cid", points=3, bonus=3),
        Score(player="dee", points=12, bonus=0),
    ])


async def players(qs: Any) -> list[str]:
    return sorted(await qs.values_list("player", flat=True))


async def test_q_combinations(scores: list[Score]) -> None:
    objects = Score.objects
    assert await players(objects.filter(Q(points__gt=9) | Q(player="cid"))) == ["ann", "cid", "dee"]
    assert await players(objects.filter(Q(points__gt=5) & Q(points__lt=11))) == ["ann", "bob"]
    assert await players(objects.filter(~Q(points__gt=5))) == ["cid"]
    assert await players(objects.filter(~Q(bonus=5))) == ["bob", "cid", "dee"]
    assert await players(objects.filter(Q(points__gt=5) ^ Q(bonus__gte=3))) == ["bob", "cid", "dee"]
    assert await players(objects.filter(Q(points__gt=5), player__startswith="a")) == ["ann"]
    assert await players(objects.exclude(Q(points__lt=5) | Q(bonus=None))) == ["ann", "dee"]
    assert await players(objects.filter(Q())) == ["ann", "bob", "cid", "dee"]
    assert await players(objects.exclude(Q())) == ["ann", "bob", "cid", "dee"]
    assert await players(objects.filter(~Q() | Q(player="ann"))) == ["ann"]  # Q() drops out
    nested = (Q(player="ann") | (Q(points__gte=7) & ~Q(bonus__isnull=True))) & ~Q(player="dee")
    assert await players(objects.filter(nested)) == ["ann"]


async def test_q_equality_and_deconstruct() -> None:
    assert Q(a=1) & Q(b=2) == Q(a=1) & Q(b=2)
    assert Q(a=1) != Q(a=2)
    assert hash(Q(a=[1, 2])) == hash(Q(a=[1, 2]))
    path, args, kwargs = (~Q(age__gte=0)).deconstruct()
    assert path == "reinhardt_db.models.Q" and args == ()
    assert kwargs == {"age__gte": 0, "_negated": True}
    assert ~~Q(a=1) == Q(a=1)
    assert Q(age__gte=0).deconstruct() == ("reinhardt_db.models.Q", (), {"age__gte": 0})
    with pytest.raises(TypeError):
        Q(a=1) & 3


async def test_f_in_filters(scores: list[Score]) -> None:
    assert await players(Score.objects.filter(points__gt=F("bonus"))) == ["ann", "dee"]
    assert await players(Score.objects.filter(points__gte=F("bonus") * 2)) == ["ann", "dee"]
    assert await players(Score.objects.filter(points=F("bonus") + 7)) == []
    assert await players(Score.objects.filter(points=F("bonus") + 5)) == ["ann"]
    assert await players(Score.objects.filter(points__lt=F("bonus") + F("bonus") + 5)) == ["ann", "cid"]
    with pytest.raises(FieldError, match="Did you mean 'bonus'"):
        Score.objects.filter(points__gt=F("bonsu"))


async def test_f_arithmetic_in_update_and_annotate(scores: list[Score]) -> None:
    await Score.objects.filter(player="ann").update(points=F("points") * 2 - 1, bonus=F("bonus") + 1)
    ann = await Score.objects.get(player="ann")
    assert (ann.points, ann.bonus) == (19, 6)
    rows = await Score.objects.annotate(
        total=F("points") + F("bonus"), half=F("points") / 2, neg=-F("points"), const=Value(3)
    ).order_by("player").values_list("player", "total", "half", "neg", "const")
    assert rows == [
        ("ann", 25, 9, -19, 3), ("bob", None, 3, -7, 3), ("cid", 6, 1, -3, 3), ("dee", 12, 6, -12, 3),
    ]
    annotated = await Score.objects.annotate(total=F("points") % 5).filter(total__gte=3).order_by("player")
    assert [(s.player, s.__dict__["total"]) for s in annotated] == [("ann", 4), ("cid", 3)]


async def test_alias_filters_without_selecting(scores: list[Score]) -> None:
    qs = Score.objects.alias(doubled=F("points") * 2).filter(doubled__gt=15).order_by("-doubled")
    assert [s.player for s in await qs] == ["dee", "ann"]
    assert "doubled" not in (await qs)[0].__dict__
    with pytest.raises(ValueError, match="conflicts"):
        Score.objects.annotate(points=F("bonus"))


async def test_ordering_expressions(scores: list[Score]) -> None:
    by_total = Score.objects.order_by((F("points") + F("bonus")).desc(nulls_last=True))
    assert [s.player for s in await by_total] == ["ann", "dee", "cid", "bob"]
    first = Score.objects.order_by(F("bonus").asc(nulls_first=True), "player")
    assert [s.player for s in await first] == ["bob", "dee", "cid", "ann"]
    last = Score.objects.order_by(F("bonus").desc(nulls_last=True))
    assert [s.player for s in await last] == ["ann", "cid", "dee", "bob"]
    assert [s.player for s in await last.reverse()] == ["bob", "dee", "cid", "ann"]
    with pytest.raises(ValueError):
        F("x").asc(nulls_first=True, nulls_last=True)


async def test_class_level_expressions_match_keyword_lookups(scores: list[Score]) -> None:
    assert isinstance(Score.points, FieldRef)
    by_class = Score.objects.filter(Score.points >= 7, Score.player.startswith("a"))
    by_kwargs = Score.objects.filter(points__gte=7, player__startswith="a")
    assert by_class.query.key() == by_kwargs.query.key()
    assert await players(by_class) == ["ann"]
    assert await players(Score.objects.filter(Score.points < 5)) == ["cid"]
    assert await players(Score.objects.filter(Score.points <= 7)) == ["bob", "cid"]
    assert await players(Score.objects.filter(Score.points > 10)) == ["dee"]
    assert await players(Score.objects.filter(Score.player == "bob")) == ["bob"]
    assert await players(Score.objects.filter(Score.player != "bob")) == ["ann", "cid", "dee"]
    assert await players(Score.objects.filter(Score.bonus == None)) == ["bob"]  # noqa: E711
    assert await players(Score.objects.filter(Score.bonus.is_null())) == ["bob"]
    assert await players(Score.objects.filter(Score.bonus.is_not_null(), Score.bonus > 0)) == ["ann", "cid"]
    assert await players(Score.objects.filter(Score.player.in_(["ann", "cid"]))) == ["ann", "cid"]
    assert await players(Score.objects.filter(Score.points.range(5, 10))) == ["ann", "bob"]
    assert await players(Score.objects.filter(Score.player.icontains("E"))) == ["dee"]
    assert await players(Score.objects.filter(Score.player.endswith("d"))) == ["cid"]
    assert await players(Score.objects.filter(Score.points >= Score.bonus * 2)) == ["ann", "dee"]
    assert await players(Score.objects.filter((Score.points > 9) | (Score.bonus == 3))) == [
        "ann", "cid", "dee",
    ]
    assert await players(Score.objects.exclude(~(Score.points > 9))) == ["ann", "dee"]
    ordered = await Score.objects.order_by(Score.points.desc()).values_list("player", flat=True)
    assert ordered == ["dee", "ann", "bob", "cid"]
    updated = await Score.objects.filter(Score.player == "cid").update(points=Score.points + 100)
    assert updated == 1 and (await Score.objects.get(player="cid")).points == 103


async def test_filter_rejects_plain_booleans(scores: list[Score]) -> None:
    with pytest.raises(TypeError, match="class-level"):
        Score.objects.filter(True)
    with pytest.raises(TypeError):
        Score.objects.filter("points > 3")


async def test_same_shape_shares_one_compiled_statement(scores: list[Score]) -> None:
    statement_cache.clear()
    for threshold in (1, 5, 9):
        await Score.objects.filter(Score.points > threshold).order_by("player")[:2]
    assert statement_cache.misses == 1 and statement_cache.hits == 2
