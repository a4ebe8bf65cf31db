"""``prefetch_related``: load relations of many instances with one query per relation and level.

::

    posts = await Post.objects.prefetch_related("tags", "author__profile")
    authors = await Author.objects.prefetch_related(
        Prefetch("posts", queryset=Post.objects.filter(published=True), to_attr="published")
    )
    await models.prefetch_related_objects(posts, "author")
    await post.fetch_related("tags")

For each level of a lookup the keys of the instances at hand go into one
``IN`` list (in chunks under the backend's parameter limit,
``db.features.max_query_params``), or, with ``Prefetch(...,
strategy="subquery")``, the parent query itself becomes the subquery. The
rows are matched to their instances in Python: a foreign key's target is
cached on the instance (``post.author``), a set goes to the instance's
prefetch cache (``post.tags.all()`` answers from it), or to ``to_attr`` as a
plain list. Relations already loaded (by ``select_related`` or an earlier
prefetch) are not fetched again.
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from reinhardt_db.backends import connections
from reinhardt_db.exceptions import FieldError
from reinhardt_db.models._iterables import gc_paused, grouping_reader
from reinhardt_db.models.expressions import F
from reinhardt_db.models.fields.related_descriptors import PREFETCH_CACHE, mark_linked
from reinhardt_db.models.sql import compiler
from reinhardt_db.models.sql.context import LOOKUP_SEP, did_you_mean
from reinhardt_db.models.subqueries import OuterRef, Subquery
from reinhardt_db.routers import db_for

#: What ``_Level._attach`` could not match in Python: the foreign key field, the
#: instances holding it, the keys they may join, and how to link one.
Unmatched = tuple[Any, list[Any], dict[Any, Any], Callable[[Any, Any, Any], None]] | None

__all__ = ["Prefetch", "check_lookup", "prefetch_related_objects"]

_VALUE = "_prefetch_related_val"
_STRATEGIES = ("in", "subquery")


class Prefetch:
    """A ``prefetch_related`` lookup with a custom queryset, target attribute or strategy.

    ``queryset`` filters, orders or ``select_related``\\ s the related rows;
    ``to_attr`` stores them as a plain list attribute (an instance or None for
    a foreign key) instead of the relation's cache; ``strategy="subquery"``
    sends the parent query as a subquery instead of a list of keys (for
    large parent sets).
    """

    def __init__(
        self,
        lookup: str,
        queryset: Any = None,
        to_attr: str | None = None,
        strategy: str = "in",
    ) -> None:
        if not isinstance(lookup, str) or not lookup:
            raise TypeError(f"Prefetch() takes a lookup name such as 'tags', got {lookup!r}")
        if queryset is not None and (
            not getattr(queryset, "_is_queryset", False) or queryset._mode != "models"
        ):
            raise ValueError(
                "Prefetch querysets cannot use values() or values_list(); pass a QuerySet of "
                "model instances"
            )
        if strategy not in _STRATEGIES:
            raise ValueError(f"Prefetch strategy must be 'in' or 'subquery', got {strategy!r}")
        if to_attr is not None and not to_attr.isidentifier():
            raise ValueError(f"to_attr must be an identifier, got {to_attr!r}")
        self.prefetch_through = lookup
        self.queryset = queryset
        self.to_attr = to_attr
        self.strategy = strategy
        parts = lookup.split(LOOKUP_SEP)
        if to_attr:
            parts[-1] = to_attr
        self.prefetch_to = LOOKUP_SEP.join(parts)

    def __repr__(self) -> str:
        return f"<Prefetch {self.prefetch_through!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Prefetch) and self.prefetch_to == other.prefetch_to

    def __hash__(self) -> int:
        return hash((Prefetch, self.prefetch_to))


def _normalize(lookup: Any) -> Prefetch:
    if isinstance(lookup, Prefetch):
        return lookup
    if isinstance(lookup, str):
        return Prefetch(lookup)
    raise TypeError(f"prefetch_related() takes names or Prefetch objects, got {lookup!r}")


def relation_for(model: Any, name: str) -> Any:
    """The relation ``name`` of ``model`` as prefetching sees it (accessor names), or None."""
    meta = model._meta
    field = meta.fields_map.get(name)
    if field is not None:
        return field if field.is_relation and field.name == name else None
    for m2m in meta.many_to_many:
        if m2m.name == name:
            return m2m
    for rel in meta.related_objects:
        if not rel.hidden and rel.accessor_name == name:
            return rel
    for private in meta.private_fields:  # a GenericForeignKey
        if private.name == name:
            return private
    return None


def _relation_names(model: Any) -> list[str]:
    meta = model._meta
    names = [f.name for f in meta.concrete_fields if f.is_relation]
    names += [f.name for f in meta.many_to_many]
    names += [r.accessor_name for r in meta.related_objects if not r.hidden]
    names += [f.name for f in meta.private_fields]
    return names


def _unknown(model: Any, name: str, lookup: str) -> FieldError:
    names = _relation_names(model)
    return FieldError(
        f"Cannot find {name!r} on {model.__name__} object, {lookup!r} is an invalid parameter "
        f"to prefetch_related(): {model.__name__} has no relation of that name."
        f"{did_you_mean(name, names)} Relations: {', '.join(names) or 'none'}."
    )


def _past_generic(through: str, part: str) -> FieldError:
    return FieldError(
        f"{through!r}: cannot prefetch past {part!r}, which reaches rows of several "
        "models; prefetch it alone, then prefetch on each model's rows."
    )


def check_lookup(model: Any, lookup: Any) -> None:
    """Raise ``FieldError`` (with a hint) when ``lookup`` does not follow relations of ``model``."""
    prefetch = _normalize(lookup)
    parts = prefetch.prefetch_through.split(LOOKUP_SEP)
    for depth, part in enumerate(parts):
        relation = relation_for(model, part)
        if relation is None:
            raise _unknown(model, part, prefetch.prefetch_through)
        model = relation.related_model
        if model is None and depth < len(parts) - 1:  # a generic foreign key
            raise _past_generic(prefetch.prefetch_through, part)


async def prefetch_related_objects(
    instances: Sequence[Any] | Iterable[Any],
    *lookups: Any,
    using: str | None = None,
    parent: Any = None,
) -> None:
    """Load the relations ``lookups`` of ``instances`` (all of one model) in place.

    ``parent`` is the QuerySet the instances came from (for
    ``strategy="subquery"``); ``using`` the database (default: the instances').
    """
    objs = [obj for obj in instances if obj is not None]
    if not objs or not lookups:
        return
    model = type(objs[0])
    # The instances' own database: related rows come from where they were read
    # (the routers are not asked again, so both halves are from one database).
    alias = using or objs[0]._state.db or db_for(model)
    done: dict[str, tuple[list[Any], Any]] = {}
    normalized = [_normalize(lookup) for lookup in lookups]
    # The levels some lookup goes beyond: only their related objects are gathered
    # (collecting 10,000 prefetched rows again for nothing is a tenth of the work).
    deeper = {
        LOOKUP_SEP.join(parts[:depth])
        for lookup in normalized
        for parts in (lookup.prefetch_through.split(LOOKUP_SEP),
                      lookup.prefetch_to.split(LOOKUP_SEP))
        for depth in range(1, len(parts))
    }
    for lookup in normalized:
        if lookup.prefetch_to in done and lookup.queryset is not None:
            raise ValueError(
                f"{lookup.prefetch_to!r} lookup was already seen with a different queryset; "
                "give the Prefetch a to_attr"
            )
        level_objs, level_model, level_parent = objs, model, parent
        through = lookup.prefetch_through.split(LOOKUP_SEP)
        to_parts = lookup.prefetch_to.split(LOOKUP_SEP)
        for depth, part in enumerate(through):
            if not level_objs:
                break
            last = depth == len(through) - 1
            key = LOOKUP_SEP.join(to_parts[:depth + 1] if last else through[:depth + 1])
            if key in done:
                level_objs, level_parent = done[key]
                level_model = type(level_objs[0]) if level_objs else level_model
                continue
            relation = relation_for(level_model, part)
            if relation is None:
                raise _unknown(level_model, part, lookup.prefetch_through)
            custom = getattr(relation, "prefetch_objects", None)
            if custom is not None:  # generic relations load themselves
                if relation.related_model is None and not last:
                    raise _past_generic(lookup.prefetch_through, part)
                level_objs = await custom(
                    level_objs, alias, lookup.queryset if last else None,
                    lookup.to_attr if last else None,
                )
                level_parent = None
            else:
                fetcher = _Level(
                    relation, level_objs, alias,
                    lookup.queryset if last else None,
                    lookup.to_attr if last else None,
                    level_parent if lookup.strategy == "subquery" else None,
                )
                level_objs, level_parent = await fetcher.run(gather=key in deeper)
            done[key] = (level_objs, level_parent)
            level_model = relation.related_model


class _Level:
    """One relation of one level: fetch, match, cache; return the related objects."""

    def __init__(
        self,
        relation: Any,
        objs: list[Any],
        alias: str,
        queryset: Any,
        to_attr: str | None,
        parent: Any,
    ) -> None:
        self.relation = relation
        self.objs = objs
        self.alias = alias
        self.queryset = queryset
        self.to_attr = to_attr
        self.parent = parent
        self.db = connections[alias]

    # -- what is loaded already ------------------------------------------------------------
    def _pending(self) -> list[Any]:
        """The instances whose relation is not loaded yet."""
        relation, objs = self.relation, self.objs
        if self.to_attr is not None:
            name = self.to_attr
            return [obj for obj in objs if name not in obj.__dict__]
        name = relation.cache_name
        if _is_multi(relation):
            return [obj for obj in objs if name not in _prefetched(obj)]
        if not relation.concrete:
            return [obj for obj in objs if name not in obj.__dict__]
        # Forward: the cached instance must match the key.
        attname, target = relation.attname, relation.target_field.attname
        pending = []
        for obj in objs:
            values = obj.__dict__
            key = values.get(attname)
            if key is None:
                continue
            cached = values.get(name)
            if cached is None or cached.__dict__.get(target) != key:
                pending.append(obj)
        return pending

    def _gather(self) -> list[Any]:
        relation = self.relation
        if self.to_attr is not None:
            values = [obj.__dict__.get(self.to_attr) for obj in self.objs]
        elif _is_multi(relation):
            name = relation.cache_name
            values = [_prefetched(obj).get(name) for obj in self.objs]
        else:
            name = relation.cache_name
            values = [obj.__dict__.get(name) for obj in self.objs]
        found: list[Any] = []
        for value in values:
            if type(value) is list:
                found.extend(value)
            elif value is not None:
                found.append(value)
        return found

    # -- running -------------------------------------------------------------------------
    async def run(self, gather: bool = True) -> tuple[list[Any], Any]:
        """Fetch for the instances that lack the relation; return every related object
        (an empty list unless ``gather``: no lookup goes deeper)."""
        pending = self._pending()
        used: Any = None
        if pending:
            used = await self._fetch(pending)
        return (self._gather() if gather else []), used

    def _base(self) -> Any:
        relation = self.relation
        if self.queryset is not None:
            return self.queryset.using(self.alias) if self.queryset._db is None else self.queryset
        model = relation.related_model
        # A foreign key's target is read even if the default manager hides it (Django).
        manager = model._meta.base_manager if not _is_multi(relation) else (
            model._meta.default_manager
        )
        return manager.db_manager(self.alias).all()

    async def _fetch(self, objs: list[Any]) -> Any:
        relation = self.relation
        base = self._base()
        key_of: Callable[[Any], Any]
        if relation.concrete:  # forward foreign key / one-to-one
            field = relation
            target = field.target_field
            keys = _keys(objs, field.attname)
            path, key_of = target.name, operator.attrgetter(target.attname)
            source = field.attname
            parent_values = None if self.parent is None else (self.parent, field.attname)
        elif relation.many_to_many:
            reverse = not hasattr(relation, "m2m_source_field")  # a ManyToManyRel
            keys, path, source, parent_values = self._m2m_keys(relation, objs, reverse)
            key_of = _pop_value
        else:  # reverse foreign key / one-to-one
            field = relation.field
            target = field.target_field
            keys = _keys(objs, target.attname)
            path, key_of = field.name, operator.attrgetter(field.attname)
            source = target.attname
            parent_values = None if self.parent is None else (self.parent, target.attname)
        querysets, used = self._querysets(
            base, path, keys, parent_values, annotate=relation.many_to_many
        )
        if not relation.concrete and not relation.many_to_many and not relation.one_to_one and (
            all(_plain(queryset, relation.field) for queryset in querysets)
        ):
            await self._fetch_grouped(querysets, objs, relation, source)
            return used
        rows: list[Any] = []
        for queryset in querysets:
            rows.extend(await queryset)
        with gc_paused(len(rows)):
            unmatched = self._attach(objs, rows, key_of, source)
        if unmatched is not None:
            await self._link_unmatched(*unmatched)
        return used

    async def _fetch_grouped(
        self, querysets: list[Any], objs: list[Any], relation: Any, source: str
    ) -> None:
        """A reverse foreign key's rows, read, grouped and linked in one generated loop."""
        field = relation.field
        own_key = operator.attrgetter(source)
        groups: dict[Any, list[Any]] = {}
        # One look-up per row: the parent (for the row's back reference) and its list.
        # Instances of one row share the list; the last is the parent.
        slots: dict[Any, tuple[Any, list[Any]]] = {}
        for obj in objs:
            key = own_key(obj)
            found = groups.get(key)
            if found is None:
                found = groups[key] = []
            slots[key] = (obj, found)
        batches: list[tuple[Any, Any, str]] = []
        shapes: list[tuple[list[Any], Any, Any]] = []  # for the rare reordering below
        count = len(objs)
        for queryset in querysets:
            query = queryset.query
            if query.empty:
                continue
            db = connections[queryset.db]
            fields = compiler.loaded_fields(query)
            entry = compiler.compile_select(query, db, compiler.MODE_MODELS)
            read = _grouping_reader(db, query.model, fields, field, entry)
            rows = await db.fetch_rows(entry.sql, entry.params(query.params()))
            batches.append((read, rows, db.alias))
            shapes.append((fields, rows, db.ops))
            count += len(rows)
        # Every instance built and linked under one pause: one collection walks them
        # all afterwards, rather than one per batch and one more for the links.
        missed: list[Any] = []  # rows the database matched to a key Python does not
        with gc_paused(count):
            for read, rows, alias in batches:
                read(rows, alias, slots, missed)
            self._store(objs, [groups[own_key(obj)] for obj in objs])
        if missed:
            position = _row_positions(relation.related_model, shapes)

            def link_missed(child: Any, parent: Any, key: Any) -> None:
                group = groups[own_key(parent)]
                if position is None:
                    group.append(child)
                else:
                    bisect.insort(group, child, key=lambda row: position.get(row.pk, -1))
                mark_linked(child, field.cache_name, parent, key)

            await self._link_unmatched(
                field, missed, {key: slot[0] for key, slot in slots.items()}, link_missed
            )

    def _store(self, objs: list[Any], found: list[Any]) -> None:
        """Give each instance its related set (``found``, in the same order): to_attr or cache."""
        to_attr = self.to_attr
        if to_attr is not None:
            for obj, items in zip(objs, found, strict=True):
                setattr(obj, to_attr, items)
            return
        name = self.relation.cache_name
        # An attribute store, as Django does, unless the model has its own __setattr__
        # (rows never go through it); reading __dict__ would build a dict per instance.
        plain = not objs or type(objs[0]).__setattr__ is object.__setattr__
        for obj, items in zip(objs, found, strict=True):
            cache = getattr(obj, PREFETCH_CACHE, None)
            if cache is not None:
                cache[name] = items
            elif plain:
                obj._prefetched_objects_cache = {name: items}
            else:
                obj.__dict__[PREFETCH_CACHE] = {name: items}

    def _m2m_keys(
        self, relation: Any, objs: list[Any], reverse: bool
    ) -> tuple[set[Any], str, str, Any]:
        if not reverse:  # post.tags: rows are tags, matched on the junction's post column
            field = relation
            source_fk = field.m2m_source_field
            path = field.remote_field.name
        else:  # tag.posts
            field = relation.field
            source_fk = field.m2m_target_field
            path = field.name
        source = source_fk.target_field.attname
        keys = _keys(objs, source)
        parent_values = None if self.parent is None else (self.parent, source)
        return keys, path, source, parent_values

    def _querysets(
        self, base: Any, path: str, keys: set[Any], parent_values: Any, annotate: bool
    ) -> tuple[list[Any], Any]:
        """The level's queries (chunks of keys, or one with the parent as a subquery).

        ``annotate``: select the junction's key too (many-to-many). The second
        value is the query when there is one, for the next level's subquery.
        """
        if not keys:
            return [], None

        def narrowed(value: Any) -> Any:
            queryset = base.filter(**{f"{path}__in": value})
            # After the filter, so the junction join is the filter's (one row per link).
            return queryset.annotate(**{_VALUE: F(path)}) if annotate else queryset

        parent = parent_values[0] if parent_values is not None else None
        if parent is not None and not parent.query.is_sliced:
            queryset = narrowed(parent.values(parent_values[1]).order_by())
            return [queryset], queryset
        try:  # keys of one type (the usual case) sort as they are
            ordered = sorted(keys)
        except TypeError:
            ordered = sorted(keys, key=_sort_key)
        limit = _chunk_size(self.db, base)
        querysets = [
            narrowed(ordered[start:start + limit]) for start in range(0, len(ordered), limit)
        ]
        return querysets, (querysets[0] if len(querysets) == 1 else None)

    def _attach(self, objs: list[Any], rows: list[Any], key_of: Any, source: str) -> Unmatched:
        """Link ``rows`` to ``objs`` by key; return what only the database can match, or None."""
        relation = self.relation
        to_attr = self.to_attr
        own_key = operator.attrgetter(source)
        if _is_multi(relation):
            groups: dict[Any, list[Any]] = {}
            for row in rows:
                key = key_of(row)
                group = groups.get(key)
                if group is None:
                    groups[key] = [row]
                else:
                    group.append(row)
            # The posts of an author: each post's author is that author.
            back = relation.field.cache_name if not (
                relation.concrete or relation.many_to_many
            ) else None
            sets = []
            for obj in objs:
                found = groups.get(own_key(obj))
                if found is None:
                    found = []
                elif back is not None:
                    for child in found:
                        setattr(child, back, obj)
                sets.append(found)
            self._store(objs, sets)
            if relation.many_to_many or not _inexact_keys(self.db, relation):
                return None
            # Rows whose foreign key matches no parent's key in Python (keys equal only
            # under a collation): the database says whose they are.
            parents = {own_key(obj): (obj, found) for obj, found in zip(objs, sets, strict=True)}
            children = [child for key, group in groups.items() if key not in parents
                        for child in group]
            if not children:
                return None

            position = {id(row): at for at, row in enumerate(rows)}

            def link_child(child: Any, parent: Any, key: Any) -> None:
                # Where the query put it among the parent's other rows.
                bisect.insort(parents[own_key(parent)][1], child, key=lambda row: position[id(row)])
                if back is not None:
                    mark_linked(child, back, parent, key)

            return (
                relation.field, children, {key: obj for key, (obj, _) in parents.items()},
                link_child,
            )
        by_key = {key_of(row): row for row in rows}
        back_name = relation.back_cache_name
        target = to_attr if to_attr is not None else relation.cache_name
        lost = []
        for obj in objs:
            key = own_key(obj)
            single = by_key.get(key)
            setattr(obj, target, single)
            if single is not None and back_name:
                setattr(single, back_name, obj)
            elif single is None and key is not None:
                lost.append(obj)
        # A parent whose key found no row: none there (or a Prefetch queryset left it
        # out), unless the database matches text keys Python finds unequal.
        if not lost or not rows or not _inexact_keys(self.db, relation):
            return None
        if relation.concrete:  # forward: the database says which row each parent's key joins
            def link_forward(obj: Any, row: Any, key: Any) -> None:
                if to_attr is None:
                    mark_linked(obj, target, row, key)
                else:
                    setattr(obj, target, row)
                if back_name:
                    setattr(row, back_name, obj)

            return relation, lost, by_key, link_forward
        # Reverse one-to-one: rows no parent took, matched from the rows' side.
        taken = {id(getattr(obj, target)) for obj in objs}
        spare = [row for row in rows if id(row) not in taken]
        owners = {own_key(obj): obj for obj in objs}

        def link_reverse(row: Any, obj: Any, key: Any) -> None:
            setattr(obj, target, row)
            mark_linked(row, relation.field.cache_name, obj, key)

        return relation.field, spare, owners, link_reverse

    async def _link_unmatched(
        self, field: Any, holders: list[Any], by_key: dict[Any, Any],
        link: Callable[[Any, Any, Any], None],
    ) -> None:
        """Match ``holders`` (instances of the model with foreign key ``field``) by the
        database's own comparison of keys, then ``link(holder, match, key)``.

        Python compares text keys exactly; the database may not (MariaDB's default
        collations join 'FR' to 'fr'). One query reads, for each holder, the key as
        stored in the row its foreign key joins (a correlated subquery, so the
        database compares: ``country__code`` would read the holder's own column),
        which ``by_key`` then finds.
        """
        if not holders:
            return
        manager = type(holders[0])._meta.base_manager.db_manager(self.alias)
        key = field.target_field.name
        targets = field.related_model._meta.base_manager.db_manager(self.alias)
        joined = Subquery(targets.filter(**{key: OuterRef(field.name)}).values(key)[:1])
        by_pk = {holder.pk: holder for holder in holders}
        pks = list(by_pk)
        limit = _chunk_size(self.db, manager.all())
        for start in range(0, len(pks), limit):
            chunk = manager.filter(pk__in=pks[start:start + limit]).annotate(
                _prefetch_joined_key=joined
            ).values_list("pk", "_prefetch_joined_key")
            for pk, stored in await chunk:
                match = by_key.get(stored)
                if match is not None:
                    holder = by_pk[pk]
                    link(holder, match, getattr(holder, field.attname))


def _row_positions(
    model: Any, shapes: list[tuple[list[Any], Any, Any]]
) -> dict[Any, int] | None:
    """Each row's place in the level's result, by primary key (None: the key was not read).

    Only for rows linked by the database after the grouped read: the reader
    keeps no positions, so as not to pay for them on every row.
    """
    pk = model._meta.pk
    position: dict[Any, int] = {}
    for fields, rows, ops in shapes:
        names = [field.attname for field in fields]
        if getattr(pk, "attname", None) not in names:
            return None
        at = names.index(pk.attname)
        convert = pk.get_db_converter(ops)
        for row in rows:
            value = row[at]
            if convert is not None and value is not None:
                value = convert(value)
            position[value] = len(position)
    return position


def _inexact_keys(db: Any, relation: Any) -> bool:
    """True when the database may join keys of ``relation`` that differ in Python (text
    keys under MySQL's and MariaDB's case-insensitive collations)."""
    field = relation if relation.concrete else relation.field
    return not db.features.text_equality_is_exact and not isinstance(
        field.target_field.column_type(), sa.Integer
    )


def _is_multi(relation: Any) -> bool:
    return bool(relation.many_to_many or (not relation.concrete and not relation.one_to_one))


_NO_CACHE: dict[str, Any] = {}


def _prefetched(obj: Any) -> dict[str, Any]:
    """The instance's prefetch cache (an attribute read: ``__dict__`` would build a dict)."""
    return getattr(obj, PREFETCH_CACHE, None) or _NO_CACHE


def _keys(objs: list[Any], attname: str) -> set[Any]:
    """The distinct non-NULL values of ``attname`` on ``objs`` (unloaded counts as NULL)."""
    try:
        keys = set(map(operator.attrgetter(attname), objs))
    except (FieldError, AttributeError):  # deferred (or deleted) on some instance
        keys = {o.__dict__.get(attname) for o in objs}
    keys.discard(None)
    return keys


def _pop_value(row: Any) -> Any:
    value = getattr(row, _VALUE)
    delattr(row, _VALUE)
    return value


def _plain(queryset: Any, field: Any) -> bool:
    """True for a QuerySet of plain instances that load ``field`` (no joins loaded,
    no annotations, no prefetch of its own)."""
    query = queryset.query
    return bool(
        queryset._mode == compiler.MODE_MODELS
        and not query.select_related
        and not query.annotation_mask
        and not queryset._prefetch_lookups
        and field in compiler.loaded_fields(query)
    )


_READERS: dict[Any, Any] = {}


def _grouping_reader(db: Any, model: Any, fields: list[Any], field: Any, entry: Any) -> Any:
    key = (entry, field)
    read = _READERS.get(key)
    if read is None:
        if len(_READERS) > 256:
            _READERS.clear()
        read = _READERS[key] = grouping_reader(
            model,
            [f.attname for f in fields],
            [f.get_db_converter(db.ops) for f in fields],
            fields.index(field),
            field.cache_name,
        )
    return read


def _sort_key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


def _chunk_size(db: Any, queryset: Any) -> int:
    """Keys per ``IN`` list: a power of two (lists are padded) under the parameter limit."""
    room = db.features.max_query_params - len(queryset.query.params()) - 8
    room = max(room, 1)
    return 1 << (room.bit_length() - 1)
