"""Property: a filter returns exactly the rows a Python predicate selects.

Random rows and random Q trees (AND / OR / NOT over lookups on an integer, a
text, and a date column, all nullable, on a nullable foreign key's target and
across a many-to-many relation) run on every backend and are compared with the
same condition evaluated in Python with Django's semantics: a lookup on NULL
is false (except ``isnull`` / ``=None``), and NOT negates that; within one
``filter()`` the many-to-many conditions talk about one related row, under a
NOT each asks whether any related row matches (see ``Row``).

Text: the alphabet mixes cases and LIKE/GLOB wildcards (``% _ * [``) so the
escaping is exercised, and has no spaces. On MySQL/MariaDB the text column is
switched to the case-sensitive ``utf8mb4_bin`` collation so that ``exact`` and
``contains`` compare case-sensitively as Python does (``utf8mb4_bin`` pads
trailing spaces, which the alphabet never produces).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import operator
import os
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reinhardt_db
from reinhardt_db import models
from reinhardt_db.conf import reset_settings
from reinhardt_db.models import Q
from reinhardt_db.models.schema import create_tables, drop_tables


class Owner(models.Model):
    level = models.IntegerField(null=True)

    class Meta:
        app_label = "tests_properties"


class Mark(models.Model):
    name = models.CharField(max_length=5)

    class Meta:
        app_label = "tests_properties"


class Prop(models.Model):
    num = models.IntegerField(null=True)
    text = models.CharField(max_length=10, null=True)
    day = models.DateField(null=True)
    owner = models.ForeignKey(Owner, null=True, on_delete=models.SET_NULL)
    marks = models.ManyToManyField(Mark)

    class Meta:
        app_label = "tests_properties"


MODELS = [Owner, Mark, Prop]
#: The owners (by index) and their levels; the marks' names (distinct in any collation).
OWNER_LEVELS = (None, -1, 2)
MARK_NAMES = ("a", "b", "c")


class Row:
    """A stored row seen by a predicate: its columns, its owner's level, its marks.

    Across a many-to-many relation Django's semantics hold: outside any NOT the
    conditions of one filter() talk about one joined mark (``mark``, None when
    the row has none); under a NOT each condition asks whether any mark matches.
    """

    def __init__(self, obj: Any, owner: int | None, marks: tuple[str, ...],
                 mark: str | None = None, negated: bool = False) -> None:
        self.obj, self.owner, self.marks, self.mark, self.is_negated = (
            obj, owner, marks, mark, negated,
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.obj, name)

    @property
    def owner_level(self) -> Any:
        return None if self.owner is None else OWNER_LEVELS[self.owner]

    def negated(self) -> Row:
        return Row(self.obj, self.owner, self.marks, self.mark, True)


ALPHABET = "abAB_%*["
#: More examples for a deeper local run: REINHARDT_PROPERTY_EXAMPLES=1000.
EXAMPLES = int(os.environ.get("REINHARDT_PROPERTY_EXAMPLES", "40"))
ints = st.integers(min_value=-3, max_value=3)
texts = st.text(alphabet=ALPHABET, max_size=3)
days = st.dates(min_value=dt.date(2023, 11, 28), max_value=dt.date(2024, 2, 3))

rows = st.lists(
    st.tuples(
        st.none() | ints, st.none() | texts, st.none() | days,
        st.none() | st.integers(0, len(OWNER_LEVELS) - 1),
        st.sets(st.sampled_from(MARK_NAMES), max_size=2).map(lambda m: tuple(sorted(m))),
    ),
    max_size=8,
)

Predicate = Callable[[Any], bool]
Leaf = tuple[Q, Predicate]


def _compare(path: str, lookup: str, value: Any, test: Callable[[Any, Any], bool]) -> Leaf:
    column = path.split("__")[0]  # "day__year" tests the day itself

    def predicate(row: Any) -> bool:
        current = getattr(row, column)
        return current is not None and test(current, value)

    return Q(**{f"{path}__{lookup}": value}), predicate


def _is_null(field: str, flag: bool) -> Leaf:
    return Q(**{f"{field}__isnull": flag}), lambda row: (getattr(row, field) is None) == flag


COMPARISONS = {"exact": operator.eq, "gt": operator.gt, "gte": operator.ge, "lt": operator.lt,
               "lte": operator.le}
TEXT_TESTS: dict[str, Callable[[str, str], bool]] = {
    "exact": operator.eq,
    "iexact": lambda a, b: a.lower() == b.lower(),
    "contains": lambda a, b: b in a,
    "icontains": lambda a, b: b.lower() in a.lower(),
    "startswith": lambda a, b: a.startswith(b),
    "istartswith": lambda a, b: a.lower().startswith(b.lower()),
    "endswith": lambda a, b: a.endswith(b),
    "iendswith": lambda a, b: a.lower().endswith(b.lower()),
}


def _in(field: str, values: list[Any]) -> Leaf:
    present = [v for v in values if v is not None]
    return _compare(field, "in", values, lambda a, _b: a in present)


num_leaves = st.one_of(
    st.builds(lambda lk, v: _compare("num", lk, v, COMPARISONS[lk]), st.sampled_from(sorted(COMPARISONS)), ints),
    st.builds(lambda vs: _in("num", vs), st.lists(st.none() | ints, max_size=4)),
    st.builds(
        lambda a, b: _compare("num", "range", (a, b), lambda x, r: r[0] <= x <= r[1]), ints, ints
    ),
    st.builds(lambda flag: _is_null("num", flag), st.booleans()),
    st.just((Q(num=None), lambda row: row.num is None)),
)
text_leaves = st.one_of(
    st.builds(lambda lk, v: _compare("text", lk, v, TEXT_TESTS[lk]), st.sampled_from(sorted(TEXT_TESTS)), texts),
    st.builds(lambda vs: _in("text", vs), st.lists(texts, max_size=3)),
    st.builds(lambda flag: _is_null("text", flag), st.booleans()),
)
day_leaves = st.one_of(
    st.builds(lambda lk, v: _compare("day", lk, v, COMPARISONS[lk]), st.sampled_from(sorted(COMPARISONS)), days),
    st.builds(lambda v: _compare("day__year", "exact", v, lambda d, y: d.year == y), st.sampled_from([2023, 2024])),
    st.builds(lambda v: _compare("day__month", "gte", v, lambda d, m: d.month >= m), st.integers(1, 12)),
    st.builds(lambda flag: _is_null("day", flag), st.booleans()),
)


def _owner(lookup: str, value: Any, test: Callable[[Any, Any], bool]) -> Leaf:
    def predicate(row: Any) -> bool:
        level = row.owner_level
        return level is not None and test(level, value)

    return Q(**{f"owner__level__{lookup}": value}), predicate


def _mark(lookup: str, value: Any, test: Callable[[Any, Any], bool]) -> Leaf:
    def predicate(row: Any) -> bool:
        if row.is_negated:
            return any(test(name, value) for name in row.marks)
        return row.mark is not None and test(row.mark, value)

    return Q(**{f"marks__name__{lookup}": value}), predicate


def _marks_null(flag: bool) -> Leaf:
    def predicate(row: Any) -> bool:
        if row.is_negated:
            return (not row.marks) == flag
        return (row.mark is None) == flag

    return Q(marks__isnull=flag), predicate


owner_leaves = st.one_of(
    st.builds(lambda lk, v: _owner(lk, v, COMPARISONS[lk]), st.sampled_from(sorted(COMPARISONS)), ints),
    st.builds(lambda vs: _owner("in", vs, lambda a, b: a in b), st.lists(ints, max_size=3)),
    st.builds(lambda flag: (Q(owner__isnull=flag), lambda row: (row.owner is None) == flag),
              st.booleans()),
    st.builds(lambda flag: (Q(owner__level__isnull=flag),
                            lambda row: (row.owner_level is None) == flag), st.booleans()),
)
mark_leaves = st.one_of(
    st.builds(lambda v: _mark("exact", v, lambda a, b: a == b), st.sampled_from(MARK_NAMES)),
    st.builds(lambda vs: _mark("in", vs, lambda a, b: a in b),
              st.lists(st.sampled_from(MARK_NAMES), max_size=2)),
    st.builds(_marks_null, st.booleans()),
)


def _and(a: Leaf, b: Leaf) -> Leaf:
    return a[0] & b[0], lambda row: a[1](row) and b[1](row)


def _or(a: Leaf, b: Leaf) -> Leaf:
    return a[0] | b[0], lambda row: a[1](row) or b[1](row)


def _not(a: Leaf) -> Leaf:
    return ~a[0], lambda row: not a[1](row.negated())


conditions = st.recursive(
    st.one_of(num_leaves, text_leaves, day_leaves, owner_leaves, mark_leaves),
    lambda inner: st.one_of(
        st.builds(_and, inner, inner), st.builds(_or, inner, inner), st.builds(_not, inner)
    ),
    max_leaves=6,
)


async def _prepare(vendor: str) -> None:
    await drop_tables(MODELS, if_exists=True)
    await create_tables(MODELS)
    for level in OWNER_LEVELS:
        await Owner.objects.create(level=level)
    for name in MARK_NAMES:
        await Mark.objects.create(name=name)
    if vendor == "mysql":
        from reinhardt_db.backends import connections

        await connections["default"].execute(
            "ALTER TABLE tests_properties_prop MODIFY text VARCHAR(10) "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL"
        )


async def _check(data: list[tuple[Any, ...]], condition: Leaf, exclude: bool) -> None:
    await Prop.objects.all().delete()
    owners = [o.pk for o in await Owner.objects.order_by("id")]
    marks = {m.name: m.pk for m in await Mark.objects.all()}
    stored = await Prop.objects.bulk_create([
        Prop(num=n, text=t, day=d, owner_id=None if o is None else owners[o])
        for n, t, d, o, _ in data
    ])
    junction = Prop._meta.get_field("marks").through
    await junction.objects.bulk_create([
        junction(prop_id=p.pk, mark_id=marks[name])
        for p, row in zip(stored, data, strict=True) for name in row[4]
    ])
    seen = [Row(p, row[3], row[4]) for p, row in zip(stored, data, strict=True)]
    q, predicate = condition
    if exclude:
        expected = sorted(r.pk for r in seen if not predicate(r.negated()))
        queryset = Prop.objects.exclude(q)
    else:
        expected = sorted(
            r.pk for r in seen
            if any(predicate(Row(r.obj, r.owner, r.marks, m)) for m in (r.marks or (None,)))
        )
        queryset = Prop.objects.filter(q)
    # Joins over the many-to-many relation repeat a row once per matching mark (as in Django).
    got = sorted(set(await queryset.values_list("pk", flat=True)))
    assert got == expected, f"{q!r} on {data!r}"
    assert await queryset.distinct().count() == len(expected)


def test_filters_select_what_python_selects(backend_url: str, backend_name: str) -> None:
    reinhardt_db.configure(databases={"default": backend_url})
    try:
        with asyncio.Runner() as runner:
            runner.run(_prepare(backend_name))
            examples = 0

            @settings(
                max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            )
            @given(data=rows, condition=conditions, exclude=st.booleans())
            def check(data: list[tuple[Any, ...]], condition: Leaf, exclude: bool) -> None:
                nonlocal examples
                examples += 1
                runner.run(_check(data, condition, exclude))

            try:
                check()
                assert examples >= EXAMPLES
            finally:
                runner.run(drop_tables(MODELS, if_exists=True))
                runner.run(reinhardt_db.close_all())
    finally:
        reset_settings()
