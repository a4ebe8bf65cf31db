"""Field checks: validators, choices against max_length, ignored max_length, fixed 'now'."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.checks import WARNING, CheckMessage, run_checks

from .conftest import ids


def declare(**fields: Any) -> type[models.Model]:
    meta = type("Meta", (), {"app_label": "shop"})
    return type("Order", (models.Model,), {"__module__": __name__, **fields, "Meta": meta})  # type: ignore[return-value]


def messages() -> list[CheckMessage]:
    return run_checks(tags=["models"])


def test_validators_must_be_callable() -> None:
    model = declare(qty=models.IntegerField(validators=[models.MinValueValidator(0), "positive"]))
    [message] = messages()
    assert message.id == "fields.E008" and message.obj is model._meta.get_field("qty")
    assert message.msg == "all 'validators' must be callable; 'positive' (at index 1) isn't"
    assert str(message).startswith("shop.Order.qty: (fields.E008)")


class Size(models.TextChoices):
    SMALL = "small", "Small"
    EXTRA_LARGE = "extra-large", "Extra large"


@pytest.mark.parametrize(
    "choices",
    [Size.choices, Size, [("small", "Small"), ("Big ones", [("extra-large", "XL")])]],
    ids=["pairs", "enum", "groups"],
)
def test_the_longest_choice_must_fit_max_length(choices: Any) -> None:
    declare(size=models.CharField(max_length=5, choices=choices))
    [message] = messages()
    assert message.id == "fields.E009"
    assert message.msg == (
        "'max_length' (5) is too small to fit the longest value in 'choices' (11 characters)"
    )
    assert message.hint == "raise max_length to at least 11"


def test_choices_that_fit_pass() -> None:
    declare(
        size=models.CharField(max_length=11, choices=Size),
        level=models.IntegerField(choices=[(1, "Low"), (100000, "High")]),
    )
    assert messages() == []


@pytest.mark.parametrize(
    "field",
    [models.IntegerField(max_length=5), models.BooleanField(max_length=1),
     models.DecimalField(max_digits=5, decimal_places=2, max_length=7)],
    ids=["integer", "boolean", "decimal"],
)
def test_max_length_where_it_is_ignored_is_a_warning(field: models.Field[Any]) -> None:
    declare(value=field)
    [message] = messages()
    assert (message.id, message.level) == ("fields.W122", WARNING)
    assert message.msg == f"'max_length' is ignored when used with {type(field).__name__}"


def test_max_length_where_it_is_used_is_fine() -> None:
    declare(
        note=models.TextField(max_length=500),
        blob=models.BinaryField(max_length=64),
        slug=models.SlugField(max_length=30),
    )
    assert messages() == []


@pytest.mark.parametrize(
    "field",
    [
        models.DateTimeField(default=dt.datetime.now(dt.UTC)),
        models.DateTimeField(default=dt.datetime.now()),  # naive: still the same mistake
        models.DateField(default=dt.date.today()),
    ],
    ids=["aware-datetime", "naive-datetime", "date"],
)
def test_a_default_computed_at_import_is_a_warning(field: models.Field[Any]) -> None:
    declare(placed=field)
    [message] = messages()
    assert (message.id, message.level) == ("fields.W161", WARNING)
    assert "default=datetime.now (no parentheses)" in (message.hint or "")


def test_fixed_dates_far_from_now_and_callables_are_fine() -> None:
    declare(
        opened=models.DateField(default=dt.date(2000, 1, 1)),
        placed=models.DateTimeField(default=lambda: dt.datetime.now(dt.UTC)),
        at=models.TimeField(default=dt.time(9, 0)),
    )
    assert messages() == []
    assert ids(run_checks()) == []
