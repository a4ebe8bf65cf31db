"""The query-result cache behind ``qs.cache(ttl=...)``.

An entry is keyed by the database alias, the compiled SQL and its parameters
(with their types: ``1`` and ``True`` are different keys) and holds the rows as
the driver returned them (tuples); each hit builds fresh instances from them, so
callers never share objects. Each entry knows the tables its statement read
(joins and subqueries included).

Invalidation: every write the ORM makes (``save``, ``create``, ``update``,
``delete`` and its cascades, ``bulk_create``, ``bulk_update``, many-to-many
``add``/``remove``/``clear``/``set``, ``get_or_create``, ``update_or_create``)
calls :func:`tables_written`. Outside a transaction the entries reading those
tables are dropped at once. Inside one the tables are remembered on the
connection's state; reads of them in that transaction bypass the cache; the
commit drops the entries and a rollback leaves the cache as it was. Reads inside
a transaction are never stored (another transaction's snapshot may differ).

A read that raced a write (the write's invalidation happened while the read was
on the wire) is not stored: each table has a generation, bumped by every
invalidation, and a result is stored only if the generations of its tables did
not move while it was read.

Raw SQL (``db.execute``) is not seen: call ``result_cache.invalidate("table")``.

The store is pluggable (:class:`ResultCacheBackend`); the default is an
in-process LRU (:class:`LocMemResultCache`)::

    from reinhardt_db.models.result_cache import LocMemResultCache, result_cache

    result_cache.configure(LocMemResultCache(maxsize=10_000))
    result_cache.stats.hits, result_cache.stats.misses, result_cache.stats.evictions
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from reinhardt_db.backends.state import (
    ConnectionState,
    add_transaction_listener,
    bindings,
    in_transaction,
)

if TYPE_CHECKING:
    from reinhardt_db.backends import Database
    from reinhardt_db.models.sql.cache import CompiledStatement

__all__ = [
    "CacheStats",
    "LocMemResultCache",
    "ResultCache",
    "ResultCacheBackend",
    "result_cache",
    "tables_written",
]

Rows = list[tuple[Any, ...]]


class CacheStats:
    """Counters of the query-result cache (``result_cache.stats``).

    - ``hits``: reads answered from the cache.
    - ``misses``: cached reads that went to the database (absent or expired).
    - ``evictions``: entries dropped to make room (the backend's size limit).
    - ``invalidations``: entries dropped because a table they read was written.
    - ``bypasses``: cached reads inside a transaction that had written one of
      their tables, sent to the database without looking at the cache.
    - ``stores``: results written to the cache.
    """

    __slots__ = ("bypasses", "evictions", "hits", "invalidations", "misses", "stores")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Set every counter to zero."""
        self.hits = self.misses = self.evictions = 0
        self.invalidations = self.bypasses = self.stores = 0

    def as_dict(self) -> dict[str, int]:
        """Return the counters by name."""
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        shown = " ".join(f"{name}={value}" for name, value in self.as_dict().items())
        return f"<CacheStats {shown}>"


@runtime_checkable
class ResultCacheBackend(Protocol):
    """Where cached results live. Keys are hashable tuples ``(alias, sql, params, types)``.

    A backend shared between processes (Redis ...) serializes keys and rows
    itself (both are tuples of plain values) and must make
    :meth:`invalidate_tables` reach every process's entries.
    """

    def get(self, key: Hashable) -> Rows | None:
        """Return the rows stored under ``key``, or None (absent or expired)."""
        ...

    def set(self, key: Hashable, rows: Rows, *, ttl: float | None, tables: frozenset[str]) -> int:
        """Store ``rows`` for ``ttl`` seconds (None: until dropped); return entries evicted."""
        ...

    def delete(self, key: Hashable) -> None:
        """Drop the entry under ``key`` if there is one."""
        ...

    def invalidate_tables(self, tables: Iterable[str]) -> int:
        """Drop every entry that read one of ``tables``; return how many."""
        ...

    def clear(self) -> None:
        """Drop every entry."""
        ...


class LocMemResultCache:
    """The default backend: a least-recently-used dict in this process, ``maxsize`` entries."""

    def __init__(self, maxsize: int = 1024) -> None:
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize <= 0:
            raise ValueError(f"maxsize must be a positive integer, got {maxsize!r}")
        self.maxsize = maxsize
        # key -> (rows, expires at (monotonic) or None, tables)
        self._entries: OrderedDict[Hashable, tuple[Rows, float | None, frozenset[str]]] = (
            OrderedDict()
        )
        self._by_table: dict[str, set[Hashable]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> Rows | None:
        """Return the rows under ``key`` (and mark it recently used), or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        rows, expires, _ = entry
        if expires is not None and time.monotonic() >= expires:
            self.delete(key)
            return None
        self._entries.move_to_end(key)
        return rows

    def set(self, key: Hashable, rows: Rows, *, ttl: float | None, tables: frozenset[str]) -> int:
        """Store ``rows``; evict the least recently used entries beyond ``maxsize``."""
        if key in self._entries:
            self.delete(key)
        expires = None if ttl is None else time.monotonic() + ttl
        self._entries[key] = (rows, expires, tables)
        for table in tables:
            self._by_table.setdefault(table, set()).add(key)
        evicted = 0
        while len(self._entries) > self.maxsize:
            oldest = next(iter(self._entries))
            self.delete(oldest)
            evicted += 1
        return evicted

    def delete(self, key: Hashable) -> None:
        """Drop ``key``'s entry and its place in the table index."""
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for table in entry[2]:
            keys = self._by_table.get(table)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_table[table]

    def invalidate_tables(self, tables: Iterable[str]) -> int:
        """Drop every entry that read one of ``tables``."""
        dropped = 0
        for table in tables:
            for key in list(self._by_table.get(table, ())):
                if key in self._entries:
                    self.delete(key)
                    dropped += 1
        return dropped

    def clear(self) -> None:
        """Drop every entry."""
        self._entries.clear()
        self._by_table.clear()


class ResultCache:
    """The process's query-result cache: a backend, the counters and the invalidation rules."""

    def __init__(self, backend: ResultCacheBackend | None = None) -> None:
        self.backend: ResultCacheBackend = backend if backend is not None else LocMemResultCache()
        self.stats = CacheStats()
        self._generations: dict[str, int] = {}
        self._epoch = 0  # bumped by clear() and configure(): every generation moves
        #: False until the first cached read: writes skip invalidating until then.
        self.used = False

    def configure(self, backend: ResultCacheBackend | None = None) -> None:
        """Use ``backend`` from now on (None: a fresh in-process LRU); reset the counters."""
        if backend is not None and not isinstance(backend, ResultCacheBackend):
            raise TypeError(
                f"a result cache backend needs get, set, delete, invalidate_tables and "
                f"clear methods; {type(backend).__name__} lacks some"
            )
        self.backend = backend if backend is not None else LocMemResultCache()
        self._epoch += 1
        self.stats.reset()

    def clear(self) -> None:
        """Drop every cached result (the counters stay)."""
        self._epoch += 1
        self.backend.clear()

    def invalidate(self, *tables: str) -> int:
        """Drop the results that read any of ``tables`` (after raw SQL writes, say)."""
        generations = self._generations
        for table in tables:
            generations[table] = generations.get(table, 0) + 1
        dropped = self.backend.invalidate_tables(tables)
        self.stats.invalidations += dropped
        return dropped

    def _snapshot(self, tables: frozenset[str]) -> tuple[int, ...]:
        generations = self._generations
        return (self._epoch, *[generations.get(table, 0) for table in tables])

    async def fetch(
        self, db: Database, entry: CompiledStatement, params: Sequence[Any], ttl: float | None
    ) -> Sequence[Any]:
        """Return the rows of ``entry`` with ``params`` on ``db``, from the cache if there."""
        self.used = True
        tables = entry.tables
        state = db.bound_connection()
        transaction = state is not None and in_transaction(state)
        if transaction and state is not None and not tables.isdisjoint(state.written_tables):
            # This transaction changed what the query reads: only the database knows.
            self.stats.bypasses += 1
            return await db.fetch_rows(entry.sql, params)
        key = _key(db.alias, entry.sql, params)
        backend = self.backend
        rows = backend.get(key)
        if rows is not None:
            self.stats.hits += 1
            return rows
        self.stats.misses += 1
        before = self._snapshot(tables)
        fetched = await db.fetch_rows(entry.sql, params)
        if transaction or self._snapshot(tables) != before:
            return fetched
        stored = [tuple(row) for row in fetched]
        self.stats.evictions += backend.set(key, stored, ttl=ttl, tables=tables)
        self.stats.stores += 1
        return stored


def _key(alias: str, sql: str, params: Sequence[Any]) -> Hashable:
    values = tuple(params)
    key = (alias, sql, values, tuple(map(type, values)))
    try:
        hash(key)
    except TypeError:
        # A list bound as one parameter (a long IN list, an array): freeze it.
        key = (alias, sql, _frozen(values), tuple(map(type, values)))
    return key


def _frozen(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, *[_frozen(item) for item in value])
    try:
        hash(value)
    except TypeError:
        return ("repr", type(value).__name__, repr(value))
    return (type(value), value)


#: The process-wide query-result cache (``qs.cache()`` reads and fills it).
result_cache = ResultCache()


def tables_written(db: Database, tables: Iterable[str]) -> None:
    """Note that the ORM wrote ``tables`` on ``db``: invalidate now, or at the commit.

    Called after every successful write statement. Tables are invalidated for
    every alias (two aliases may name one server).
    """
    # db.bound_connection() and in_transaction(), inline: this runs after every save().
    bound_map = bindings.get()
    if bound_map is not None:
        binding = bound_map.get(db.alias)
        if binding is not None and binding.open:
            state = binding.state
            if state.in_transaction or state.atomic_blocks:
                state.written_tables.update(tables)
                return
    if result_cache.used:
        # (Before the first cached read there is nothing to drop, nor a read to outdate.)
        result_cache.invalidate(*tables)


def _transaction_ended(state: ConnectionState, tables: frozenset[str], committed: bool) -> None:
    if committed and tables and result_cache.used:
        result_cache.invalidate(*tables)


add_transaction_listener(_transaction_ended)
