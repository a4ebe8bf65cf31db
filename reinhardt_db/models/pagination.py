"""Keyset pagination: ``await qs.order_by(...).paginate(after=cursor, limit=50)``.

A page is read with a condition on the ordering values of the row the cursor
names ("after it in this ordering") instead of an OFFSET, so a page deep in a
large table costs what the first one does (with an index on the ordering).

The ordering is the QuerySet's (``order_by()``, else ``Meta.ordering``, else the
primary key), with the primary key appended to break ties. NULLs sit where the
backend sorts them (``features.nulls_order_largest``) unless the ordering says
``nulls_first``/``nulls_last``. The ordering values of each page's first and
last rows are selected as extra columns and become the opaque cursors
(:mod:`reinhardt_db.models._cursor`); cursor values are always bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from reinhardt_db.exceptions import FieldDoesNotExist, NotSupportedError
from reinhardt_db.models._cursor import decode_cursor, encode_cursor, ordering_fingerprint
from reinhardt_db.models._scatter import shards_of
from reinhardt_db.models.expressions import Expression, F, OrderBy
from reinhardt_db.models.query_utils import Q
from reinhardt_db.models.sql import compiler

if TYPE_CHECKING:
    from reinhardt_db.backends import Database
    from reinhardt_db.models.sql.query import Query

__all__ = ["Page", "paginate_queryset"]

T = TypeVar("T")

#: Annotation names of the ordering values (selected after the item's columns).
KEY_PREFIX = "_keyset_"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a keyset-paginated QuerySet.

    ``items``: the rows, in the QuerySet's order. ``next_cursor``: pass it as
    ``paginate(after=...)`` for the following page (None when ``has_next`` is
    False). ``previous_cursor``: pass it as ``paginate(before=...)`` for the page
    before (None when ``has_previous`` is False).

    A page read ``after=`` a cursor has ``has_previous`` True, and one read
    ``before=`` a cursor ``has_next`` True: the cursor came from a row on that
    side. Only the other side is looked up (one row more than ``limit`` is read).
    """

    items: list[T]
    next_cursor: str | None
    previous_cursor: str | None
    has_next: bool
    has_previous: bool

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class _Term:
    """One ordering term of a keyset: its expression shape, direction and NULL side."""

    __slots__ = ("name", "nullable", "nulls_first", "order")

    def __init__(self, name: str, order: OrderBy, nulls_first: bool, nullable: bool) -> None:
        self.name = name
        self.order = order
        self.nulls_first = nulls_first
        self.nullable = nullable


async def paginate_queryset(
    qs: Any, after: str | None, before: str | None, limit: int
) -> Page[Any]:
    """Read one keyset page of ``qs`` (see ``QuerySet.paginate``)."""
    if after is not None and before is not None:
        raise ValueError("paginate() takes after= or before=, not both")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise ValueError(f"paginate() needs limit= a positive integer, got {limit!r}")
    if qs.query.is_sliced:
        raise TypeError(
            "Cannot paginate a query once a slice has been taken: paginate() sets the "
            "LIMIT itself; drop the slice"
        )
    if qs.query.combinator:
        raise NotSupportedError(
            f"paginate() cannot page a {qs.query.combinator}() of QuerySets: page each "
            "QuerySet, or filter one QuerySet with Q(...) | Q(...) instead"
        )
    if any(_has_window(e) for e in qs.query.annotations.values()):
        raise NotSupportedError(
            "paginate() cannot page a query with window annotations: the cursor's "
            "condition would change the rows the windows are computed over (row "
            "numbers would restart on every page); slice the query instead"
        )
    if (qs.query.distinct or qs.query.distinct_fields) and qs._mode != compiler.MODE_MODELS:
        raise TypeError(
            "Cannot paginate distinct() values: the primary key that orders ties would "
            "make every row distinct; paginate the instances, or group with "
            "values(...).annotate(...) instead"
        )
    shards = shards_of(qs)
    if shards is not None:
        raise NotSupportedError(
            f"paginate() cannot page {qs.model.__name__} rows spread over the shards "
            f"{', '.join(shards)}: filter the QuerySet down to one shard, or paginate "
            "each shard with using(alias)"
        )

    async def run(db: Database) -> Page[Any]:
        return await _page_on(qs, db, after, before, limit)

    page: Page[Any] = await qs._read(run)
    return page


async def _page_on(
    qs: Any, db: Database, after: str | None, before: str | None, limit: int
) -> Page[Any]:
    """Read the page on ``db`` (the database the QuerySet's read is routed to)."""
    if qs.query.select_for_update is not None:
        qs._check_in_transaction(db)
    query = qs.query.clone()
    orders, fingerprint = _ordering(query, db.features.nulls_order_largest)
    backwards = before is not None
    if backwards:
        orders = [order.reversed() for order in orders]
    terms = [
        _Term(f"{KEY_PREFIX}{i}", order, _nulls_first(order, db.features.nulls_order_largest),
              _nullable(query, order.expression))
        for i, order in enumerate(orders)
    ]
    names = tuple(term.name for term in terms)
    query.annotations = {
        **query.annotations, **{t.name: t.order.expression for t in terms}
    }
    query.order_by = tuple(t.order for t in terms)
    query.default_ordering = False
    query.standard_ordering = True
    cursor = after if after is not None else before
    if cursor is not None:
        _add_after(query, terms, decode_cursor(cursor, fingerprint, len(terms)))
    query.set_limits(high=limit + 1)
    # Instances whose ordering is their own loaded fields carry the cursor values;
    # anything else selects the values as extra columns after the item's.
    attnames = _instance_keys(query, terms) if qs._mode == compiler.MODE_MODELS else None
    rows: list[Any] = []
    if not query.empty:
        if attnames is None:
            entry = compiler.compile_keyset_select(query, db, qs._mode, names)
        else:
            entry = compiler.compile_select(query, db, compiler.MODE_MODELS)
        rows = list(await qs._fetch_rows(db, entry, query))
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    items: list[Any] = []
    keys: list[list[Any]] = []  # the first and the last row's ordering values
    if rows:
        if attnames is None:
            reader: compiler.KeysetReader = entry.reader
            items = reader.items(rows, db.alias)
            keys = [reader.keys(rows[0]), reader.keys(rows[-1])]
        else:
            items = entry.reader(rows, db.alias)
            keys = [[getattr(obj, name) for name in attnames] for obj in (items[0], items[-1])]
    if items and qs._prefetch_lookups and qs._mode == compiler.MODE_MODELS:
        await qs._after_fetch(items)
    has_next = True if backwards else more
    has_previous = more if backwards else after is not None

    def cursor_of(position: int) -> str | None:
        return encode_cursor(fingerprint, keys[position]) if keys else cursor

    return Page(
        items=items,
        next_cursor=cursor_of(-1) if has_next else None,
        previous_cursor=cursor_of(0) if has_previous else None,
        has_next=has_next,
        has_previous=has_previous,
    )


def _has_window(expression: Expression) -> bool:
    if getattr(expression, "contains_over_clause", False):
        return True
    return any(_has_window(e) for e in expression.get_source_expressions())


def _instance_keys(query: Query, terms: list[_Term]) -> list[str] | None:
    """The attribute of each term on the loaded instances, or None if one has none."""
    meta = query.model._meta
    loaded = {field.attname for field in compiler.loaded_fields(query)}
    names: list[str] = []
    for term in terms:
        expression = term.order.expression
        if type(expression) is not F or type(expression.name) is not str:
            return None
        name = expression.name
        if name == "pk":
            if len(meta.pk_fields) != 1:
                return None
            attname = meta.pk_fields[0].attname
        else:
            field = meta.fields_map.get(name)
            if field is None or name in query.annotations:
                return None
            attname = field.attname
        if attname not in loaded:
            return None
        names.append(attname)
    return names


def _ordering(query: Query, nulls_largest: bool) -> tuple[list[OrderBy], str]:
    """The keyset's ordering shapes (primary key appended) and its fingerprint."""
    model = query.model
    meta = model._meta
    # (item, True) when the item is already a parameterized shape of the query.
    items: list[tuple[Any, bool]] = [(item, True) for item in query.order_by]
    if not items and query.default_ordering:
        items = [(item, False) for item in meta.ordering]
    resolver = query.resolver()
    orders: list[OrderBy] = []
    for item, is_shape in items:
        if isinstance(item, str):
            if item == "?":
                raise ValueError("Cannot paginate a randomly ordered query (order_by('?'))")
            expr: Expression = OrderBy(F(item.lstrip("-")), descending=item.startswith("-"))
        else:  # an expression (order_by() and Meta.ordering accept nothing else)
            expr = item if isinstance(item, OrderBy) else OrderBy(item)
            if is_shape:
                orders.append(expr)
                continue
        expr.resolve(resolver)
        orders.append(expr.parameterize(query.values, resolver))  # type: ignore[arg-type]
    pk_names = {"pk", meta.pk.name, getattr(meta.pk, "attname", meta.pk.name)}
    ordered = {
        order.expression.name for order in orders
        if type(order.expression) is F and type(order.expression.name) is str
    }
    if len(meta.pk_fields) == 1:
        if not ordered & pk_names:
            orders.append(OrderBy(F(meta.pk_fields[0].name)))
    else:
        for field in meta.pk_fields:
            if field.name not in ordered and field.attname not in ordered:
                orders.append(OrderBy(F(field.name)))
    for i, order in enumerate(orders):
        expression = order.expression
        if type(expression) is F and expression.name in query.annotations:
            # The annotation itself: an aggregate must stay out of GROUP BY (in HAVING).
            orders[i] = OrderBy(
                query.annotations[expression.name], order.descending,
                order.nulls_first or None, order.nulls_last or None,
            )
    if not query.standard_ordering:  # reverse(): the tie-breaker turns around too
        orders = [order.reversed() for order in orders]
    parts: list[Any] = [meta.label, nulls_largest]
    for order in orders:
        expression = order.expression
        described = (
            str(expression.name) if type(expression) is F else repr(expression.identity())
        )
        parts.append((described, order.descending, order.nulls_first, order.nulls_last))
    return orders, ordering_fingerprint(parts)


def _nulls_first(order: OrderBy, nulls_largest: bool) -> bool:
    """Whether NULLs come first in this term's order on the backend."""
    if order.nulls_first:
        return True
    if order.nulls_last:
        return False
    # Unmodified: ascending puts NULLs last exactly where they sort as largest.
    return order.descending == nulls_largest


def _nullable(query: Query, expression: Expression) -> bool:
    """False only for a column of the model itself that cannot hold NULL."""
    if type(expression) is not F or type(expression.name) is not str:
        return True  # across a relation (outer joins) or computed: assume it can
    name = expression.name
    meta = query.model._meta
    if name == "pk":
        return False
    if name in query.annotations:
        return True
    try:
        field = meta.get_field(name)
    except FieldDoesNotExist:
        return True
    return bool(getattr(field, "null", True))


#: (query shape, terms, which values are NULL) -> (WHERE node, cursor index of each
#: parameter it appends, joins after it): a page's condition has one shape per
#: ordering and NULL pattern, so it is parameterized once. Bounded: cleared when full.
_CONDITIONS: dict[Any, tuple[Any, tuple[int, ...], Any] | None] = {}
_CONDITIONS_MAX = 2048


def _add_after(query: Query, terms: list[_Term], values: list[Any]) -> None:
    """Add "after the row with ``values``" to ``query`` (``empty`` when nothing can be)."""
    key = (
        query.key(),
        tuple((t.name, t.order.descending, t.nulls_first, t.nullable) for t in terms),
        tuple(value is None for value in values),
    )
    cached = _CONDITIONS.get(key)
    if cached is not None:
        node, slots, joins = cached
        query.values.extend([values[i] for i in slots])
        query.where = (*query.where, node)
        query.joins = joins
        return
    condition = _after(terms, values)
    if condition is None:
        query.empty = True
        return
    base = len(query.values)
    query.add_filter((condition,), {})
    slots = tuple(_slots(condition))
    added = query.values[base:]
    # Cache only when every parameter is the cursor value it came from (no lookup
    # turned one into something else, none became a constant).
    if len(added) == len(slots) and all(
        type(got) is type(values[i]) and got == values[i]
        for got, i in zip(added, slots, strict=True)
    ):
        if len(_CONDITIONS) >= _CONDITIONS_MAX:
            _CONDITIONS.clear()
        _CONDITIONS[key] = (query.where[-1], slots, query.joins)


def _slots(condition: Q) -> Any:
    """The term index of each value-carrying leaf, in the order they are parameterized."""
    for child in condition.children:
        if isinstance(child, Q):
            yield from _slots(child)
            continue
        lookup, _ = child
        if lookup.endswith("__isnull"):
            continue
        name = lookup.split("__", 1)[0]
        yield int(name[len(KEY_PREFIX):])


def _after(terms: list[_Term], values: list[Any]) -> Q | None:
    """The condition "comes after the row with ``values``" in the terms' order.

    ``(a > x) OR (a = x AND b > y) OR ...``, with NULLs on their side; None when
    nothing can come after (every term's value NULL with NULLs last).
    """
    alternatives: list[Q] = []
    equal: list[Q] = []
    for term, value in zip(terms, values, strict=True):
        name = term.name
        step: Q | None
        if value is None:
            step = Q((f"{name}__isnull", False)) if term.nulls_first else None
            same = Q((f"{name}__isnull", True))
        else:
            step = Q((f"{name}__{'lt' if term.order.descending else 'gt'}", value))
            if term.nullable and not term.nulls_first:
                step |= Q((f"{name}__isnull", True))
            same = Q((name, value))
        if step is not None:
            alternatives.append(_all([*equal, step]))
        equal.append(same)
    if not alternatives:
        return None
    condition = alternatives[0]
    for alternative in alternatives[1:]:
        condition |= alternative
    first, value = terms[0], values[0]
    if len(alternatives) > 1 and value is not None and not first.nullable:
        # Redundant, but it lets the server start an index range scan at the cursor
        # instead of filtering from the first row (PostgreSQL does not see it in the OR).
        bound = "lte" if first.order.descending else "gte"
        condition = Q((f"{first.name}__{bound}", value)) & condition
    return condition


def _all(conditions: list[Q]) -> Q:
    combined = conditions[0]
    for condition in conditions[1:]:
        combined &= condition
    return combined

