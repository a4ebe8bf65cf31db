"""Properties: set operations give what Python's multisets give; JSON containment is PostgreSQL's.

Random rows (a nullable integer and a nullable short text) and two or three
random filters are combined with ``union``/``intersection``/``difference``
(``all=True`` too, where the backend has it) and compared with the same
operation on Python multisets of the selected ``(num, tag)`` pairs: without
``all`` duplicates go (NULLs equal each other, as in SQL set operations).

Random JSON documents and candidates check ``contains``/``contained_by``
against ``jsonb_contains`` (the function SQLite registers) on PostgreSQL, whose
``@>`` it follows, and on SQLite (MariaDB's ``JSON_CONTAINS`` differs for
nested arrays: see docs/queries.md).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reinhardt_db
from reinhardt_db import models
from reinhardt_db.backends import connections
from reinhardt_db.backends.sqlite.driver import jsonb_contains
from reinhardt_db.conf import reset_settings
from reinhardt_db.models import Q
from reinhardt_db.models.schema import create_tables, drop_tables


class Pair(models.Model):
    num = models.IntegerField(null=True)
    tag = models.CharField(max_length=3, null=True)

    class Meta:
        app_label = "tests_setprops"


class Blob(models.Model):
    data = models.JSONField()

    class Meta:
        app_label = "tests_setprops"


EXAMPLES = int(os.environ.get("REINHARDT_PROPERTY_EXAMPLES", "40"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ints = st.integers(min_value=0, max_value=3)
tags = st.sampled_from(["a", "b", "ab"])
pairs = st.lists(st.tuples(st.none() | ints, st.none() | tags), max_size=12)
filters = st.one_of(
    st.builds(lambda v: (Q(num__gte=v), lambda n, t: n is not None and n >= v), ints),
    st.builds(lambda v: (Q(num=v), lambda n, t: n == v), ints),
    st.builds(lambda v: (Q(tag=v), lambda n, t: t == v), tags),
    st.builds(lambda f: (Q(tag__isnull=f), lambda n, t: (t is None) == f), st.booleans()),
    st.just((Q(), lambda n, t: True)),
)
KINDS = ("union", "intersection", "difference")


def _expected(kind: str, all_: bool, parts: list[Counter[Any]]) -> Counter[Any]:
    result = parts[0] if all_ else Counter(set(parts[0]))
    for part in parts[1:]:
        if not all_:
            part = Counter(set(part))
        if kind == "union":
            result = result + part if all_ else Counter(set(result) | set(part))
        elif kind == "intersection":
            result = result & part
        else:
            result = result - part
    return result


def _run(backend_url: str, prepare: Any, check: Any, strategy: Any) -> None:
    reinhardt_db.configure(databases={"default": backend_url})
    try:
        with asyncio.Runner() as runner:
            runner.run(prepare())
            examples = 0

            @SETTINGS
            @given(case=strategy)
            def run_one(case: Any) -> None:
                nonlocal examples
                examples += 1
                runner.run(check(case))

            try:
                run_one()
                assert examples >= EXAMPLES
            finally:
                runner.run(drop_tables([Pair, Blob], if_exists=True))
                runner.run(reinhardt_db.close_all())
    finally:
        reset_settings()


def test_set_operations_match_python_multisets(backend_url: str, backend_name: str) -> None:
    async def prepare() -> None:
        await drop_tables([Pair, Blob], if_exists=True)
        await create_tables([Pair, Blob])

    async def check(case: Any) -> None:
        data, kind, all_, chosen = case
        features = connections["default"].features
        if all_ and kind != "union" and not features.supports_intersect_except_all:
            all_ = False
        await Pair.objects.all().delete()
        await Pair.objects.bulk_create([Pair(num=n, tag=t) for n, t in data])
        querysets = [Pair.objects.filter(q).values_list("num", "tag") for q, _ in chosen]
        parts = [Counter((n, t) for n, t in data if test(n, t)) for _, test in chosen]
        combined = getattr(querysets[0], kind)(*querysets[1:], all=all_)
        got = Counter(await combined)
        expected = _expected(kind, all_, parts)
        assert got == +expected, f"{kind}(all={all_}) of {[q for q, _ in chosen]} on {data}"
        assert await combined.count() == sum(expected.values())

    strategy = st.tuples(
        pairs, st.sampled_from(KINDS), st.booleans(), st.lists(filters, min_size=2, max_size=3)
    )
    _run(backend_url, prepare, check, strategy)


json_scalars = st.none() | st.booleans() | st.integers(-2, 2) | st.sampled_from(["x", "y"])
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3),
    max_leaves=6,
)
# A top-level None is SQL NULL when stored, and no containment value.
json_documents = json_values.filter(lambda v: v is not None)
documents = st.lists(json_documents, min_size=1, max_size=5)


@pytest.mark.backends("sqlite", "postgresql")
def test_json_containment_matches_postgresql_rules(backend_url: str, backend_name: str) -> None:
    async def prepare() -> None:
        await drop_tables([Pair, Blob], if_exists=True)
        await create_tables([Pair, Blob])

    async def check(case: Any) -> None:
        docs, candidate = case
        await Blob.objects.all().delete()
        stored = await Blob.objects.bulk_create([Blob(data=d) for d in docs])
        got = set(await Blob.objects.filter(data__contains=candidate).values_list("pk", flat=True))
        want = {b.pk for b, d in zip(stored, docs, strict=True) if jsonb_contains(d, candidate)}
        assert got == want, f"contains {candidate!r} in {docs!r}"
        got = set(
            await Blob.objects.filter(data__contained_by=candidate).values_list("pk", flat=True)
        )
        want = {b.pk for b, d in zip(stored, docs, strict=True) if jsonb_contains(candidate, d)}
        assert got == want, f"contained_by {candidate!r} of {docs!r}"

    _run(backend_url, prepare, check, st.tuples(documents, json_documents))
