"""The "same data" rule (SPEC section 2) as a property, checked on all three backends at once.

A random value (valid, out of range, too long, NaN, huge integers, wrong types,
decimals with too many places or digits, NUL characters, unicode) written
through the ORM either reads back equal on every backend or raises the same
error class on every backend. Stored values also find themselves with an exact
filter everywhere.

The per-backend differences docs/models.md lists are left out of the strategy
(and tested on their own in test_integrity.py): the first and last Python date
and datetime on PostgreSQL, JSON floats written with an exponent on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reinhardt_db
from reinhardt_db import models
from reinhardt_db.conf import reset_settings
from reinhardt_db.exceptions import ReinhardtError
from reinhardt_db.models.schema import create_tables, drop_tables

from .._servers import VENDORS
from .._servers import TestServers as Servers

UTC = dt.UTC


class Sample(models.Model):
    char = models.CharField(max_length=20, null=True)
    text = models.TextField(null=True)
    integer = models.IntegerField(null=True)
    small = models.SmallIntegerField(null=True)
    big = models.BigIntegerField(null=True)
    pos = models.PositiveIntegerField(null=True)
    real = models.FloatField(null=True)
    money = models.DecimalField(max_digits=8, decimal_places=3, null=True)
    day = models.DateField(null=True)
    moment = models.DateTimeField(null=True)
    clock = models.TimeField(null=True)
    span = models.DurationField(null=True)
    uid = models.UUIDField(null=True)
    flag = models.BooleanField(null=True)
    doc = models.JSONField(null=True)
    ip = models.GenericIPAddressField(null=True)

    class Meta:
        app_label = "tests_same_data"


# -- values ---------------------------------------------------------------------------------

_nasty_text = st.sampled_from(
    ["", " ", "a\x00b", "\x00", "trailing ", "\ud800", "x\udfffy", "é", "𝄞😀", "\u2028", "'\"\\%_"]
)
_text = st.text(max_size=30) | _nasty_text | st.text(
    st.characters(codec="utf-8", categories=["L", "M", "N", "P", "S", "Z", "Cc"]), max_size=25
)
_wrong = st.binary(max_size=4) | st.builds(bytearray, st.binary(max_size=4)) | st.just([1])
_ints = st.integers(-(2**70), 2**70) | st.sampled_from(
    [2**15, 2**15 - 1, -(2**15) - 1, 2**31, 2**31 - 1, -(2**31) - 1, 2**63, 2**63 - 1, -(2**63) - 1,
     10**30, -1, 0]
)
_floats = st.floats() | st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 5e-324, 1.7976931348623157e308])
_decimals = st.decimals(allow_nan=True, allow_infinity=True) | st.decimals(
    min_value=Decimal("-99999.9999"), max_value=Decimal("99999.9999")
) | st.sampled_from([Decimal("1.9995"), Decimal("99999.9995"), Decimal("-0.0001"), Decimal("1e-30")])


def _json() -> st.SearchStrategy[Any]:
    scalars = (
        st.none() | st.booleans() | st.integers(-(2**70), 2**70) | _text
        | st.floats(min_value=-1e15, max_value=1e15)
        | st.sampled_from([math.nan, math.inf])
    )
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=3)
        | st.dictionaries(_text, children, max_size=3),
        max_leaves=8,
    )


_aware = st.datetimes(
    min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
    timezones=st.just(UTC) | st.builds(
        dt.timezone, st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timedelta(minutes=m))
    ),
)

VALUES: dict[str, st.SearchStrategy[Any]] = {
    "char": _text | st.text(min_size=19, max_size=22) | _wrong | st.integers(),
    "text": _text | _wrong,
    "integer": _ints | _floats | st.booleans() | _wrong | st.sampled_from(["42", "x", "1e3"]),
    "small": _ints,
    "big": _ints | _decimals,
    "pos": _ints,
    "real": _floats | _ints | _decimals | st.sampled_from(["1.5", "nan", "-inf", "x"]),
    "money": _decimals | _floats | _ints | st.sampled_from(["3.14159", "1e5", "abc"]),
    "day": st.dates(min_value=dt.date(1, 1, 2), max_value=dt.date(9999, 12, 30)) | _aware,
    # Naive datetimes are refused (ValidationError) everywhere.
    "moment": _aware | st.datetimes(),
    "clock": st.times() | st.times(timezones=st.just(UTC)),
    "span": st.timedeltas(),
    "uid": st.uuids() | st.sampled_from(["not-a-uuid", "12345678123456781234567812345678"]),
    "flag": st.booleans() | st.sampled_from([0, 1, 2, "yes", "maybe"]),
    "doc": _json(),
    "ip": st.ip_addresses().map(str) | st.sampled_from(["fe80::1%" + "x" * 40, "300.1.1.1"]),
}

FIELD_VALUE = st.sampled_from(sorted(VALUES)).flatmap(
    lambda name: st.tuples(st.just(name), VALUES[name])
)


# -- all three backends at once ---------------------------------------------------------------


@pytest.fixture
async def aliases(test_servers: Servers) -> AsyncIterator[list[str]]:
    available = [vendor for vendor in VENDORS if vendor in test_servers.urls]
    if len(available) < 2:
        pytest.skip(f"needs two backends to compare, found {available}")
    databases = {vendor: test_servers.urls[vendor] for vendor in available}
    reinhardt_db.configure(databases={"default": databases[available[0]], **databases})
    try:
        for alias in available:
            await drop_tables([Sample], using=alias, if_exists=True)
            await create_tables([Sample], using=alias)
        yield available
        for alias in available:
            await drop_tables([Sample], using=alias, if_exists=True)
    finally:
        await reinhardt_db.close_all()
        reset_settings()


async def _outcome(alias: str, name: str, value: Any) -> tuple[Any, ...]:
    """``("ok", value read back, rows an exact filter finds)`` or ``("error", class name)``."""
    objects = Sample.objects.using(alias)
    await objects.all().delete()
    try:
        obj = await objects.create(**{name: value})
    except ReinhardtError as error:
        return ("error", type(error).__name__)
    back = await objects.values_list(name, flat=True).get(pk=obj.pk)
    found = await objects.filter(**{name: back}).count() if back is not None else 1
    return ("ok", back, found)


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    if a[0] != b[0]:
        return False
    if a[0] == "error":
        return a == b
    left, right = a[1], b[1]
    if isinstance(left, float) and isinstance(right, float):
        return left == right or (math.isnan(left) and math.isnan(right))
    # asyncpg returns a uuid.UUID subclass: compare types up to subclassing.
    same_type = isinstance(left, type(right)) or isinstance(right, type(left))
    return bool(left == right) and same_type and a[2] == b[2]


@settings(
    max_examples=int(os.environ.get("REINHARDT_HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(field_value=FIELD_VALUE)
async def test_same_value_or_same_error_on_every_backend(
    aliases: list[str], field_value: tuple[str, Any]
) -> None:
    name, value = field_value
    outcomes = {alias: await _outcome(alias, name, value) for alias in aliases}
    first = outcomes[aliases[0]]
    assert all(_same(first, other) for other in outcomes.values()), (name, value, outcomes)
    if first[0] == "ok":
        assert first[2] == 1, (name, value, outcomes)  # a stored value finds itself


async def test_the_strategy_reaches_both_outcomes(aliases: list[str]) -> None:
    """Guard against a strategy that only ever errors (or only ever stores)."""
    assert await _outcome(aliases[0], "char", "fits") == ("ok", "fits", 1)
    assert (await _outcome(aliases[0], "char", "x" * 21))[0] == "error"
