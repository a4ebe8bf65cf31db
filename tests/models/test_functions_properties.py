"""Property: text and comparison functions give what Python computes, on every backend.

Random rows (two nullable texts over an alphabet of ASCII and accented Latin
letters, digits, spaces and a hyphen, two nullable integers) are annotated with
``Lower Upper Length Trim LTrim RTrim Concat Coalesce Greatest Least`` and
compared with the same functions in Python: the ORM promises one answer on
SQLite, PostgreSQL and MySQL/MariaDB (Unicode case mapping, characters not
bytes, NULL as "" in Concat, NULL when any argument of Greatest/Least is NULL).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reinhardt_db
from reinhardt_db import models
from reinhardt_db.conf import reset_settings
from reinhardt_db.models import (
    Coalesce,
    Concat,
    Greatest,
    Least,
    Length,
    Lower,
    LTrim,
    RTrim,
    Trim,
    Upper,
    Value,
)
from reinhardt_db.models.schema import create_tables, drop_tables

EXAMPLES = int(os.environ.get("REINHARDT_FUNCTION_EXAMPLES", "25"))
ALPHABET = "aAzZéÉèÈñÑöÖåÅçÇ09 -"


class Text(models.Model):
    a = models.CharField(max_length=20, null=True)
    b = models.CharField(max_length=20, null=True)
    x = models.IntegerField(null=True)
    y = models.IntegerField(null=True)

    class Meta:
        app_label = "tests_functions_properties"


# No trailing spaces: MySQL's PAD SPACE collations compare "a " equal to "a",
# which is about comparisons, not these functions; kept out of the data.
texts = st.one_of(
    st.none(), st.text(ALPHABET, max_size=8).map(lambda t: t.rstrip() if t.strip() else t)
)
numbers = st.one_of(st.none(), st.integers(-50, 50))
rows = st.lists(st.tuples(texts, texts, numbers, numbers), min_size=1, max_size=6)


def _null(function: Any) -> Any:
    return lambda *args: None if any(a is None for a in args) else function(*args)


PYTHON = {
    "lower": _null(str.lower),
    "upper": _null(str.upper),
    "length": _null(len),
    "trim": _null(lambda t: t.strip(" ")),
    "ltrim": _null(lambda t: t.lstrip(" ")),
    "rtrim": _null(lambda t: t.rstrip(" ")),
}


async def _check(data: list[tuple[Any, ...]]) -> None:
    await Text.objects.all().delete()
    stored = await Text.objects.bulk_create([Text(a=a, b=b, x=x, y=y) for a, b, x, y in data])
    got = await Text.objects.annotate(
        lower=Lower("a"), upper=Upper("a"), length=Length("a"), trim=Trim("a"),
        ltrim=LTrim("a"), rtrim=RTrim("a"),
        concat=Concat("a", Value("|"), "b"), coalesce=Coalesce("a", "b", Value("∅")),
        greatest=Greatest("x", "y"), least=Least("x", "y"),
    ).order_by("id").values(
        "lower", "upper", "length", "trim", "ltrim", "rtrim", "concat", "coalesce",
        "greatest", "least",
    )
    want = []
    for row in stored:
        a, b, x, y = row.a, row.b, row.x, row.y
        expected = {name: function(a) for name, function in PYTHON.items()}
        expected.update(
            concat=(a or "") + "|" + (b or ""),
            coalesce=a if a is not None else b if b is not None else "∅",
            greatest=_null(max)(x, y),
            least=_null(min)(x, y),
        )
        want.append(expected)
    assert list(got) == want, f"on {data!r}"


def test_functions_compute_what_python_computes(backend_url: str, backend_name: str) -> None:
    reinhardt_db.configure(databases={"default": backend_url})
    try:
        with asyncio.Runner() as runner:
            runner.run(drop_tables([Text], if_exists=True))
            runner.run(create_tables([Text]))
            examples = 0

            @settings(
                max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            )
            @given(data=rows)
            def check(data: list[tuple[Any, ...]]) -> None:
                nonlocal examples
                examples += 1
                runner.run(_check(data))

            try:
                check()
                assert examples >= EXAMPLES
            finally:
                runner.run(drop_tables([Text], if_exists=True))
                runner.run(reinhardt_db.close_all())
    finally:
        reset_settings()
