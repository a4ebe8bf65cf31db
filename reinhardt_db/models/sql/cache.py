"""The compiled-statement cache.

A query's key is its shape (``Query.key()`` plus what is being run: a SELECT of
instances, a COUNT, an UPDATE of some fields ...) and the SQLAlchemy dialect of
the database. On a hit nothing is built or compiled: the entry holds the SQL in
the driver's own paramstyle, one getter per placeholder (which picks the value
from the query's parameter list and adapts it for the backend) and the row
reader. The cache is a bounded LRU shared by every database.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from reinhardt_db.models.query_utils import on_lookups_changed

__all__ = ["CompiledStatement", "StatementCache", "statement_cache"]

Getter = Callable[[Sequence[Any]], Any]


class CompiledStatement:
    """SQL text, parameter getters and (for SELECTs) how to read the rows.

    ``tables``: the names of the tables the statement reads or writes (joins and
    subqueries included), for the query-result cache's invalidation.
    """

    __slots__ = ("getters", "params", "reader", "sql", "tables")

    #: ``params(values)``: the driver's positional parameters for ``values`` (one
    #: generated function, see :func:`params_function`).
    params: Callable[[Sequence[Any]], list[Any]]

    def __init__(
        self,
        sql: str,
        getters: tuple[Getter, ...],
        reader: Any = None,
        tables: frozenset[str] = frozenset(),
    ) -> None:
        self.sql = sql
        self.getters = getters
        self.reader = reader
        self.tables = tables
        self.params = params_function(getters)

    def __repr__(self) -> str:
        return f"<CompiledStatement {self.sql!r}>"


#: Statements whose parameter list takes more parts than this call their getters in a loop.
_MAX_GENERATED = 200
#: Consecutive query parameters with one adapter (an ``in`` list) from this many on
#: are read as one slice.
_MIN_RUN = 8


def params_function(getters: Sequence[Getter]) -> Callable[[Sequence[Any]], list[Any]]:
    """Return ``values -> [getter(values) for getter in getters]`` as one function.

    A getter with a ``param_spec`` (``("item", index, adapter or None)`` or
    ``("const", value, None)``, set by the compile context) is inlined as
    ``adapter(values[index])``, ``values[index]`` or the constant: one call per
    parameter less on every statement. A run of consecutive indexes with one
    adapter (the placeholders of an ``in`` list: a prefetch of 1,000 parents
    binds 1,024 keys) is one slice, adapted in C (see :func:`_run`). Others are
    called as they are.
    """
    specs = [getattr(getter, "param_spec", None) for getter in getters]
    runs = _runs(specs)
    if len(runs) > _MAX_GENERATED:
        found = tuple(getters)
        return lambda values: [getter(values) for getter in found]
    namespace: dict[str, Any] = {}
    parts: list[str] = []
    for first, count in runs:
        i, spec = first, specs[first]
        if count > 1:
            assert spec is not None
            namespace[f"r{i}"] = _run(spec[1], spec[1] + count, spec[2])
            parts.append(f"*r{i}(v)")
        elif spec is None:
            namespace[f"g{i}"] = getters[i]
            parts.append(f"g{i}(v)")
        elif spec[0] == "const":
            namespace[f"k{i}"] = spec[1]
            parts.append(f"k{i}")
        elif spec[2] is None:
            parts.append(f"v[{int(spec[1])}]")
        else:
            namespace[f"a{i}"] = spec[2]
            parts.append(f"a{i}(v[{int(spec[1])}])")
    source = f"def params(v):\n    return [{', '.join(parts)}]\n"
    exec(compile(source, "<reinhardt_db statement params>", "exec"), namespace)
    function: Callable[[Sequence[Any]], list[Any]] = namespace["params"]
    return function


def _runs(specs: Sequence[Any]) -> list[tuple[int, int]]:
    """Split the placeholders into ``(first, count)`` parts: runs of at least ``_MIN_RUN``
    items at consecutive indexes with one adapter, else single placeholders."""
    parts: list[tuple[int, int]] = []
    i, total = 0, len(specs)
    while i < total:
        spec = specs[i]
        end = i + 1
        if spec is not None and spec[0] == "item":
            while end < total and (
                (follow := specs[end]) is not None
                and follow[0] == "item"
                and follow[1] == spec[1] + (end - i)
                and follow[2] is spec[2]
            ):
                end += 1
        if end - i >= _MIN_RUN:
            parts.append((i, end - i))
        else:
            parts.extend((k, 1) for k in range(i, end))
        i = end
    return parts


def _run(start: int, end: int, adapter: Callable[[Any], Any] | None) -> Getter:
    """Return ``values -> the adapted values[start:end]`` (an iterable to unpack).

    An adapter that marks the one type it returns unchanged (``keeps_type``,
    as a field's plain ``prep`` does) is skipped when every value is of that
    type or None: one look at the types in C instead of a call per value.
    """
    if adapter is None:
        return lambda values: values[start:end]
    keeps = getattr(adapter, "keeps_type", None)
    if keeps is None:
        return lambda values: map(adapter, values[start:end])
    unchanged = frozenset((keeps, type(None)))

    def run(values: Sequence[Any]) -> Any:
        items = values[start:end]
        if unchanged.issuperset(map(type, items)):
            return items
        return map(adapter, items)

    return run


class StatementCache:
    """A bounded LRU of compiled statements, counting hits and misses."""

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Any, CompiledStatement] = OrderedDict()

    def get(self, key: Any) -> CompiledStatement | None:
        """Return the entry for ``key`` (and mark it recently used), or None."""
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return entry

    def put(self, key: Any, entry: CompiledStatement) -> None:
        """Store ``entry``, evicting the least recently used one when full."""
        self._entries[key] = entry
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Drop every entry and reset the counters."""
        self._entries.clear()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)


#: The process-wide cache used by QuerySets and instance persistence.
statement_cache = StatementCache()
# A lookup registered under an old name must not keep serving old SQL.
on_lookups_changed(statement_cache.clear)
