"""Database functions (``Func`` and the built-in ones), ``ExpressionWrapper`` and ``RawSQL``.

Every function gives the same answer on the three backends for the same rows
(NULLs, empty strings, Unicode, ties), and constants are bound parameters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.exceptions import FieldError
from reinhardt_db.models import (
    Cast,
    Coalesce,
    Concat,
    ExpressionWrapper,
    F,
    Func,
    Greatest,
    Least,
    Length,
    Lower,
    LTrim,
    Now,
    RawSQL,
    RowNumber,
    RTrim,
    Trim,
    Upper,
    Value,
    Window,
)
from reinhardt_db.testing import capture_queries

from ._cache import bound_pair, shaped_pair

UTC = dt.UTC


class Team(models.Model):
    name = models.CharField(max_length=30)

    class Meta:
        app_label = "tests_functions"


class Person(models.Model):
    name = models.CharField(max_length=30)
    nickname = models.CharField(max_length=30, null=True)
    code = models.CharField(max_length=10, default="")
    age = models.IntegerField(null=True)
    height = models.IntegerField(null=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, related_name="people")

    class Meta:
        app_label = "tests_functions"


@pytest.fixture
async def people(make_tables: Any) -> list[Person]:
    await make_tables(Team, Person)
    red = await Team.objects.create(name="Red")
    return await Person.objects.bulk_create([
        Person(name="Ann", nickname="annie", code="  a1 ", age=34, height=170, team=red),
        Person(name="ÅNGSTRÖM", nickname=None, code="42", age=None, height=180, team=red),
        Person(name="straße", nickname="", code="", age=34, height=None, team=None),
        Person(name="Émile", nickname="emi", code=" x", age=7, height=120, team=None),
    ])


async def column(qs: Any, name: str) -> list[Any]:
    """The values of annotation ``name``, in primary-key order."""
    return list(await qs.order_by("id").values_list(name, flat=True))


async def test_coalesce_takes_the_first_non_null(people: list[Person]) -> None:
    qs = Person.objects.annotate(label=Coalesce("nickname", "name"))
    assert await column(qs, "label") == ["annie", "ÅNGSTRÖM", "", "emi"]
    qs = Person.objects.annotate(n=Coalesce("age", "height", Value(0)))
    assert await column(qs, "n") == [34, 180, 34, 7]


async def test_coalesce_constant_is_bound(people: list[Person]) -> None:
    async def run(fallback: str) -> list[Any]:
        return await column(Person.objects.annotate(x=Coalesce("nickname", Value(fallback))), "x")

    one, two = await bound_pair(run, "?", "-")
    assert one == ["annie", "?", "", "emi"]
    assert two == ["annie", "-", "", "emi"]


async def test_lower_upper_map_unicode_the_same_everywhere(people: list[Person]) -> None:
    qs = Person.objects.annotate(low=Lower("name"), up=Upper("name"))
    assert await column(qs, "low") == ["ann", "ångström", "straße", "émile"]
    # "ß" has no one-character upper case: kept, as PostgreSQL and MariaDB do.
    assert await column(qs, "up") == ["ANN", "ÅNGSTRÖM", "STRAßE", "ÉMILE"]
    assert await column(Person.objects.annotate(x=Upper("nickname")), "x") == [
        "ANNIE", None, "", "EMI",
    ]


async def test_length_counts_characters_not_bytes(people: list[Person]) -> None:
    qs = Person.objects.annotate(n=Length("name"), m=Length("nickname"))
    assert await column(qs, "n") == [3, 8, 6, 5]
    assert await column(qs, "m") == [5, None, 0, 3]
    # A function in a filter, through alias().
    names = await Person.objects.alias(n=Length("name")).filter(n__gte=6).order_by("id")
    assert [p.name for p in names] == ["ÅNGSTRÖM", "straße"]
    # alias() filters and orders without selecting.
    rows = await Person.objects.alias(n=Length("name")).filter(n=3).order_by("-n").values()
    assert [sorted(r) for r in rows] == [["age", "code", "height", "id", "name", "nickname", "team_id"]]
    assert not hasattr(names[0], "n")


async def test_trim_functions(people: list[Person]) -> None:
    qs = Person.objects.annotate(t=Trim("code"), lt=LTrim("code"), rt=RTrim("code"))
    assert await column(qs, "t") == ["a1", "42", "", "x"]
    assert await column(qs, "lt") == ["a1 ", "42", "", "x"]
    assert await column(qs, "rt") == ["  a1", "42", "", " x"]


async def test_concat_treats_null_as_empty(people: list[Person]) -> None:
    qs = Person.objects.annotate(full=Concat("name", Value("/"), "nickname"))
    assert await column(qs, "full") == ["Ann/annie", "ÅNGSTRÖM/", "straße/", "Émile/emi"]

    async def run(separator: str) -> list[Any]:
        return await column(Person.objects.annotate(x=Concat("name", Value(separator), "age")), "x")

    one, two = await bound_pair(run, ":", " is ")
    assert one == ["Ann:34", "ÅNGSTRÖM:", "straße:34", "Émile:7"]
    assert two[0] == "Ann is 34"


async def test_functions_follow_relations(people: list[Person]) -> None:
    qs = Person.objects.annotate(label=Concat(Lower("team__name"), Value("-"), "name"))
    assert await column(qs, "label") == ["red-Ann", "red-ÅNGSTRÖM", "-straße", "-Émile"]
    qs = Person.objects.annotate(n=Length(F("team__name")))
    assert await column(qs, "n") == [3, 3, None, None]


async def test_greatest_and_least_are_null_when_any_argument_is(people: list[Person]) -> None:
    qs = Person.objects.annotate(g=Greatest("age", "height"), s=Least("age", "height"))
    assert await column(qs, "g") == [170, None, None, 120]
    assert await column(qs, "s") == [34, None, None, 7]

    async def run(floor: int) -> list[Any]:
        return await column(Person.objects.annotate(x=Greatest("height", Value(floor))), "x")

    one, two = await bound_pair(run, 150, 175)
    assert one == [170, 180, None, 150]
    assert two == [175, 180, None, 175]


async def test_cast(people: list[Person]) -> None:
    qs = Person.objects.annotate(
        text=Cast("age", models.CharField(max_length=10)),
        number=Cast("age", models.FloatField()),
    )
    assert await column(qs, "text") == ["34", None, "34", "7"]
    numbers = await column(qs, "number")
    assert numbers == [34.0, None, 34.0, 7.0] and isinstance(numbers[0], float)
    found = await Person.objects.alias(n=Cast("code", models.IntegerField())).filter(
        code="42", n__gt=41
    )
    assert [p.name for p in found] == ["ÅNGSTRÖM"]

    async def run(field: Any) -> list[Any]:
        return await column(Person.objects.annotate(x=Cast("age", field)), "x")

    # The target type is part of the SQL: two types, two statements, two answers.
    as_text, as_float = await shaped_pair(run, models.CharField(max_length=10), models.FloatField())
    assert as_text[0] == "34" and as_float[0] == 34.0


async def test_now_is_the_servers_utc_time(people: list[Person]) -> None:
    before = dt.datetime.now(UTC) - dt.timedelta(minutes=5)
    after = dt.datetime.now(UTC) + dt.timedelta(minutes=5)
    (now,) = await Person.objects.annotate(now=Now()).filter(name="Ann").values_list(
        "now", flat=True
    )
    assert isinstance(now, dt.datetime) and now.tzinfo is not None
    assert before <= now <= after
    assert await Person.objects.alias(now=Now()).filter(now__gt=before).count() == 4


async def test_func_with_a_function_name(people: list[Person]) -> None:
    qs = Person.objects.annotate(x=Func(F("age") - 40, function="abs"))
    assert await column(qs, "x") == [6, None, 6, 33]
    with pytest.raises(ValueError, match="identifiers"):
        Func(F("age"), function="abs); DROP TABLE x; --")
    with pytest.raises(TypeError, match="function="):
        Func(F("age"))


async def test_expression_wrapper_types_the_result(people: list[Person]) -> None:
    qs = Person.objects.annotate(
        ratio=ExpressionWrapper(F("height") * 1.0 / F("age"), output_field=models.FloatField())
    )
    ratios = await column(qs, "ratio")
    assert ratios[0] == pytest.approx(5.0) and ratios[1] is None and ratios[2] is None
    assert isinstance(ratios[3], float)


async def test_raw_sql_binds_its_params(people: list[Person]) -> None:
    async def run(bonus: int) -> list[Any]:
        qs = Person.objects.annotate(x=RawSQL("height + %s", (bonus,), models.IntegerField()))
        return await column(qs, "x")

    one, two = await bound_pair(run, 1, 100)
    assert one == [171, 181, None, 121]
    assert two == [270, 280, None, 220]
    evil = "1; DROP TABLE tests_functions_person"
    with capture_queries() as queries:
        qs = Person.objects.annotate(x=RawSQL("%s", (evil,)))
        assert await column(qs, "x") == [evil] * 4
    assert "DROP" not in queries[0].sql
    # A literal percent sign is %%.
    rows = await Person.objects.annotate(
        x=RawSQL("CASE WHEN code LIKE '%%1%%' THEN 1 ELSE 0 END", ())
    ).order_by("id").values_list("x", flat=True)
    assert list(rows) == [1, 0, 0, 0]

    async def text(sql: str) -> list[Any]:
        return await column(Person.objects.annotate(x=RawSQL(sql, ())), "x")

    plus, minus = await shaped_pair(text, "height + 1", "height - 1")
    assert plus[0] == 171 and minus[0] == 169


async def test_raw_sql_in_filter_and_order_by(people: list[Person]) -> None:
    names = await Person.objects.alias(h=RawSQL("height", ())).filter(h__gt=150).order_by(
        RawSQL("height", ()).desc()
    )
    assert [p.name for p in names] == ["ÅNGSTRÖM", "Ann"]


def test_argument_errors() -> None:
    with pytest.raises(ValueError, match="at least two"):
        Coalesce("a")
    with pytest.raises(ValueError, match="at least two"):
        Concat("a")
    with pytest.raises(ValueError, match="at least two"):
        Greatest("a")
    with pytest.raises(TypeError, match="takes 1 argument"):
        Lower("a", "b")
    with pytest.raises(TypeError, match="field instance"):
        Cast("a", None)
    with pytest.raises(ValueError, match="1 %s placeholder"):
        RawSQL("a + %s", (1, 2))
    with pytest.raises(TypeError, match="wraps an expression"):
        ExpressionWrapper("a", output_field=None)  # type: ignore[arg-type]


async def test_unknown_field_in_a_function(people: list[Person]) -> None:
    with pytest.raises(FieldError, match="Did you mean 'name'"):
        Person.objects.annotate(x=Lower("nmae"))


async def test_functions_without_constants_never_share_statements(people: list[Person]) -> None:
    async def run(function: Any) -> list[Any]:
        return await column(Person.objects.annotate(x=function("name")), "x")

    low, up = await shaped_pair(run, Lower, Upper)
    assert low[0] == "ann" and up[0] == "ANN"
    trimmed, left = await shaped_pair(
        lambda f: column(Person.objects.annotate(x=f("code")), "x"), Trim, LTrim
    )
    assert trimmed[0] == "a1" and left[0] == "a1 "

    async def extreme(function: Any) -> list[Any]:
        return await column(Person.objects.annotate(x=function("age", "height")), "x")

    most, least = await shaped_pair(extreme, Greatest, Least)
    assert most[0] == 170 and least[0] == 34


class Shout(Upper):
    """Upper with an exclamation mark: same function name, other SQL."""

    def sql(self, ctx: Any, args: Any) -> Any:
        return ctx.ops.concat(super().sql(ctx, args), ctx.const("!"))


async def test_a_func_subclass_never_shares_its_parents_statement(people: list[Person]) -> None:
    from reinhardt_db.models import Case, When

    async def run(function: Any) -> list[Any]:
        qs = Person.objects.annotate(
            x=Case(When(age__isnull=False, then=function("nickname")), default=Value("?"))
        )
        return await column(qs, "x")

    plain, loud = await shaped_pair(run, Upper, Shout)
    assert plain[0] == "ANNIE" and loud[0] == "ANNIE!"


async def test_cast_to_decimal_and_date(people: list[Person]) -> None:
    from decimal import Decimal

    qs = Person.objects.annotate(
        d=Cast("age", models.DecimalField(max_digits=6, decimal_places=2)),
        day=Cast(Value("2024-05-01"), models.DateField()),
        at=Cast(Value("2024-05-01 10:30:00"), models.DateTimeField()),
    )
    assert await column(qs, "at") == [dt.datetime(2024, 5, 1, 10, 30, tzinfo=UTC)] * 4
    assert await column(qs, "d") == [Decimal("34.00"), None, Decimal("34.00"), Decimal("7.00")]
    assert await column(qs, "day") == [dt.date(2024, 5, 1)] * 4
    by_team = await Person.objects.annotate(
        n=Window(RowNumber(), partition_by="team__name", order_by="id")
    ).order_by("id").values_list("n", flat=True)
    assert list(by_team) == [1, 2, 1, 2]


async def test_cast_to_boolean_and_text(people: list[Person]) -> None:
    qs = Person.objects.annotate(
        adult=Cast(F("age") - 18, models.BooleanField()),
        text=Cast("height", models.TextField()),
    )
    assert await column(qs, "adult") == [True, None, True, True]
    assert await column(qs, "text") == ["170", "180", None, "120"]
