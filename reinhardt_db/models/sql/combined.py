"""Set operations: the compound SELECT of a combined query (``union()`` ...).

``Query.combine`` keeps the parts' shapes and lays their parameters end to
end; this module builds ``UNION``/``INTERSECT``/``EXCEPT`` over them for one
backend, refusing what its ``features`` say the server cannot run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from reinhardt_db.exceptions import NotSupportedError

if TYPE_CHECKING:
    from reinhardt_db.models.sql.context import CompileContext
    from reinhardt_db.models.sql.query import Query

__all__ = ["build_combined"]

#: ``compiler.build_select`` (passed in: the compiler imports this module).
BuildSelect = Callable[[Any, Any, str], tuple[Any, Any]]


def _unordered(query: Query) -> Query:
    """A copy without ordering unless a slice depends on it."""
    inner = query.clone()
    if not query.is_sliced:
        inner.clear_ordering()
    return inner


_COMPOUNDS: dict[tuple[str, bool], Callable[..., Any]] = {
    ("union", False): sa.union,
    ("union", True): sa.union_all,
    ("intersection", False): sa.intersect,
    ("intersection", True): sa.intersect_all,
    ("difference", False): sa.except_,
    ("difference", True): sa.except_all,
}
_SQL_NAMES = {"union": "UNION", "intersection": "INTERSECT", "difference": "EXCEPT"}


def _check_combinator(query: Query, ctx: CompileContext) -> None:
    """Refuse a set operation the backend's ``features`` say it cannot run."""
    kind = query.combinator
    assert kind is not None
    features, name = ctx.features, ctx.ops.display_name
    sql = _SQL_NAMES[kind]
    if kind != "union" and not features.supports_intersect_except:
        raise NotSupportedError(
            f"{kind}() ({sql}) is not supported on {name}"
            f"{_version(features)}; combine the rows in Python or filter with __in instead."
        )
    if query.combinator_all and kind != "union" and not features.supports_intersect_except_all:
        raise NotSupportedError(
            f"{kind}(all=True) ({sql} ALL) is not supported on {name}"
            f"{_version(features)}; use {kind}() without all=True (duplicates removed)."
        )


def _version(features: Any) -> str:
    version = ".".join(str(n) for n in features.server_version)
    return f" {version}" if version else ""


def build_combined(
    query: Query, ctx: CompileContext, mode: str, build_select: BuildSelect
) -> tuple[Any, Any]:
    """Build ``UNION``/``INTERSECT``/``EXCEPT`` of the query's parts.

    A part that is sliced or itself combined becomes a derived table (``SELECT
    * FROM (...)``): every backend takes that, while parentheses around a part
    with its own ORDER BY/LIMIT are refused by SQLite. Other parts lose their
    ordering, which a set operation would ignore. The combined rows are ordered
    by column position, the one form all three backends accept.
    """
    _check_combinator(query, ctx)
    selects: list[Any] = []
    first: Any = None
    offset = 0
    for number, part in enumerate(query.combined_queries):
        wrap = part.is_sliced or bool(part.combinator)
        inner = part if wrap else _unordered(part)
        child = ctx.child(part.model, part.annotations, offset, joins=part.joins)
        stmt, parts = build_select(inner, child, mode)
        if wrap:
            derived = stmt.subquery(f"part{number}")
            stmt = sa.select(*derived.c)
        if first is None:
            first = parts
        elif len(parts.columns) != len(first.columns):
            raise TypeError(
                f"{query.combinator}() needs querysets selecting the same number of "
                f"columns: the first selects {len(first.columns)} ({', '.join(first.names)}), "
                f"number {number + 1} selects {len(parts.columns)} ({', '.join(parts.names)}); "
                "narrow them with values()/values_list()."
            )
        selects.append(stmt)
        offset += len(part.params())
    assert first is not None
    compound: Any = _COMPOUNDS[(query.combinator or "union", query.combinator_all)](*selects)
    terms = _combined_order_terms(query, ctx)
    if terms:
        compound = compound.order_by(*terms)
    position = len(query.values)
    if query.high_mark is not None:
        compound = compound.limit(ctx.bind(position, None, sa.Integer()))
        position += 1
    if query.low_mark:
        compound = compound.offset(ctx.bind(position, None, sa.Integer()))
    return compound, first


def _combined_order_terms(query: Query, ctx: CompileContext) -> list[Any]:
    terms: list[Any] = []
    flip = not query.standard_ordering
    for _, index, descending, nulls_first, nulls_last in query.order_by:
        if flip:
            descending = not descending
            nulls_first, nulls_last = nulls_last, nulls_first
        column: Any = sa.literal_column(str(index + 1))
        term = column.desc() if descending else column.asc()
        if nulls_first or nulls_last:
            if not ctx.features.supports_order_by_nulls_modifier:
                raise NotSupportedError(
                    f"nulls_first/nulls_last in the ordering of a combined query is not "
                    f"supported on {ctx.ops.display_name}; order each part, or sort in Python."
                )
            term = term.nulls_first() if nulls_first else term.nulls_last()
        terms.append(term)
    return terms
