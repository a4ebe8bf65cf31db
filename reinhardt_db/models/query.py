"""``QuerySet``: a lazy, immutable description of a query on one model.

Chaining (``filter``, ``order_by``, ``values`` ...) returns a new QuerySet and
does no I/O; awaiting runs the query::

    adults = await User.objects.filter(age__gte=18).order_by("-created_at")
    async for user in User.objects.filter(role="admin"):
        ...

Writes and other single-round-trip operations (``update``, ``delete``,
``bulk_create`` ...) live in :mod:`reinhardt_db.models._write` and are mixed
in here; this module holds the read side.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar, overload

from reinhardt_db import exceptions as exc
from reinhardt_db.backends import connections, failing_fast
from reinhardt_db.models._combine import CombineMixin
from reinhardt_db.models._registration import ensure_lookups_registered
from reinhardt_db.models._scatter import (
    check_mergeable,
    merge_aggregates,
    scatter_fetch,
    shards_of,
)
from reinhardt_db.models._write import WriteMixin
from reinhardt_db.models.aggregates import Aggregate
from reinhardt_db.models.expressions import Expression
from reinhardt_db.models.lookups import EMPTY_RESULT
from reinhardt_db.models.pagination import Page, paginate_queryset
from reinhardt_db.models.result_cache import result_cache
from reinhardt_db.models.sql import compiler
from reinhardt_db.models.sql.compiler import (
    MODE_DICTS,
    MODE_FLAT,
    MODE_MODELS,
    MODE_NAMED,
    MODE_TUPLES,
)
from reinhardt_db.models.sql.query import Query
from reinhardt_db.routers import db_for, router

if TYPE_CHECKING:
    from collections.abc import Sequence

    from reinhardt_db.backends import Database
    from reinhardt_db.models.sql.cache import CompiledStatement

__all__ = ["MAX_GET_RESULTS", "QuerySet"]

M = TypeVar("M")
T = TypeVar("T")
MAX_GET_RESULTS = 21

ensure_lookups_registered()


async def _ready(value: Any) -> Any:
    return value


async def _prepend(first: Any, rest: AsyncIterator[Any]) -> AsyncIterator[Any]:
    yield first
    async for item in rest:
        yield item


async def _no_rows() -> list[Any]:
    return []


class QuerySet(WriteMixin, CombineMixin, Generic[M]):
    """A lazy query on ``model``; every method returns a new QuerySet or runs the query."""

    _is_queryset = True

    # Starting values, read from the class until a QuerySet assigns its own (a
    # manager makes a QuerySet per statement: four stores instead of nine).
    #: Writes (and reads made on their behalf) ask the routers' db_for_write.
    _for_write: bool = False
    _result_cache: list[M] | None = None
    _mode = MODE_MODELS
    #: ``prefetch_related()`` lookups, run after the rows are read (post-fetch hook).
    _prefetch_lookups: tuple[Any, ...] = ()
    #: ``cache(ttl)``: None, or ``(ttl,)`` when reads go through the result cache.
    _cache_ttl: tuple[float | None] | None = None
    #: True while only the manager call that made this QuerySet holds it (see _chain).
    _owned = False

    def __init__(
        self,
        model: Any = None,
        query: Query | None = None,
        using: str | None = None,
        hints: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.query = query if query is not None else Query(model)
        self._db = using
        self._hints = hints or {}

    @classmethod
    def as_manager(cls) -> Any:
        """Return a Manager whose QuerySets are of this class (with its methods)."""
        from reinhardt_db.models.manager import Manager

        return Manager.from_queryset(cls)()

    def __repr__(self) -> str:
        if self._result_cache is not None:
            return f"<QuerySet {self._result_cache[:20]!r}>"
        name = self.model.__name__ if self.model is not None else "?"
        return f"<QuerySet of {name} (not evaluated)>"

    # -- cloning ---------------------------------------------------------------------------
    def _chain(self) -> Self:
        if self._owned:
            # A manager's QuerySet for a single call (Manager._for_one_call): nobody
            # else holds it, so it becomes the result instead of being copied.
            self._owned = False
            return self
        clone = self.__class__.__new__(self.__class__)
        state = self.__dict__.copy()
        state["query"] = self.query.clone()
        state["_result_cache"] = None
        clone.__dict__ = state
        return clone

    @property
    def db(self) -> str:
        """The database alias this QuerySet runs on.

        ``using()`` wins; otherwise the routers' ``db_for_read`` (or
        ``db_for_write`` for a write), then the ``instance`` hint's database,
        else ``"default"`` (see ``reinhardt_db.routers``). A router may answer
        differently each time (replicas in turn): read it once per query.
        """
        if self._db is not None:
            return self._db
        if (router._routers is None or router._routers) and router.sharding:
            # A shard router reads the query's filters to find the shard.
            return db_for(self.model, write=self._for_write, query=self.query, **self._hints)
        return db_for(self.model, write=self._for_write, **self._hints)

    def _database(self) -> Database:
        return connections[self.db]

    def _read(self, run: Callable[[Database], Awaitable[T]]) -> Awaitable[T]:
        """Run the read ``run(db)`` on the routed database, failing over between replicas.

        A replica some router can route around (``router.failover_aliases``)
        is read with connects failing fast: when it cannot be reached the
        router is told and asked again, so the read goes at once to the next
        replica or the primary. Only connect failures fail over: no statement
        had been sent. Without failover this returns ``run``'s awaitable itself
        (no coroutine frame of its own on every read).
        """
        if self._db is not None:
            return run(connections[self._db])
        alias = self.db
        if alias not in router.failover_aliases:
            return run(connections[alias])
        return self._read_failing_over(run, alias)

    async def _read_failing_over(self, run: Callable[[Database], Awaitable[T]], alias: str) -> T:
        tried = set()
        while alias in router.failover_aliases and alias not in tried:
            tried.add(alias)
            try:
                with failing_fast():
                    return await run(connections[alias])
            except exc.DatabaseUnavailable as error:
                if not error.connect_failed:
                    raise
                router.connect_failed(alias, error)
            alias = self.db
        return await run(connections[alias])

    async def _features_known(self, db: Database) -> None:
        """Make sure ``db.features`` are the server's before compiling a set operation.

        Whether INTERSECT/EXCEPT run is read from the server version at the
        first connect; the first query of a process compiles before it.
        """
        if self.query.combinator and not db.features.server_version:
            await db.server_version()

    # -- evaluation ------------------------------------------------------------------------
    def __await__(self) -> Generator[Any, None, list[M]]:
        return self._fetch_all().__await__()

    async def _fetch_all(self) -> list[M]:
        if self._result_cache is None:
            shards = shards_of(self)
            if shards is not None:
                self._result_cache = await scatter_fetch(self, shards, prefetch=True)
                return self._result_cache
            # _execute() without asking the routers for shards a second time.
            rows = [] if self.query.empty else await self._read(self._execute_on)
            if self._prefetch_lookups and self._mode == MODE_MODELS and rows:
                await self._after_fetch(rows)
            self._result_cache = rows
        return self._result_cache

    async def _after_fetch(self, rows: list[Any]) -> None:
        """Run the post-fetch work on freshly read instances: ``prefetch_related``."""
        from reinhardt_db.models.prefetch import prefetch_related_objects

        # Without using(), the instances' own database (the one they were read from).
        await prefetch_related_objects(rows, *self._prefetch_lookups, using=self._db, parent=self)

    def _execute(self) -> Awaitable[list[Any]]:
        # Returns the awaitable that reads the rows (one coroutine frame less per query).
        if self.query.empty:
            return _no_rows()
        shards = shards_of(self)
        if shards is not None:
            return scatter_fetch(self, shards, prefetch=False)
        return self._read(self._execute_on)

    async def _execute_on(self, db: Database) -> list[Any]:
        query = self.query
        if query.select_for_update is not None:
            self._check_in_transaction(db)
        if query.combinator:  # no coroutine to make on a plain query's hot path
            await self._features_known(db)
        entry = compiler.compile_select(query, db, self._mode)
        rows: Sequence[Any]
        if self._cache_ttl is None:  # _fetch_rows' usual road, without its call
            rows = await db.fetch_rows(entry.sql, entry.params(query.params()))
        else:
            rows = await self._fetch_rows(db, entry, query)
        return entry.reader(rows, db.alias)

    def _fetch_rows(
        self, db: Database, entry: CompiledStatement, query: Query
    ) -> Awaitable[Sequence[Any]]:
        """Run a compiled SELECT of this QuerySet (through the result cache after ``cache()``).

        Returns the statement's awaitable (no coroutine frame of its own).
        """
        params = entry.params(query.params())
        cached = self._cache_ttl
        if cached is None or query.select_for_update is not None:
            return db.fetch_rows(entry.sql, params)
        return result_cache.fetch(db, entry, params, cached[0])

    async def _fetch_row(
        self, db: Database, entry: CompiledStatement, query: Query
    ) -> Sequence[Any] | None:
        if self._cache_ttl is None:
            return await db.fetch_row(entry.sql, entry.params(query.params()))
        rows = await self._fetch_rows(db, entry, query)
        return rows[0] if rows else None

    def _check_in_transaction(self, db: Database) -> None:
        """Refuse ``select_for_update()`` outside ``atomic()``, or with options the server lacks.

        Like Django, a backend without row locks (SQLite: the transaction's
        database lock serializes writers) ignores the lock and its options.
        """
        bound = db.bound_connection()
        if bound is None or not bound.in_transaction:
            raise exc.TransactionManagementError(
                "select_for_update() must run inside a transaction: the row locks last "
                f"until it ends. Wrap it in 'async with transaction.atomic(using={db.alias!r}):'"
            )
        features = db.features
        lock = self.query.select_for_update
        if lock is None or not features.supports_select_for_update:
            return
        nowait, skip_locked, of = lock
        for wanted, supported, name in (
            (nowait, features.supports_select_for_update_nowait, "nowait=True"),
            (skip_locked, features.supports_select_for_update_skip_locked, "skip_locked=True"),
            (of, features.supports_select_for_update_of, "of=..."),
        ):
            if wanted and not supported:
                raise exc.NotSupportedError(
                    f"select_for_update({name}) is not supported on {db.ops.display_name}; "
                    "leave the option out"
                )

    def __aiter__(self) -> AsyncIterator[M]:
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[M]:
        for item in await self._fetch_all():
            yield item

    def __bool__(self) -> bool:
        if self._result_cache is None:
            raise TypeError(
                "a QuerySet has no truth value before it is evaluated; "
                "use 'await qs.exists()' or evaluate it with 'await qs'"
            )
        return bool(self._result_cache)

    def __len__(self) -> int:
        if self._result_cache is None:
            raise TypeError("use 'await qs.count()', or 'len(await qs)' to evaluate it")
        return len(self._result_cache)

    # Without __iter__, Python would fall back to __getitem__(0), (1), ... forever
    # (each returns an awaitable), so list(qs) used to eat memory until killed.
    # Hidden from type checkers, so that they flag a plain `for` over a QuerySet.
    if not TYPE_CHECKING:

        def __iter__(self) -> Iterator[M]:
            if self._result_cache is None:
                raise TypeError(
                    f"{self._describe()} is not iterable before it is evaluated (a forgotten "
                    "'await'?): use 'async for obj in qs', or 'for obj in await qs' "
                    "(also list(await qs), sorted(await qs))"
                )
            return iter(self._result_cache)

        def __reversed__(self) -> Iterator[M]:
            if self._result_cache is None:
                raise TypeError(
                    f"{self._describe()} cannot be reversed before it is evaluated: use "
                    "'await qs.reverse()' for the reverse order in SQL, or "
                    "'reversed(await qs)'"
                )
            return reversed(self._result_cache)

        def __contains__(self, obj: object) -> bool:
            if self._result_cache is None:
                raise TypeError(
                    f"'obj in qs' needs {self._describe()} evaluated: use "
                    "'await qs.contains(obj)', or 'obj in await qs'"
                )
            return obj in self._result_cache

    def _describe(self) -> str:
        name = self.model.__name__ if self.model is not None else "?"
        return f"a QuerySet of {name}"

    @overload
    def __getitem__(self, key: slice) -> Self: ...

    @overload
    def __getitem__(self, key: int) -> Awaitable[M]: ...

    def __getitem__(self, key: int | slice) -> Any:
        """``qs[10:20]`` -> QuerySet with LIMIT/OFFSET; ``await qs[3]`` -> one object."""
        if isinstance(key, slice):
            if key.step not in (None, 1):
                raise ValueError("QuerySet slices do not support a step.")
            if (key.start is not None and key.start < 0) or (key.stop is not None and key.stop < 0):
                raise ValueError("Negative indexing is not supported.")
            clone = self._chain()
            clone.query.set_limits(key.start, key.stop)
            return clone
        if isinstance(key, bool) or not isinstance(key, int):
            raise TypeError(
                f"QuerySet indices must be integers or slices, not {type(key).__name__}."
            )
        if key < 0:
            raise ValueError("Negative indexing is not supported.")
        if self._result_cache is not None:
            return _ready(self._result_cache[key])
        clone = self._chain()
        clone.query.set_limits(key, key + 1)
        return clone._single(key)

    async def _single(self, index: int) -> M:
        rows = await self._fetch_all()
        if not rows:
            raise IndexError(f"QuerySet index {index} out of range")
        return rows[0]

    def iterator(self, chunk_size: int = 2000) -> AsyncIterator[M]:
        """Stream the rows in chunks (a server-side cursor on PostgreSQL and MySQL).

        Nothing is cached, so memory stays flat however many rows there are.
        """
        if chunk_size <= 0:
            raise ValueError("chunk_size must be a positive integer")
        return self._stream(chunk_size)

    async def _stream(self, chunk_size: int) -> AsyncIterator[M]:
        query = self.query
        if query.empty:
            return
        alias = self.db
        if query.select_for_update is not None:
            self._check_in_transaction(connections[alias])
        tried: set[str] = set()
        while True:
            db = connections[alias]
            await self._features_known(db)
            entry = compiler.compile_select(query, db, self._mode)
            stream = db.stream_rows(entry.sql, entry.params(query.params()), chunk_size=chunk_size)
            if self._db is not None or alias not in router.failover_aliases or alias in tried:
                first = None
                break
            # The connection is opened by the first fetch: fail over as _read() does.
            tried.add(alias)
            try:
                with failing_fast():
                    first = await anext(stream, None)
                break
            except exc.DatabaseUnavailable as error:
                await stream.aclose()  # type: ignore[attr-defined]
                if not error.connect_failed:
                    raise
                router.connect_failed(alias, error)
            alias = self.db
        reader = entry.reader
        try:
            chunks = stream if first is None else _prepend(first, stream)
            async for chunk in chunks:
                items = reader(chunk, alias)
                if self._prefetch_lookups and self._mode == MODE_MODELS and items:
                    await self._after_fetch(items)
                for item in items:
                    yield item
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    # -- chaining --------------------------------------------------------------------------
    def all(self) -> Self:
        """Return a fresh copy (its rows are fetched again when awaited)."""
        return self._chain()

    def filter(self, *args: Any, **kwargs: Any) -> Self:
        """Keep the rows matching every lookup (and ``Q``/class-level conditions)."""
        return self._filter_or_exclude(False, args, kwargs)

    def exclude(self, *args: Any, **kwargs: Any) -> Self:
        """Drop the rows matching all the given lookups (NULLs are not matches)."""
        return self._filter_or_exclude(True, args, kwargs)

    def _filter_or_exclude(self, negated: bool, args: tuple[Any, ...], kwargs: Any) -> Self:
        clone = self._chain()
        if args or kwargs:
            query = clone.query
            if query.combinator:
                query.check_not_combined("exclude" if negated else "filter")
            if query.high_mark is not None or query.low_mark:
                query.check_filterable("filter")
            query.add_filter(args, kwargs, negated)
        return clone

    def none(self) -> Self:
        """Return a QuerySet that matches nothing and never queries."""
        clone = self._chain()
        clone.query.empty = True
        return clone

    def order_by(self, *fields: Any) -> Self:
        """Order by fields (``"-name"`` descending, ``"?"`` random) or expressions."""
        if self.query.is_sliced:
            raise TypeError("Cannot reorder a query once a slice has been taken.")
        clone = self._chain()
        if fields:
            clone.query.set_ordering(fields)
        else:
            clone.query.clear_ordering()
        return clone

    def reverse(self) -> Self:
        """Reverse the ordering (the model's default ordering included)."""
        if self.query.is_sliced:
            raise TypeError("Cannot reverse a query once a slice has been taken.")
        clone = self._chain()
        clone.query.standard_ordering = not clone.query.standard_ordering
        return clone

    def distinct(self, *fields: str) -> Self:
        """Drop duplicate rows (``DISTINCT ON (fields)`` on PostgreSQL)."""
        self.query.check_not_combined("distinct")
        clone = self._chain()
        resolver = clone.query.resolver()
        for name in fields:
            resolver.resolve_ref(name)
        clone.query.distinct = True
        clone.query.distinct_fields = tuple(resolver.ref_path(name) for name in fields)
        return clone

    def annotate(self, *args: Any, **kwargs: Any) -> Self:
        """Add computed values to each row (per group after ``values(...)``)."""
        self.query.check_not_combined("annotate")
        clone = self._chain()
        for name, expression in _named_expressions(args, kwargs).items():
            clone.query.add_annotation(name, expression, default_alias=name not in kwargs)
        return clone

    def alias(self, **kwargs: Any) -> Self:
        """Define expressions to filter or order by without selecting them."""
        self.query.check_not_combined("alias")
        clone = self._chain()
        for name, expression in kwargs.items():
            clone.query.add_annotation(name, expression, select=False)
        return clone

    def values(self, *fields: str, **expressions: Any) -> QuerySet[dict[str, Any]]:
        """Return dicts instead of instances: ``{"id": 1, "name": "ann"}`` per row."""
        clone = self._values(fields, expressions)
        clone._mode = MODE_DICTS
        return clone  # type: ignore[return-value]

    def values_list(
        self, *fields: str, flat: bool = False, named: bool = False
    ) -> QuerySet[Any]:
        """Return tuples (``flat=True``: single values; ``named=True``: named tuples)."""
        if flat and named:
            raise TypeError("'flat' and 'named' can't be used together.")
        if flat and len(fields) != 1:
            raise TypeError("'flat' is valid only with exactly one field.")
        clone = self._values(fields, {})
        clone._mode = MODE_FLAT if flat else MODE_NAMED if named else MODE_TUPLES
        return clone

    def _values(self, fields: tuple[str, ...], expressions: dict[str, Any]) -> Self:
        if self.query.combinator:
            return self._combined_values(fields, expressions)
        clone = self._chain()
        query = clone.query
        for name, expression in expressions.items():
            query.add_annotation(name, expression)
        resolver = query.resolver()
        names: list[str] = []
        for name in (*fields, *expressions):
            if not isinstance(name, str):
                raise TypeError(f"values() takes field names, got {name!r}")
            if name not in query.annotations:
                try:
                    resolver.resolve_ref(name)
                except exc.FieldError:
                    raise resolver.field_names_error(name, "values() field") from None
                name = resolver.ref_path(name)
            if name not in names:
                names.append(name)
        if not names:
            names = [f.attname for f in self.model._meta.concrete_fields]
            names += [n for n in query.annotation_mask if n not in names]
        query.values_fields = tuple(names)
        query.annotation_mask = tuple(n for n in query.annotation_mask if n in names)
        return clone

    def only(self, *fields: str) -> Self:
        """Load only these fields (and the primary key); others stay deferred."""
        if not fields:
            raise TypeError("only() needs at least one field name")
        self.query.check_not_combined("only")
        clone = self._chain()
        names = clone._check_loadable(fields)
        current, defer = clone.query.deferred
        clone.query.deferred = (names - current if defer else names, False)
        return clone

    def defer(self, *fields: str | None) -> Self:
        """Do not load these fields; ``defer(None)`` loads every field again."""
        self.query.check_not_combined("defer")
        clone = self._chain()
        if fields == (None,):
            clone.query.deferred = (frozenset(), True)
            return clone
        names = clone._check_loadable(fields)  # type: ignore[arg-type]
        current, defer = clone.query.deferred
        clone.query.deferred = (current | names, True) if defer else (current - names, False)
        return clone

    def _check_loadable(self, fields: Iterable[str]) -> frozenset[str]:
        return frozenset(self.query.loadable_name(name) for name in fields)

    def select_related(self, *fields: str | None) -> Self:
        """Load these foreign keys and one-to-one relations in the same query (JOINs).

        ``select_related("author__profile")`` follows relations of relations; a
        nullable one is a LEFT OUTER JOIN. Without names every non-null foreign
        key is followed; ``select_related(None)`` drops them all.
        """
        if self._mode != MODE_MODELS:
            raise TypeError("Cannot call select_related() after .values() or .values_list()")
        self.query.check_not_combined("select_related")
        clone = self._chain()
        if fields == (None,):
            clone.query.select_related = ()
            return clone
        for name in fields:
            if not isinstance(name, str):
                raise TypeError(f"select_related() takes relation names, got {name!r}")
        clone.query.add_select_related(tuple(fields))  # type: ignore[arg-type]
        return clone

    def prefetch_related(self, *lookups: Any) -> Self:
        """Load these relations with one extra query each when the rows are read.

        Names (``"tags"``, ``"author__profile"``) or ``Prefetch`` objects;
        ``prefetch_related(None)`` drops them all.
        """
        clone = self._chain()
        if lookups == (None,):
            clone._prefetch_lookups = ()
            return clone
        from reinhardt_db.models.prefetch import check_lookup

        for lookup in lookups:
            check_lookup(self.model, lookup)
        clone._prefetch_lookups = (*self._prefetch_lookups, *lookups)
        return clone

    def cache(self, ttl: float | None = None) -> Self:
        """Serve this query's results from the query-result cache.

        Keyed by the compiled SQL, its parameters and the database alias; kept
        ``ttl`` seconds (None: until evicted or invalidated). Any write the ORM
        makes to a table the query reads drops the entry; inside a transaction
        that wrote one of those tables the query goes to the database until the
        commit. Applies to awaiting the QuerySet, ``get``/``first``/``last``,
        ``count``, ``exists``, ``aggregate`` and ``paginate``; ``iterator()`` and
        ``select_for_update()`` always read the database. Counters:
        ``reinhardt_db.models.result_cache.result_cache.stats``.
        """
        if ttl is not None:
            if isinstance(ttl, bool) or not isinstance(ttl, (int, float)):
                raise TypeError(f"cache(ttl=) takes seconds (a number) or None, got {ttl!r}")
            if not ttl > 0:
                raise ValueError(f"cache(ttl=) must be positive seconds or None, got {ttl!r}")
        clone = self._chain()
        clone._cache_ttl = (ttl,)
        return clone

    def using(self, alias: str) -> Self:
        """Run on the database ``alias``."""
        clone = self._chain()
        clone._db = alias
        return clone

    def select_for_update(
        self, nowait: bool = False, skip_locked: bool = False, of: tuple[str, ...] = ()
    ) -> Self:
        """Lock the selected rows until the transaction ends (``FOR UPDATE``)."""
        if nowait and skip_locked:
            raise ValueError("The nowait option cannot be used with skip_locked.")
        self.query.check_not_combined("select_for_update")
        clone = self._chain()
        clone.query.select_for_update = (nowait, skip_locked, bool(of))
        clone._for_write = True  # locks are taken where the rows are written
        return clone

    # -- single objects ----------------------------------------------------------------------
    async def get(self, *args: Any, **kwargs: Any) -> M:
        """Return the one object matching the lookups.

        Raise ``Model.DoesNotExist`` if none does, ``Model.MultipleObjectsReturned``
        if several do.
        """
        clone = self._filter_or_exclude(False, args, kwargs)
        query = clone.query
        if not query.is_sliced:
            query.order_by = ()
            query.default_ordering = False
            query.high_mark = MAX_GET_RESULTS
        rows = await clone._fetch_all()
        if len(rows) == 1:
            return rows[0]
        model = self.model
        if not rows:
            raise model.DoesNotExist(f"{model.__name__} matching query does not exist.")
        count = len(rows)
        shown = f"more than {MAX_GET_RESULTS - 1}" if count >= MAX_GET_RESULTS else str(count)
        raise model.MultipleObjectsReturned(
            f"get() returned more than one {model.__name__} -- it returned {shown}!"
        )

    async def first(self) -> M | None:
        """Return the first object (by primary key when unordered), or None."""
        clone = self._chain()
        if not clone.query.is_ordered():
            clone.query.set_ordering(("pk",))
        clone.query.set_limits(high=1)
        rows = await clone._fetch_all()
        return rows[0] if rows else None

    async def last(self) -> M | None:
        """Return the last object (by primary key when unordered), or None."""
        if self.query.is_sliced:
            raise TypeError("Cannot use last() once a slice has been taken; order the other way.")
        clone = self._chain()
        if clone.query.is_ordered():
            clone.query.standard_ordering = not clone.query.standard_ordering
        else:
            clone.query.set_ordering(("-pk",))
        clone.query.set_limits(high=1)
        rows = await clone._fetch_all()
        return rows[0] if rows else None

    async def earliest(self, *fields: str) -> M:
        """Return the object with the smallest ``fields`` (default ``Meta.get_latest_by``)."""
        return await self._earliest(fields, reverse=False)

    async def latest(self, *fields: str) -> M:
        """Return the object with the largest ``fields`` (default ``Meta.get_latest_by``)."""
        return await self._earliest(fields, reverse=True)

    async def _earliest(self, fields: tuple[str, ...], reverse: bool) -> M:
        if not fields:
            latest_by = self.model._meta.get_latest_by
            if not latest_by:
                raise ValueError(
                    "earliest() and latest() need field names or Meta.get_latest_by on "
                    f"{self.model.__name__}"
                )
            fields = (latest_by,) if isinstance(latest_by, str) else tuple(latest_by)
        if self.query.is_sliced:
            raise TypeError("Cannot change a query once a slice has been taken.")
        ordering = [_flip(f) if reverse else f for f in fields]
        clone = self._chain()
        clone.query.set_ordering(tuple(ordering))
        clone.query.set_limits(high=1)
        rows = await clone._fetch_all()
        if not rows:
            raise self.model.DoesNotExist(f"{self.model.__name__} matching query does not exist.")
        return rows[0]

    # -- counting and aggregates -------------------------------------------------------------
    async def count(self) -> int:
        """Return the number of rows (``len`` of the cache when already evaluated)."""
        if self._result_cache is not None:
            return len(self._result_cache)
        query = self.query
        if query.empty:
            return 0
        shards = shards_of(self)
        if shards is not None:
            return sum([await self.using(alias).count() for alias in shards])

        async def run(db: Database) -> int:
            await self._features_known(db)
            entry = compiler.compile_count(query, db)
            row = await self._fetch_row(db, entry, query)
            return int(row[0]) if row is not None else 0

        return await self._read(run)

    async def exists(self) -> bool:
        """Return whether the query has any row (``SELECT 1 ... LIMIT 1``)."""
        if self._result_cache is not None:
            return bool(self._result_cache)
        query = self.query
        if query.empty:
            return False
        shards = shards_of(self)
        if shards is not None:
            for alias in shards:
                if await self.using(alias).exists():
                    return True
            return False

        async def run(db: Database) -> bool:
            await self._features_known(db)
            entry = compiler.compile_exists(query, db)
            return await self._fetch_row(db, entry, query) is not None

        return await self._read(run)

    async def contains(self, obj: Any) -> bool:
        """Return whether ``obj`` (a saved instance of this model) is in the result."""
        if not isinstance(obj, self.model):
            raise TypeError(f"'obj' must be a {self.model.__name__} instance, got {obj!r}")
        if obj.pk is None:
            raise ValueError("QuerySet.contains() cannot be used on unsaved objects.")
        if self._result_cache is not None:
            return obj in self._result_cache
        self.query.check_not_combined("contains")
        return await self.filter(pk=obj.pk).exists()

    async def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Return ``{name: value}`` for aggregates over the whole query."""
        aggregates = _named_expressions(args, kwargs)
        if not aggregates:
            raise TypeError("aggregate() needs at least one aggregate, e.g. n=Count('id')")
        self.query.check_not_combined("aggregate")
        for name, expression in aggregates.items():
            if not isinstance(expression, Expression) or not expression.has_aggregate:
                raise TypeError(f"{name}={expression!r} is not an aggregate expression")
        shards = shards_of(self) if not self.query.empty else None
        if shards is not None:
            check_mergeable(aggregates)
            parts = [await self.using(alias).aggregate(**aggregates) for alias in shards]
            return merge_aggregates(aggregates, parts)
        if self.query.empty:
            return {
                name: (0 if type(e).__name__ == "Count" and getattr(e, "default", None) is None
                       else getattr(e, "default", None))
                for name, e in aggregates.items()
            }
        query = self.query.clone()
        resolver = query.resolver()
        shapes = []
        for name, expression in aggregates.items():
            expression.resolve(resolver)
            shapes.append((name, expression.parameterize(query.values, resolver)))
        async def run(db: Database) -> dict[str, Any]:
            entry = compiler.compile_aggregate(query, db, tuple(shapes))
            row = await self._fetch_row(db, entry, query)
            result: dict[str, Any] = entry.reader([row], db.alias)[0]
            return result

        return await self._read(run)

    async def in_bulk(
        self, id_list: Iterable[Any] | None = None, *, field_name: str = "pk"
    ) -> dict[Any, M]:
        """Return ``{key: object}`` for the given keys (all rows when ``id_list`` is None)."""
        if self.query.is_sliced:
            raise TypeError("Cannot use 'limit' or 'offset' with in_bulk().")
        if self._mode != MODE_MODELS:
            raise TypeError("in_bulk() cannot be used with values() or values_list().")
        self.query.check_not_combined("in_bulk")
        meta = self.model._meta
        field = meta.pk if field_name == "pk" else self.query.resolver().get_field(field_name)
        if field_name != "pk" and not getattr(field, "unique", False):
            raise ValueError(
                f"in_bulk()'s field_name must be a unique field but {field_name!r} isn't."
            )
        key_name = "pk" if field_name == "pk" else field.attname
        if id_list is None:
            objs = await self._chain()._execute()
        else:
            ids = list(dict.fromkeys(id_list))
            objs = []
            batch = 2048
            for start in range(0, len(ids), batch):
                chunk = ids[start:start + batch]
                objs.extend(await self.filter(**{f"{field_name}__in": chunk})._execute())
        return {getattr(obj, key_name): obj for obj in objs}

    async def paginate(
        self, *, after: str | None = None, before: str | None = None, limit: int
    ) -> Page[M]:
        """Return one page of ``limit`` rows by keyset (no OFFSET): a :class:`Page`.

        ``after=page.next_cursor`` reads the following page, ``before=page.previous_cursor``
        the one before; without a cursor, the first page. The ordering is the
        QuerySet's (``order_by()``, ``Meta.ordering``) with the primary key
        appended to break ties::

            page = await Post.objects.order_by("-created_at").paginate(limit=20)
            more = await Post.objects.order_by("-created_at").paginate(
                after=page.next_cursor, limit=20)

        A cursor that does not decode, fails its checksum or was made for another
        ordering raises ``ValueError``.
        """
        return await paginate_queryset(self, after, before, limit)

    async def explain(self, analyze: bool = False, format: str | None = None) -> str:
        """Return the server's plan for this query as text.

        ``analyze=True`` runs the query and shows what it cost (not on SQLite);
        ``format`` picks one of the server's plan formats (PostgreSQL ``TEXT JSON
        XML YAML``, MySQL ``TRADITIONAL JSON TREE``, MariaDB ``JSON``); anything
        else raises ``NotSupportedError``.
        """
        query = self.query
        db = self._database()
        if not db.features.server_version:
            await db.server_version()  # what the server supports is read at the first connect
        entry = compiler.select_sql(query, db)
        prefix = db.ops.explain_prefix(analyze, db.features, format)
        rows = await db.fetch_rows(prefix + entry.sql, entry.params(query.params()))
        return db.ops.explain_text(rows)

    # -- subqueries --------------------------------------------------------------------------
    def _as_subquery_template(self, values: list[Any]) -> tuple[Any, ...]:
        if self._mode in (MODE_DICTS, MODE_TUPLES, MODE_NAMED) and len(
            self.query.values_fields or ()
        ) + len(self.query.annotation_mask) > 1:
            raise TypeError(
                "a QuerySet used as a value must select one column: "
                "values_list('field', flat=True)"
            )
        if self.query.empty:
            # none() as a value matches no row (Django's EmptyResultSet); exclude() keeps all.
            return EMPTY_RESULT
        base = len(values)
        values.extend(self.query.params())
        return ("SQ", self.query, base)


def _flip(name: str) -> str:
    return name[1:] if name.startswith("-") else f"-{name}"


def _named_expressions(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    named: dict[str, Any] = {}
    for arg in args:
        if not isinstance(arg, Aggregate) or not isinstance(getattr(arg.source, "name", None), str):
            raise TypeError(f"complex expressions need a name: use name=... for {arg!r}")
        named[f"{arg.source.name}__{arg.function}"] = arg
    for name, expression in kwargs.items():
        if name in named:
            raise ValueError(f"the name {name!r} is given twice")
        named[name] = expression
    return named
