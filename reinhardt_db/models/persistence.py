"""Saving, deleting and reloading single instances (``Model.save`` & co delegate here).

``save()`` follows Django: an instance with a primary key that is not being
added is UPDATEd, and INSERTed when the UPDATE matched no row; ``auto_now`` and
``auto_now_add`` fields are stamped through ``Field.pre_save``; ``pre_save`` and
``post_save`` fire (at no cost when nobody listens). Statements are compiled
once per model, field set and backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reinhardt_db import exceptions as exc
from reinhardt_db.backends import connections
from reinhardt_db.models.base import ModelState
from reinhardt_db.models.fields.base import DATABASE_DEFAULT
from reinhardt_db.models.result_cache import tables_written
from reinhardt_db.models.signals import post_delete, post_save, pre_delete, pre_save
from reinhardt_db.models.sql import dml
from reinhardt_db.models.sql.context import did_you_mean
from reinhardt_db.routers import db_for

__all__ = ["delete_instance", "refresh_instance", "save_instance"]


def mark_saved(obj: Any, alias: str) -> None:
    """Record that ``obj`` is stored in database ``alias``.

    Instances loaded by one query share their ``ModelState``, so it is replaced,
    never mutated.
    """
    state = obj.__dict__.get("_state")
    if state is not None and state.adding:
        # A new instance's state is its own (only loaded ones share): update it.
        state.adding = False
        state.db = alias
    elif state is None or state.db != alias:
        obj.__dict__["_state"] = ModelState(alias, False)


_FieldSet = tuple[tuple[Any, ...], frozenset[str], frozenset[str]]
#: (meta, update_fields as given) -> (fields, their attnames, their names). Bounded:
#: a program names a handful of field sets, not thousands.
_FIELD_SETS: dict[tuple[Any, tuple[str, ...]], _FieldSet] = {}
_FIELD_SETS_MAX = 4096


def _update_field_set(meta: Any, update_fields: Iterable[str]) -> _FieldSet:
    """The concrete fields ``update_fields`` names, with their attnames and names."""
    names = (update_fields,) if isinstance(update_fields, str) else tuple(update_fields)
    key = (meta, names)
    try:
        cached = _FIELD_SETS.get(key)
    except TypeError:  # an unhashable name: the loop below says what is wrong
        cached = None
    if cached is not None:
        return cached
    fields: list[Any] = []
    for name in names:
        field = meta.fields_map.get(name) if isinstance(name, str) else None
        if field is None or not field.concrete:
            choices = [f.name for f in meta.concrete_fields]
            raise ValueError(
                f"update_fields: {meta.object_name} has no concrete field named {name!r}."
                f"{did_you_mean(str(name), choices)}"
            )
        if field not in fields:
            fields.append(field)
    found = (
        tuple(fields), frozenset(f.attname for f in fields), frozenset(f.name for f in fields)
    )
    if len(_FIELD_SETS) < _FIELD_SETS_MAX:
        _FIELD_SETS[key] = found
    return found


async def save_instance(
    obj: Any,
    using: str | None = None,
    update_fields: Iterable[str] | None = None,
    force_insert: bool = False,
    force_update: bool = False,
) -> None:
    """INSERT or UPDATE ``obj``; see ``Model.save``."""
    model = type(obj)
    meta = model._meta
    if force_insert and (force_update or update_fields is not None):
        raise ValueError("Cannot force both insert and updating in model saving.")
    fields: tuple[Any, ...] | None = None
    changed: frozenset[str] | None = None
    if update_fields is not None:
        fields, attnames, changed = _update_field_set(meta, update_fields)
        if not fields:
            return
        if not obj.__dict__.keys() >= attnames:
            missing = [f.name for f in fields if f.attname not in obj.__dict__]
            raise ValueError(f"update_fields names deferred fields {missing}; load them first")
    state = obj._state
    # using=, else the routers, else the database obj was read from, else "default".
    alias = db_for(model, using, write=True, instance=obj)
    db = connections[alias]
    if pre_save.has_listeners(model):
        await pre_save.send(
            model, instance=obj, raw=False, using=alias,
            update_fields=changed,
        )
    updated = False
    if not force_insert and obj._is_pk_set() and not (state.adding and _pk_has_default(meta)):
        if fields is None:
            fields = _loaded_update_fields(meta, obj.__dict__)
        if fields:
            # The UPDATE is awaited here, not in a helper: one coroutine frame less.
            entry, params = _update_statement(obj, db, fields)
            result = await db.execute_native(entry.sql, params)
            tables_written(db, (meta.db_table,))
            # Every backend reports matched rows (MySQL connects with CLIENT.FOUND_ROWS).
            updated = result.rowcount > 0
        else:
            updated = await _pk_exists(obj, db)
        if not updated and (force_update or update_fields is not None):
            what = "Save with update_fields" if update_fields is not None else "Forced update"
            raise exc.DatabaseError(f"{what} did not affect any rows.")
    elif force_update:
        raise ValueError("Cannot force an update in save() with no primary key.")
    if not updated:
        fields, filled = insert_plan(meta, obj)
        values = [f.pre_save(obj, True) for f in fields]
        if filled and db.features.can_return_rows_from_bulk_insert:
            # INSERT ... RETURNING, awaited here (the common case: an auto key).
            entry = dml.compile_insert(model, db, fields, filled)
            row = await db.fetch_row(entry.sql, entry.params(values))
            tables_written(db, (meta.db_table,))
            if row is not None:
                returned = entry.reader((row,), alias)[0]
                if len(filled) == 1:  # the auto key: one store
                    obj.__dict__[filled[0].attname] = returned[0]
                else:
                    obj.__dict__.update(zip(_attnames(filled), returned, strict=True))
        else:
            await _insert_without_returning(obj, db, fields, filled, values)
    mark_saved(obj, alias)
    if post_save.has_listeners(model):
        await post_save.send(
            model, instance=obj, created=not updated, raw=False, using=alias,
            update_fields=changed,
        )


_ATTNAMES: dict[tuple[Any, ...], tuple[str, ...]] = {}


def _attnames(fields: tuple[Any, ...]) -> tuple[str, ...]:
    """The attnames of ``fields`` (cached: the same plan tuples come back on every save)."""
    names = _ATTNAMES.get(fields)
    if names is None:
        names = _ATTNAMES[fields] = tuple(f.attname for f in fields)
    return names


_UPDATE_FIELDS: dict[Any, tuple[tuple[Any, ...], frozenset[str]]] = {}


def _loaded_update_fields(meta: Any, values: dict[str, Any]) -> tuple[Any, ...]:
    """The non-key fields a plain ``save()`` writes: every loaded one."""
    cached = _UPDATE_FIELDS.get(meta)
    if cached is None:
        pk_fields = set(meta.pk_fields)
        fields = tuple(f for f in meta.concrete_fields if f not in pk_fields)
        cached = _UPDATE_FIELDS[meta] = (fields, frozenset(f.attname for f in fields))
    fields, attnames = cached
    if values.keys() >= attnames:  # nothing deferred: the common case, one C-level check
        return fields
    return tuple(f for f in fields if f.attname in values)


def _pk_has_default(meta: Any) -> bool:
    return any(f.has_default() or f.has_db_default() for f in meta.pk_fields)


def _update_statement(obj: Any, db: Any, fields: tuple[Any, ...]) -> tuple[Any, list[Any]]:
    """The UPDATE of ``fields`` by primary key and its parameters (``fields`` not empty)."""
    meta = type(obj)._meta
    values = [f.pre_save(obj, False) for f in fields]
    state = obj.__dict__
    values.extend([state[name] for name in meta.pk_attnames])
    entry = dml.compile_update_pk(type(obj), db, fields)
    return entry, entry.params(values)


async def _pk_exists(obj: Any, db: Any) -> bool:
    """Whether ``obj``'s row exists: a save with nothing to write only needs the row."""
    entry = dml.compile_exists_pk(type(obj), db)
    pk_values = [obj.__dict__[name] for name in type(obj)._meta.pk_attnames]
    return await db.fetch_row(entry.sql, entry.params(pk_values)) is not None


_Plan = tuple[tuple[Any, ...], tuple[Any, ...]]
_INSERT_PLANS: dict[tuple[Any, tuple[bool, ...]], _Plan] = {}
_FILLABLE: dict[Any, tuple[Any, ...]] = {}
_AUTO_NOW: dict[Any, tuple[Any, ...]] = {}


def auto_now_fields(meta: Any) -> tuple[Any, ...]:
    """The fields of ``meta`` stamped on insert (``auto_now``/``auto_now_add``)."""
    fields = _AUTO_NOW.get(meta)
    if fields is None:
        fields = _AUTO_NOW[meta] = tuple(
            f for f in meta.concrete_fields if f.auto_now or f.auto_now_add
        )
    return fields


def insert_plan(meta: Any, obj: Any) -> _Plan:
    """Return ``(fields written, fields the database fills)`` for inserting ``obj``.

    Only auto keys left at None and fields holding ``DATABASE_DEFAULT`` are
    filled by the database; the plan is cached per model and that pattern.
    """
    fillable = _FILLABLE.get(meta)
    if fillable is None:
        fillable = _FILLABLE[meta] = tuple(
            f for f in meta.concrete_fields if f.is_auto or f.has_db_default()
        )
    values = obj.__dict__
    if len(fillable) == 1:  # an auto key alone, the usual case: no call per field
        field = fillable[0]
        value = values.get(field.attname, DATABASE_DEFAULT)
        pattern: tuple[bool, ...] = (
            (True,) if value is DATABASE_DEFAULT or (value is None and field.is_auto)
            else (False,)
        )
    else:
        pattern = tuple([_filled(f, values) for f in fillable])
    plan = _INSERT_PLANS.get((meta, pattern))
    if plan is None:
        filled = {f for f, fill in zip(fillable, pattern, strict=True) if fill}
        plan = (
            tuple(f for f in meta.concrete_fields if f not in filled),
            tuple(f for f in meta.concrete_fields if f in filled),
        )
        _INSERT_PLANS[(meta, pattern)] = plan
    return plan


def insert_groups(meta: Any, objs: list[Any]) -> dict[_Plan, list[Any]]:
    """Group ``objs`` by :func:`insert_plan`, in order of first appearance.

    The common case, one fillable field (an auto primary key), is one flat loop
    with no call per object: ``bulk_create`` of 10,000 rows spends its time here.
    """
    fillable = _FILLABLE.get(meta)
    if fillable is None:
        insert_plan(meta, objs[0])
        fillable = _FILLABLE[meta]
    if len(fillable) != 1:
        groups: dict[_Plan, list[Any]] = {}
        for obj in objs:
            groups.setdefault(insert_plan(meta, obj), []).append(obj)
        return groups
    field = fillable[0]
    attname, auto, default = field.attname, field.is_auto, DATABASE_DEFAULT
    filled: list[Any] = []
    given: list[Any] = []
    for obj in objs:
        value = obj.__dict__.get(attname, default)
        if value is default or (value is None and auto):
            filled.append(obj)
        else:
            given.append(obj)
    parts = [part for part in (filled, given) if part]
    if len(parts) == 2 and parts[0][0] is not objs[0]:
        parts.reverse()
    return {insert_plan(meta, part[0]): part for part in parts}


def mark_all_saved(objs: list[Any], alias: str) -> None:
    """:func:`mark_saved` for many new instances (each owns its state while adding)."""
    for obj in objs:
        state = obj.__dict__.get("_state")
        if state is not None and state.adding:
            state.adding = False
            state.db = alias
        else:
            mark_saved(obj, alias)


def _filled(field: Any, values: dict[str, Any]) -> bool:
    value = values.get(field.attname, DATABASE_DEFAULT)
    return value is DATABASE_DEFAULT or (value is None and field.is_auto)


async def _insert_without_returning(
    obj: Any, db: Any, fields: tuple[Any, ...], filled: tuple[Any, ...], values: list[Any]
) -> None:
    """INSERT ``obj`` where nothing comes back by RETURNING (no field filled, or no support)."""
    meta = type(obj)._meta
    entry = dml.compile_insert(type(obj), db, fields)
    result = await db.execute_native(entry.sql, entry.params(values))
    tables_written(db, (meta.db_table,))
    if not filled:
        return
    auto = [f for f in filled if f.is_auto]
    if auto and result.lastrowid is not None:
        obj.__dict__[auto[0].attname] = result.lastrowid
    rest = [f for f in filled if not f.is_auto]
    if rest:
        await refresh_instance(obj, db.alias, [f.name for f in rest])


async def delete_instance(obj: Any, using: str | None = None) -> tuple[int, dict[str, int]]:
    """DELETE ``obj``'s row; return ``(count, {"app.Model": count})`` and clear its pk.

    With rows pointing at the model (``on_delete`` rules), the deletion
    collector does it (``models/deletion.py``); otherwise one DELETE.
    """
    model = type(obj)
    meta = model._meta
    if not obj._is_pk_set():
        raise ValueError(
            f"{model.__name__} object can't be deleted because its primary key is not set."
        )
    # Lazy: the collector builds on the QuerySet, which builds on this module.
    from reinhardt_db.models.deletion import acting_relations, delete_instances

    alias = db_for(model, using, write=True, instance=obj)
    db = connections[alias]
    if acting_relations(model):
        # Rows point here with rules to carry out: the collector, in one transaction.
        return await delete_instances([obj], alias)
    if pre_delete.has_listeners(model):
        await pre_delete.send(model, instance=obj, using=alias, origin=obj)
    entry = dml.compile_delete_pk(model, db)
    pk_values = [obj.__dict__[name] for name in meta.pk_attnames]
    result = await db.execute_native(entry.sql, entry.params(pk_values))
    tables_written(db, (meta.db_table,))
    if post_delete.has_listeners(model):
        await post_delete.send(model, instance=obj, using=alias, origin=obj)
    if len(meta.pk_attnames) == 1 and meta.pk_fields[0].is_auto:
        obj.__dict__[meta.pk_attnames[0]] = None
    count = result.rowcount
    return count, ({meta.label: count} if count else {})


async def refresh_instance(
    obj: Any, using: str | None = None, fields: Iterable[str] | None = None
) -> None:
    """Reload ``obj``'s fields (all loaded ones, or ``fields``) from its row."""
    from reinhardt_db.models.query import QuerySet

    model = type(obj)
    meta = model._meta
    if not obj._is_pk_set():
        raise ValueError(f"{model.__name__} object can't be refreshed: its primary key is not set.")
    if fields is not None:
        names = [fields] if isinstance(fields, str) else list(fields)
        for name in names:
            if name not in meta.fields_map:
                choices = [f.name for f in meta.concrete_fields]
                raise exc.FieldDoesNotExist(
                    f"{meta.object_name} has no field named {name!r}.{did_you_mean(name, choices)}"
                )
    else:
        names = [f.name for f in meta.concrete_fields if f.attname in obj.__dict__]
    # using=, else the routers' db_for_read (hint: obj), else obj's own database.
    queryset: QuerySet[Any] = QuerySet(model, using=using, hints={"instance": obj})
    pk_lookup = {f.name: obj.__dict__[f.attname] for f in meta.pk_fields}
    fresh = await (queryset.only(*names) if names else queryset).get(**pk_lookup)
    alias = fresh._state.db
    for name in names:
        attname = meta.fields_map[name].attname
        obj.__dict__[attname] = fresh.__dict__[attname]
    if fields is None:
        # Prefetched sets may be stale now (Django drops them too); loaded related
        # instances are checked against the reloaded keys when read.
        obj.__dict__.pop("_prefetched_objects_cache", None)
    mark_saved(obj, alias)
