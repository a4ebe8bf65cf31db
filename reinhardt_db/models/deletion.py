"""The deletion collector: ``on_delete`` rules carried out in batches, in one transaction.

``qs.delete()`` and ``obj.delete()`` both come here. A model nothing points
at (or only with ``DO_NOTHING``) and nobody listens to is deleted with one
``DELETE``. Otherwise the :class:`Collector` walks the relations pointing at
the rows, a batch of keys at a time (``IN`` lists under
``db.features.max_query_params``), never a query per row:

- ``CASCADE``: the referring rows are collected too (and what refers to
  them); rows of a model that nothing further depends on and nobody listens
  to are deleted by a ``DELETE ... WHERE fk IN (...)`` without being read;
- ``PROTECT`` / ``RESTRICT``: the referring rows are read and the delete is
  refused (``ProtectedError`` / ``RestrictedError``) before anything is
  written; a ``RESTRICT``\\ ed row that a cascade deletes anyway is fine;
- ``SET_NULL`` / ``SET_DEFAULT`` / ``SET(...)``: one ``UPDATE`` per batch;
- ``DO_NOTHING``: nothing (the database's foreign key may refuse).

Then, in one transaction: ``pre_delete`` for every instance read, the
updates, the unread deletes, the collected rows (models that others point
at last), ``post_delete``. The result is Django's ``(total, {"app.Model":
count})``.

Soft deletes (``soft=True``, for ``SoftDeleteModel``): the rows are marked
(``deleted_at``) instead, and the cascade marks referring rows that are
soft-deletable too; other referring rows stay, ``PROTECT``/``RESTRICT``
still refuse, ``SET_*`` rules do not apply (the row is still there).
"""

from __future__ import annotations

import datetime as dt
import graphlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reinhardt_db import exceptions as exc
from reinhardt_db.backends import connections
from reinhardt_db.models.signals import post_delete, pre_delete

if TYPE_CHECKING:
    from reinhardt_db.backends import Database

__all__ = [
    "Collector", "acting_relations", "delete_instances", "delete_queryset", "needs_collector",
]

SOFT_FIELD = "deleted_at"


def _is_soft(model: Any) -> bool:
    return SOFT_FIELD in model._meta.fields_map and hasattr(model, "hard_delete")


def acting_relations(model: Any) -> list[Any]:
    """The relations pointing at ``model`` whose ``on_delete`` rule does something."""
    return [rel for rel in model._meta.related_objects if rel.on_delete.kind != "do_nothing"]


def needs_collector(model: Any) -> bool:
    """True when deleting rows of ``model`` is more than one ``DELETE`` statement."""
    return bool(
        acting_relations(model)
        or pre_delete.has_listeners(model)
        or post_delete.has_listeners(model)
    )


def batch_size(db: Database, reserved: int = 8) -> int:
    """Keys per ``IN`` list: a power of two (lists are padded) under the parameter limit."""
    room = max(db.features.max_query_params - reserved, 1)
    return 1 << (room.bit_length() - 1)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _manager(model: Any, alias: str) -> Any:
    return model._meta.base_manager.db_manager(alias)


class Collector:
    """Collect the rows a delete reaches, then delete (or soft-delete) them in batches."""

    def __init__(self, db: Database, *, soft: bool = False, origin: Any = None) -> None:
        self.db = db
        #: What the delete was asked for (an instance or a QuerySet), for the signals.
        self.origin = origin
        self.alias = db.alias
        self.soft = soft
        self.size = batch_size(db)
        #: model -> {pk: instance or None (read as keys only)}, in collection order.
        self.data: dict[Any, dict[Any, Any]] = {}
        #: (model, QuerySet) deleted without reading the rows.
        self.fast_deletes: list[tuple[Any, Any]] = []
        #: (QuerySet, field, value) run as UPDATEs.
        self.field_updates: list[tuple[Any, Any, Any]] = []
        self.protected: list[tuple[Any, Any]] = []
        self.restricted: list[tuple[Any, Any]] = []
        #: model -> models whose rows must go first (they point at it).
        self.dependencies: dict[Any, set[Any]] = {}

    # -- collecting ----------------------------------------------------------------------
    def _wants_instances(self, model: Any) -> bool:
        return pre_delete.has_listeners(model) or post_delete.has_listeners(model)

    def _can_fast_delete(self, model: Any) -> bool:
        return not self.soft and not self._wants_instances(model) and not acting_relations(model)

    async def collect(self, model: Any, items: Iterable[Any]) -> None:
        """Add rows of ``model`` (instances or primary keys) and what their rules reach."""
        found = self.data.setdefault(model, {})
        new: list[Any] = []
        for item in items:
            is_instance = hasattr(type(item), "_meta") and not isinstance(item, type)
            key = item.pk if is_instance else item
            if key in found:
                if is_instance and found[key] is None:
                    found[key] = item
                continue
            found[key] = item if is_instance else None
            new.append(key)
        if new:
            await self._follow(model, new)

    async def _keys_for(self, model: Any, field: Any, pks: list[Any]) -> list[Any]:
        target = field.target_field
        if target.primary_key:
            return pks
        known = self.data[model]
        if all(known.get(pk) is not None for pk in pks):
            return [known[pk].__dict__[target.attname] for pk in pks]
        keys: list[Any] = []
        for chunk in _chunks(pks, self.size):
            keys += await _manager(model, self.alias).filter(pk__in=chunk).values_list(
                target.attname, flat=True
            )
        return keys

    async def _follow(self, model: Any, pks: list[Any]) -> None:
        for rel in acting_relations(model):
            rule = rel.on_delete
            related, field = rel.related_model, rel.field
            stays = rule.kind == "cascade" and not _is_soft(related)
            if self.soft and (rule.sets_value or stays):
                continue  # the row stays, so what points at it may stay
            referring = getattr(rel, "referring_querysets", None)
            if referring is not None:  # a generic relation: a content type and object ids
                querysets = await referring(self.alias, pks, self.size)
            else:
                keys = await self._keys_for(model, field, pks)
                querysets = [
                    _manager(related, self.alias).filter(**{f"{field.attname}__in": chunk})
                    for chunk in _chunks(keys, self.size)
                ]
            for queryset in querysets:
                if self.soft and _is_soft(related):
                    queryset = queryset.filter(**{f"{SOFT_FIELD}__isnull": True})
                await self._apply(rule, model, related, field, queryset)

    async def _apply(
        self, rule: Any, model: Any, related: Any, field: Any, queryset: Any
    ) -> None:
        kind = rule.kind
        if kind == "cascade":
            if related is not model:
                self.dependencies.setdefault(model, set()).add(related)
            if self._can_fast_delete(related):
                self.fast_deletes.append((related, queryset))
                return
            if self._wants_instances(related):
                rows = list(await queryset)
            else:
                rows = list(await queryset.values_list("pk", flat=True))
            await self.collect(related, rows)
        elif kind == "protect":
            self.protected += [(field, obj) for obj in await queryset]
        elif kind == "restrict":
            self.restricted += [(field, obj) for obj in await queryset]
        elif rule.sets_value:
            self.field_updates.append((queryset, field, rule.new_value(field)))

    async def check(self) -> None:
        """Raise ``ProtectedError`` / ``RestrictedError`` for rows that forbid the delete."""
        if self.protected:
            objs = [obj for _, obj in self.protected]
            first, example = self.protected[0]
            raise exc.ProtectedError(
                f"Cannot delete some {first.related_model._meta.object_name} rows because "
                f"{len(objs)} row(s) refer to them through the protected foreign key "
                f"{first.label} (on_delete=PROTECT), e.g. {example!r}. Delete or repoint those "
                "first.",
                objs,
            )
        blocked = []
        for field, obj in self.restricted:
            model = type(obj)
            if obj.pk in self.data.get(model, {}):
                continue
            if await self._fast_deleted(model, obj.pk):
                continue
            blocked.append((field, obj))
        if blocked:
            field, example = blocked[0]
            raise exc.RestrictedError(
                f"Cannot delete some {field.related_model._meta.object_name} rows because "
                f"{len(blocked)} row(s) refer to them through the restricted foreign key "
                f"{field.label} (on_delete=RESTRICT), e.g. {example!r}, and are not deleted "
                "by a cascade. Delete those first.",
                [obj for _, obj in blocked],
            )

    async def _fast_deleted(self, model: Any, pk: Any) -> bool:
        for fast_model, queryset in self.fast_deletes:
            if fast_model is model and await queryset.filter(pk=pk).exists():
                return True
        return False

    # -- deleting ------------------------------------------------------------------------
    def _order(self) -> list[Any]:
        """Models pointing at others first."""
        sorter: graphlib.TopologicalSorter[Any] = graphlib.TopologicalSorter()
        for model in self.data:
            sorter.add(model)
        for model, dependents in self.dependencies.items():
            for dependent in dependents:
                if dependent in self.data and model in self.data:
                    sorter.add(model, dependent)
        try:
            return list(sorter.static_order())
        except graphlib.CycleError:
            return list(reversed(self.data))

    async def delete(self) -> tuple[int, dict[str, int]]:
        """Carry the collected delete out (call inside the transaction); return the counts."""
        await self.check()
        counts: dict[str, int] = {}
        if self.soft:
            await self._soft_delete(counts)
        else:
            await self._hard_delete(counts)
        counts = {label: n for label, n in counts.items() if n}
        return sum(counts.values()), counts

    async def _hard_delete(self, counts: dict[str, int]) -> None:
        order = self._order()
        alias = self.alias
        for model in order:
            if pre_delete.has_listeners(model):
                for obj in self.data[model].values():
                    if obj is not None:
                        await pre_delete.send(
                            model, instance=obj, using=alias, origin=self.origin
                        )
        for queryset, field, value in self.field_updates:
            await queryset.update(**{field.attname: value})
        for model, queryset in self.fast_deletes:
            deleted = await queryset._raw_delete()
            counts[model._meta.label] = counts.get(model._meta.label, 0) + deleted
        for model in order:
            pks = list(self.data[model])
            deleted = 0
            for chunk in _chunks(pks, self.size):
                deleted += await _manager(model, alias).filter(pk__in=chunk)._raw_delete()
            counts[model._meta.label] = counts.get(model._meta.label, 0) + deleted
        for model in order:
            listening = post_delete.has_listeners(model)
            meta = model._meta
            auto_pk = len(meta.pk_attnames) == 1 and meta.pk_fields[0].is_auto
            for obj in self.data[model].values():
                if obj is None:
                    continue
                if listening:
                    await post_delete.send(
                        model, instance=obj, using=alias, origin=self.origin
                    )
                if auto_pk:
                    obj.__dict__[meta.pk_attnames[0]] = None

    async def _soft_delete(self, counts: dict[str, int]) -> None:
        now = dt.datetime.now(dt.UTC)
        for model, rows in self.data.items():
            marked = 0
            for chunk in _chunks(list(rows), self.size):
                marked += await _manager(model, self.alias).filter(
                    pk__in=chunk, **{f"{SOFT_FIELD}__isnull": True}
                ).update(**{SOFT_FIELD: now})
            counts[model._meta.label] = marked
            for obj in rows.values():
                if obj is not None:
                    obj.__dict__[SOFT_FIELD] = now


async def delete_queryset(queryset: Any, *, soft: bool = False) -> tuple[int, dict[str, int]]:
    """Delete the rows of ``queryset`` with their ``on_delete`` consequences."""
    model = queryset.model
    db = connections[queryset.db]
    if not soft and not needs_collector(model):
        deleted = await queryset._raw_delete()
        return deleted, ({model._meta.label: deleted} if deleted else {})
    reader = queryset._chain()
    reader.query.select_related = ()
    reader._prefetch_lookups = ()
    async with db.atomic():
        collector = Collector(db, soft=soft, origin=queryset)
        if soft:
            reader = reader.filter(**{f"{SOFT_FIELD}__isnull": True})
        if pre_delete.has_listeners(model) or post_delete.has_listeners(model):
            rows = list(await reader)
        else:
            rows = list(await reader.values_list("pk", flat=True))
        await collector.collect(model, rows)
        return await collector.delete()


async def delete_instances(
    objs: list[Any], using: str, *, soft: bool = False
) -> tuple[int, dict[str, int]]:
    """Delete saved instances (of one model) with their ``on_delete`` consequences."""
    model = type(objs[0])
    db = connections[using]
    async with db.atomic():
        collector = Collector(db, soft=soft, origin=objs[0] if len(objs) == 1 else objs)
        await collector.collect(model, objs)
        return await collector.delete()
