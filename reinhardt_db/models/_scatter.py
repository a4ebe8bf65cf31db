"""Queries that a shard router spreads over several databases: run on each, merge.

``QuerySet`` asks :func:`shards_of` before it runs; with more than one alias
the statement runs once per shard (``using(alias)``) and the results are merged
here: rows in the query's order (plain field orderings only), slices taken
after the merge, counts and ``Count``/``Sum``/``Min``/``Max`` combined.
"""

from __future__ import annotations

from typing import Any

from reinhardt_db import exceptions as exc
from reinhardt_db.models.sql.compiler import MODE_DICTS, MODE_MODELS
from reinhardt_db.routers import router

__all__ = ["check_mergeable", "merge_aggregates", "scatter_fetch", "sharded", "shards_of"]

_MERGEABLE = {"Count": "sum", "Sum": "sum", "Min": "min", "Max": "max"}


def shards_of(qs: Any) -> list[str] | None:
    """The shards ``qs`` must run on when there is more than one, else None."""
    routers = router._routers
    if qs._db is not None or (routers is not None and not routers) or not router.sharding:
        return None
    shards = router.shards_for(qs.model, query=qs.query, **qs._hints)
    return shards if shards is not None and len(shards) > 1 else None


def sharded(model: Any) -> bool:
    """True when a shard router splits ``model``'s rows over several databases."""
    routers = router._routers
    if routers is not None and not routers:
        return False
    return router.sharding and router.shards_for(model) is not None


async def scatter_fetch(qs: Any, shards: list[str], prefetch: bool) -> list[Any]:
    """Run ``qs`` on every shard and merge the rows (ordered, then sliced)."""
    query = qs.query
    keys = _merge_keys(qs) if query.is_ordered() else []
    low, high = query.low_mark, query.high_mark
    rows: list[Any] = []
    for alias in shards:
        part = qs._chain()
        part._db = alias
        # Each shard returns its first `high` rows; the slice is taken after the merge.
        part.query.low_mark = 0
        rows.extend(await (part._fetch_all() if prefetch else part._execute()))
    for key, descending in reversed(keys):  # stable sorts, last key first
        rows.sort(key=key, reverse=descending)
    if low or high is not None:
        rows = rows[low:high]
    return rows


def _merge_keys(qs: Any) -> list[tuple[Any, bool]]:
    query = qs.query
    meta = qs.model._meta
    items = query.order_by or (meta.ordering if query.default_ordering else ())
    keys = []
    for item in items:
        if not isinstance(item, str) or item == "?" or "__" in item:
            raise exc.NotSupportedError(
                f"a query on {meta.object_name} spread over shards can be ordered by field "
                f"names only, not {item!r}; pin the shard key or order in Python"
            )
        descending = item.startswith("-") != (not query.standard_ordering)
        name = item.lstrip("-")
        field = meta.pk if name == "pk" else meta.get_field(name)
        keys.append((_key(qs, name, field.attname), descending))
    return keys


def _key(qs: Any, name: str, attname: str) -> Any:
    mode = qs._mode
    if mode == MODE_MODELS:
        def model_key(row: Any) -> tuple[bool, Any]:
            value = row.__dict__.get(attname)
            return (value is not None, value)
        return model_key
    if mode == MODE_DICTS:
        def dict_key(row: Any) -> tuple[bool, Any]:
            value = row[name] if name in row else row[attname]
            return (value is not None, value)
        return dict_key
    raise exc.NotSupportedError(
        "values_list() over several shards cannot be merged in order; use values() "
        "(with the ordering fields) or pin the shard key"
    )


def check_mergeable(aggregates: dict[str, Any]) -> None:
    """Refuse aggregates whose per-shard results cannot be combined (``Avg``, distinct)."""
    for name, expression in aggregates.items():
        kind = type(expression).__name__
        if kind not in _MERGEABLE or getattr(expression, "distinct", False):
            raise exc.NotSupportedError(
                f"{name}={expression!r} cannot be combined across shards (only Count, Sum, "
                "Min and Max without distinct can); pin the shard key, or compute it from "
                "a Sum and a Count"
            )


def merge_aggregates(aggregates: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Combine each shard's ``aggregate()`` result."""
    merged: dict[str, Any] = {}
    for name, expression in aggregates.items():
        how = _MERGEABLE[type(expression).__name__]
        values = [part[name] for part in parts if part[name] is not None]
        if not values:
            merged[name] = parts[0][name]
        elif how == "sum":
            merged[name] = sum(values)
        else:
            merged[name] = min(values) if how == "min" else max(values)
    return merged
