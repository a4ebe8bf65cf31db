"""The serializer writes values back as Python that rebuilds them."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import functools
import math
import re
import uuid
from typing import Any

import pytest

from reinhardt_db import migrations, models
from reinhardt_db.migrations.exceptions import SerializationError
from reinhardt_db.migrations.serializer import serialize


class Color(enum.Enum):
    RED = "r"


class Size(models.IntegerChoices):
    SMALL = 1


class LoudCharField(models.CharField):
    """A custom field: written with its own import path."""


def helper(value: int) -> int:
    return value


def evaluate(value: Any) -> tuple[Any, str]:
    source, imports = serialize(value)
    namespace: dict[str, Any] = {}
    exec("\n".join(sorted(imports)), namespace)
    return eval(source, namespace), source


@pytest.mark.parametrize("value", [
    None, True, 3, -2.5, "text with 'quotes'", 'say "hi"', b"\x00bytes",
    decimal.Decimal("1.50"), uuid.UUID("12345678123456781234567812345678"),
    dt.date(2024, 2, 29), dt.time(12, 30), dt.timedelta(days=2, seconds=5),
    dt.datetime(2024, 1, 2, 3, 4, 5, 6), [1, (2,)], (1, 2), {"a": [1, {"b": None}]},
    {3, 1, 2}, frozenset({"x"}), set(), Color.RED, dict, str,
], ids=repr)
def test_round_trip(value: Any) -> None:
    result, _ = evaluate(value)
    assert result == value
    assert type(result) is type(value)


def test_aware_datetimes_are_written_in_utc() -> None:
    tz = dt.timezone(dt.timedelta(hours=2))
    result, source = evaluate(dt.datetime(2024, 1, 1, 12, 0, tzinfo=tz))
    assert result == dt.datetime(2024, 1, 1, 10, 0, tzinfo=dt.UTC)
    assert "tzinfo=datetime.UTC" in source


def test_non_finite_floats() -> None:
    assert math.isnan(evaluate(float("nan"))[0])
    assert evaluate(float("-inf"))[0] == float("-inf")


def test_choices_members_are_written_as_values() -> None:
    result, source = evaluate(Size.SMALL)
    assert (result, source) == (1, "1")


def test_fields_validators_q_indexes_and_constraints() -> None:
    field = models.CharField(max_length=20, default="x",
                             validators=[models.MinLengthValidator(2)])
    result, source = evaluate(field)
    assert source.startswith("models.CharField(")
    assert result.deconstruct()[2:] == field.deconstruct()[2:]

    q = models.Q(a__gte=1) | ~models.Q(b="x")
    assert evaluate(q)[0] == q
    index = models.Index(fields=["-a"], name="i", condition=models.Q(c=True))
    assert evaluate(index)[0] == index
    unique = models.UniqueConstraint(fields=["a", "b"], name="u")
    assert evaluate(unique)[0] == unique


def test_custom_field_uses_its_own_path() -> None:
    result, source = evaluate(LoudCharField(max_length=3))
    assert source == f"{__name__}.LoudCharField(max_length=3)"
    assert type(result) is LoudCharField


def test_functions_partials_and_patterns() -> None:
    assert evaluate(helper)[0] is helper
    partial = functools.partial(helper, 3)
    result, _ = evaluate(partial)
    assert (result.func, result.args) == (helper, (3,))
    assert evaluate(re.compile(r"^a+", re.IGNORECASE))[0] == re.compile(r"^a+", re.IGNORECASE)
    result, source = evaluate(migrations.RunPython.noop)
    assert source == "migrations.RunPython.noop"


def test_operations() -> None:
    op = migrations.AddField("post", "n", models.IntegerField(default=0))
    result, source = evaluate(op)
    assert result == op
    assert source.startswith("migrations.AddField(\n")


def test_unserializable_values_say_what_to_do() -> None:
    def local() -> None: ...

    with pytest.raises(SerializationError, match="lambda"):
        serialize(lambda: 1)
    with pytest.raises(SerializationError, match="defined inside a function"):
        serialize(local)
    with pytest.raises(SerializationError, match=r"Cannot serialize <object.*deconstruct\(\)"):
        serialize(object())
