"""Register the built-in lookups and transforms on the field classes (once)."""

from __future__ import annotations

__all__ = ["ensure_lookups_registered"]

_done = False


def ensure_lookups_registered() -> None:
    """Register lookups on ``Field``, date and time transforms and JSON lookups; idempotent."""
    global _done
    if _done:
        return
    from reinhardt_db.models.datetime_transforms import (
        DATE_TRANSFORMS,
        DATETIME_TRANSFORMS,
        TIME_TRANSFORMS,
    )
    from reinhardt_db.models.fields import DateField, DateTimeField, Field, JSONField, TimeField
    from reinhardt_db.models.json_lookups import JSON_FIELD_LOOKUPS
    from reinhardt_db.models.lookups import register_builtin_lookups

    register_builtin_lookups(Field)
    for transform in DATE_TRANSFORMS:
        DateField.register_lookup(transform)
    for transform in DATETIME_TRANSFORMS:
        DateTimeField.register_lookup(transform)
    for transform in TIME_TRANSFORMS:
        TimeField.register_lookup(transform)
    for lookup in JSON_FIELD_LOOKUPS:
        JSONField.register_lookup(lookup)
    _done = True
