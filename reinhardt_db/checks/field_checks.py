"""Field checks: options the models layer accepts at import but that cannot work as meant.

A ``CharField`` without ``max_length``, a negative ``max_length``,
``decimal_places > max_digits`` and ``choices`` that are not pairs already
raise ``FieldError`` when the model class is created; these are the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from reinhardt_db.checks._models import checked_models
from reinhardt_db.checks.messages import CheckMessage, Error, Warning
from reinhardt_db.checks.registry import Tags, register
from reinhardt_db.models.fields import (
    BooleanField,
    DateField,
    DecimalField,
    DurationField,
    FloatField,
    IntegerField,
    JSONField,
    TimeField,
    UUIDField,
)

__all__ = ["check_fields"]

# Field types that never read max_length (the text and binary ones do).
_IGNORES_MAX_LENGTH = (
    BooleanField, DateField, DecimalField, DurationField, FloatField, IntegerField, JSONField,
    TimeField, UUIDField,
)
_NOW_WINDOW = dt.timedelta(days=1)


@register(Tags.models)
def check_fields(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Run the field checks (fields.E008, E009, W122, W161) on every model field."""
    messages: list[CheckMessage] = []
    for model in checked_models(app_configs):
        for field in model._meta.fields:
            messages += _validators(field)
            messages += _choices_fit(field)
            messages += _ignored_max_length(field)
            messages += _fixed_now_default(field)
    return messages


def _validators(field: Any) -> list[CheckMessage]:
    """fields.E008: every validator must be callable."""
    return [
        Error(
            f"all 'validators' must be callable; {validator!r} (at index {index}) isn't",
            hint="pass validator functions or objects with __call__, e.g. "
                 "validators=[MinValueValidator(0)]",
            obj=field,
            id="fields.E008",
        )
        for index, validator in enumerate(field._validators)
        if not callable(validator)
    ]


def _choices_fit(field: Any) -> list[CheckMessage]:
    """fields.E009: the longest text choice must fit ``max_length``."""
    if not field.choices or field.max_length is None:
        return []
    lengths = [len(value) for value, _label in field.flatchoices if isinstance(value, str)]
    longest = max(lengths, default=0)
    if longest <= field.max_length:
        return []
    return [Error(
        f"'max_length' ({field.max_length}) is too small to fit the longest value in "
        f"'choices' ({longest} characters)",
        hint=f"raise max_length to at least {longest}",
        obj=field,
        id="fields.E009",
    )]


def _ignored_max_length(field: Any) -> list[CheckMessage]:
    """fields.W122: ``max_length`` on a field type that ignores it."""
    if field.max_length is None or not isinstance(field, _IGNORES_MAX_LENGTH):
        return []
    return [Warning(
        f"'max_length' is ignored when used with {type(field).__name__}",
        hint="remove 'max_length' from the field (use a validator to bound the value)",
        obj=field,
        id="fields.W122",
    )]


def _fixed_now_default(field: Any) -> list[CheckMessage]:
    """fields.W161: ``default=now()`` (called once, at import) instead of ``default=now``."""
    # A fixed time of day (TimeField) may well be meant; a date near today rarely is.
    if not isinstance(field, DateField) or not isinstance(field.default, dt.date):
        return []
    value = field.default
    now = dt.datetime.now(dt.UTC)
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        recent = abs(now - moment) <= _NOW_WINDOW
    else:
        recent = abs(now.date() - value) <= _NOW_WINDOW
    if not recent:
        return []
    return [Warning(
        "fixed default value provided: it was computed once, when the model was imported",
        hint="for the current date or time pass the function itself, e.g. "
             "default=datetime.now (no parentheses), or use auto_now_add=True",
        obj=field,
        id="fields.W161",
    )]
