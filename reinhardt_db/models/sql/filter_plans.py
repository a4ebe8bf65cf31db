"""Remembered shapes of keyword filters: ``filter(pk=5)`` resolved once per call shape.

Turning ``filter(level=3, text__startswith="a")`` into a shape resolves every
path, picks each lookup and checks each value against the column's range: about
half the Python a simple ``get()`` costs. For keyword lookups on a model's own
columns, whose values are plain constants, the outcome depends only on the
paths, the values' *types*, where the parameters start, and whether each value
is inside the column's range. So the first call stores the shape under that
key, and later calls with the same key only re-check the ranges, append the
values and reuse the shape; a value outside its range (or anything the memo
cannot vouch for) takes the full road, which decides as it always did.

A shape is remembered only when the full road showed it is of that kind: every
leaf a plain parameter holding the very value passed, no join added, and a
lookup whose shape depends on nothing but the value's type (the built-in
``shape_rhs``/``parameterize_rhs``; a lookup that overrides them is never
remembered, so it sees every value).
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Mapping
from typing import Any

from reinhardt_db.models.lookups import _RANGED, Exact, Lookup
from reinhardt_db.models.query_utils import on_lookups_changed

__all__ = ["FilterPlan", "find_plan", "remember_plan"]

#: Values whose shape is decided by their type alone (and the range check).
_PLAIN_TYPES = frozenset({
    int, bool, float, str, bytes, decimal.Decimal, uuid.UUID,
    dt.datetime, dt.date, dt.time, dt.timedelta,
})
_DEFAULT_SHAPE = Lookup.shape_rhs.__func__  # type: ignore[attr-defined]
_DEFAULT_PARAMETERIZE = frozenset({
    Lookup.parameterize_rhs.__func__,  # type: ignore[attr-defined]
    Exact.parameterize_rhs.__func__,  # type: ignore[attr-defined]
})
_MAX_PLANS = 4096

#: ``(node, bounds)``: the filter's shape, and for each value the range it must
#: be inside for the shape to hold (None: any value of its type).
FilterPlan = tuple[tuple[Any, ...], tuple[tuple[Any, Any] | None, ...]]
PlanKey = tuple[Any, ...]

_plans: dict[PlanKey, FilterPlan] = {}
on_lookups_changed(_plans.clear)


def plan_key(model: Any, negated: bool, start: int, kwargs: Mapping[str, Any]) -> PlanKey:
    """The call shape of ``filter(**kwargs)`` whose parameters start at ``start``."""
    if len(kwargs) == 1:
        # The usual get(pk=...): half the cost of building the two tuples.
        for path, value in kwargs.items():
            return (model, negated, start, path, type(value))
    return (model, negated, start, tuple(kwargs), tuple(map(type, kwargs.values())))


def find_plan(key: PlanKey, kwargs: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """Return the remembered shape for ``key`` if every value is inside its range, else None."""
    plan = _plans.get(key)
    if plan is None:
        return None
    node, bounds = plan
    try:
        for value, limit in zip(kwargs.values(), bounds, strict=True):
            # NaN fails both comparisons; a decimal NaN or a value of a type the bounds
            # do not compare with raises: the full road decides, as for any miss.
            if limit is not None and not limit[0] <= value <= limit[1]:
                return None
    except (TypeError, ArithmeticError):
        return None
    return node


def remember_plan(
    key: PlanKey,
    kwargs: Mapping[str, Any],
    node: tuple[Any, ...],
    added: list[Any],
    resolver: Any,
) -> None:
    """Store ``node`` under ``key`` when the full road showed it depends on types alone.

    ``added`` are the parameters the full road appended, ``resolver`` the one it used.
    """
    start = key[2]
    children = node[2]
    if len(children) != len(kwargs) or len(added) != len(kwargs):
        return
    bounds: list[tuple[Any, Any] | None] = []
    for i, ((path, value), child, param) in enumerate(
        zip(kwargs.items(), children, added, strict=True)
    ):
        if (
            param is not value
            or type(value) not in _PLAIN_TYPES
            or child != (path, ("P", start + i))
        ):
            return
        info = resolver.resolve_lookup(path)
        lookup = info.lookup
        field = info.field
        if (
            info.steps
            or info.annotation is not None
            # A foreign key's own column given a plain key (``author_id=5``, what a
            # related manager filters by) is a column like any other; other relations,
            # and instances (not a plain type), take the full road.
            or (field is not None and field.is_relation and not field.concrete)
            or lookup.shape_rhs.__func__ is not _DEFAULT_SHAPE
            or lookup.parameterize_rhs.__func__ not in _DEFAULT_PARAMETERIZE
        ):
            return
        ranged = lookup.below_range is not None or lookup.above_range is not None
        # Only numbers are held against the range (``lookups.outside``'s rule).
        checked = ranged and info.bounds is not None and isinstance(value, _RANGED)
        bounds.append(info.bounds if checked else None)
    if len(_plans) >= _MAX_PLANS:
        _plans.clear()
    _plans[key] = (node, tuple(bounds))
