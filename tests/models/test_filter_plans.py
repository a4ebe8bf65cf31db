"""Remembered keyword-filter shapes (``sql/filter_plans.py``) give the answers of the full road.

A filter's shape is remembered by the paths and the values' types; these tests
run the same call shape with values the memo must not vouch for (outside the
column's range, NaN, None, another type, a lookup that reads its value) after it
has remembered one, and check the rows against what each value means.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reinhardt_db
from reinhardt_db import models
from reinhardt_db.conf import reset_settings
from reinhardt_db.models import Lookup
from reinhardt_db.models.schema import create_tables, drop_tables
from reinhardt_db.models.sql import filter_plans
from reinhardt_db.models.sql.query import Query


class Gauge(models.Model):
    level = models.SmallIntegerField(null=True)
    ratio = models.FloatField(null=True)
    label = models.CharField(max_length=20, default="")

    class Meta:
        app_label = "tests_filter_plans"
        ordering = ["id"]


class Needle(models.Model):
    gauge = models.ForeignKey(Gauge, on_delete=models.CASCADE, related_name="needles")

    class Meta:
        app_label = "tests_filter_plans"
        ordering = ["id"]


LEVELS = [-32768, -5, 0, 7, 32767, None]


async def _fill() -> list[Gauge]:
    return await Gauge.objects.bulk_create(
        [Gauge(level=lv, ratio=None if lv is None else lv / 2, label=f"g{lv}") for lv in LEVELS]
    )


def _levels(rows: list[Gauge]) -> list[int | None]:
    return [g.level for g in rows]


async def test_a_remembered_shape_is_reused_and_answers_like_the_full_road(
    backend: Any, make_tables: Any
) -> None:
    await make_tables(Gauge)
    await _fill()
    filter_plans._plans.clear()
    assert _levels(await Gauge.objects.filter(level=7)) == [7]
    assert len(filter_plans._plans) == 1
    # Same call shape: the remembered shape, new values.
    assert _levels(await Gauge.objects.filter(level=-5)) == [-5]
    assert _levels(await Gauge.objects.filter(level=3)) == []
    assert len(filter_plans._plans) == 1


async def _memo_and_full_road(make: Any, warm: Any, value: Any) -> tuple[list[Any], list[Any]]:
    """The rows (or error class) of ``make(value)`` after ``make(warm)`` was remembered,
    and on the full road."""
    async def outcome() -> Any:
        try:
            return _levels(await make(value))
        except Exception as error:  # the same error class either way
            return type(error)

    filter_plans._plans.clear()
    await make(warm)
    assert filter_plans._plans, "the in-range call should have been remembered"
    remembered = await outcome()
    filter_plans._plans.clear()
    return remembered, await outcome()


async def test_values_outside_the_range_after_a_remembered_shape_take_the_full_road(
    backend: Any, make_tables: Any
) -> None:
    await make_tables(Gauge)
    await _fill()
    # A SmallIntegerField holds -32768..32767: beyond it, Django 5's rules.
    for lookup in ("exact", "lt", "lte", "gt", "gte"):
        for value in (40000, -40000, 2**80, -(2**80)):
            for negate in (False, True):
                kwargs = lambda v, lookup=lookup: {f"level__{lookup}": v}  # noqa: E731

                def make(v: Any, kwargs: Any = kwargs, negate: bool = negate) -> Any:
                    manager = Gauge.objects
                    return manager.exclude(**kwargs(v)) if negate else manager.filter(**kwargs(v))

                remembered, full = await _memo_and_full_road(make, 0, value)
                assert remembered == full, (lookup, value, negate)
    assert await Gauge.objects.filter(level=40000).count() == 0
    assert _levels(await Gauge.objects.exclude(level=40000)) == LEVELS


async def test_nan_none_and_other_types_after_a_remembered_shape(
    backend: Any, make_tables: Any
) -> None:
    await make_tables(Gauge)
    await _fill()
    assert _levels(await Gauge.objects.filter(ratio=3.5)) == [7]
    assert await Gauge.objects.filter(ratio=math.nan).count() == 0
    assert _levels(await Gauge.objects.filter(ratio=None)) == [None]
    assert _levels(await Gauge.objects.filter(ratio=0)) == [0]  # an int for a float column
    assert _levels(await Gauge.objects.filter(level=True)) == []  # True == 1
    assert _levels(await Gauge.objects.filter(level=None)) == [None]


async def test_two_keywords_in_either_order(backend: Any, make_tables: Any) -> None:
    await make_tables(Gauge)
    await _fill()
    assert _levels(await Gauge.objects.filter(level=7, label="g7")) == [7]
    assert _levels(await Gauge.objects.filter(label="g7", level=7)) == [7]
    assert await Gauge.objects.filter(level=7, label="g0").count() == 0
    assert await Gauge.objects.filter(label="g0", level=70000).count() == 0


async def test_chained_filters_keep_their_parameter_positions(
    backend: Any, make_tables: Any
) -> None:
    await make_tables(Gauge)
    await _fill()
    for _ in range(2):
        qs = Gauge.objects.filter(level__gte=-5).filter(level__lte=7).exclude(level=0)
        assert _levels(await qs) == [-5, 7]
    assert _levels(await Gauge.objects.filter(level__gte=0).filter(level__lte=32767)) == [
        0, 7, 32767
    ]


class Tenfold(Lookup):
    """A lookup whose shape reads its value: it must never be remembered."""

    lookup_name = "tenfold"

    @classmethod
    def parameterize_rhs(cls, value: Any, values: list[Any], resolver: Any) -> Any:
        values.append(value * 10)
        return ("P", len(values) - 1)

    def as_expression(self, lhs: Any, rhs: Any) -> Any:
        return lhs == rhs


def test_a_lookup_with_its_own_parameterize_rhs_is_never_remembered() -> None:
    models.SmallIntegerField.register_lookup(Tenfold)
    try:
        filter_plans._plans.clear()
        for value in (1, 2):
            query = Query(Gauge)
            query.add_filter((), {"level__tenfold": value})
            assert query.values == [value * 10]
        assert filter_plans._plans == {}
    finally:
        models.SmallIntegerField._unregister_lookup(Tenfold)


def test_registering_a_lookup_forgets_every_remembered_shape() -> None:
    Query(Gauge).add_filter((), {"level": 1})
    assert filter_plans._plans
    models.SmallIntegerField.register_lookup(Tenfold)
    try:
        assert filter_plans._plans == {}
    finally:
        models.SmallIntegerField._unregister_lookup(Tenfold)


async def test_a_foreign_key_column_given_plain_keys_is_remembered(
    backend: Any, make_tables: Any
) -> None:
    await make_tables(Gauge, Needle)
    gauges = await _fill()
    await Needle.objects.bulk_create([Needle(gauge=g) for g in gauges[:3]])
    filter_plans._plans.clear()
    assert [n.gauge_id for n in await Needle.objects.filter(gauge_id=gauges[0].pk)] == [
        gauges[0].pk
    ]
    assert len(filter_plans._plans) == 1
    assert [n.gauge_id for n in await Needle.objects.filter(gauge_id=gauges[1].pk)] == [
        gauges[1].pk
    ]
    assert await Needle.objects.filter(gauge_id=gauges[4].pk) == []
    assert len(await Needle.objects.filter(gauge=gauges[2])) == 1  # an instance: full road
    assert len(filter_plans._plans) == 1
    # A related manager filters by the key column: every access after the first reuses it.
    assert [len(await g.needles.all()) for g in gauges] == [1, 1, 1, 0, 0, 0]


def test_relations_and_expressions_are_never_remembered() -> None:
    filter_plans._plans.clear()
    Query(Gauge).add_filter((), {"level": models.F("level")})
    Query(Gauge).add_filter((), {"label__in": ["a", "b"]})
    assert filter_plans._plans == {}


# Values around and beyond a SmallIntegerField's range, of the types a user passes.
_values = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([-32769, -32768, 32767, 32768, 0]),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
)


def test_remembered_shapes_answer_like_the_full_road(backend_url: str) -> None:
    reinhardt_db.configure(databases={"default": backend_url})
    try:
        with asyncio.Runner() as runner:
            runner.run(create_tables([Gauge]))

            @settings(max_examples=60, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])
            @given(value=_values, lookup=st.sampled_from(["exact", "lt", "lte", "gt", "gte"]),
                   negate=st.booleans())
            def check(value: Any, lookup: str, negate: bool) -> None:
                def make(v: Any) -> Any:
                    kwargs = {f"level__{lookup}": v}
                    manager = Gauge.objects
                    return manager.exclude(**kwargs) if negate else manager.filter(**kwargs)

                remembered, full = runner.run(_memo_and_full_road(make, 1, value))
                assert remembered == full

            try:
                runner.run(_fill())
                check()
            finally:
                runner.run(drop_tables([Gauge], if_exists=True))
                runner.run(reinhardt_db.close_all())
    finally:
        reset_settings()
