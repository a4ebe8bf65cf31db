"""The writing half of ``QuerySet``: create, bulk operations, update and delete."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING, Any

from reinhardt_db import exceptions as exc
from reinhardt_db.models._scatter import sharded, shards_of
from reinhardt_db.models.expressions import Expression, Param, Value
from reinhardt_db.models.lookups import pk_value
from reinhardt_db.models.persistence import auto_now_fields, insert_groups, mark_all_saved
from reinhardt_db.models.result_cache import tables_written
from reinhardt_db.models.sql import compiler, dml
from reinhardt_db.models.sql.context import did_you_mean
from reinhardt_db.routers import db_for

if TYPE_CHECKING:
    from reinhardt_db.backends import Database
    from reinhardt_db.models.sql.query import Query

__all__ = ["WriteMixin"]

class WriteMixin:
    """Writes of ``QuerySet``; ``self`` is a QuerySet."""

    model: Any
    query: Query
    _result_cache: Any
    _for_write: bool
    _db: str | None

    if TYPE_CHECKING:
        @property
        def db(self) -> str: ...
        def _database(self) -> Database: ...
        def _chain(self) -> Any: ...
        def using(self, alias: str) -> Any: ...
        def filter(self, *args: Any, **kwargs: Any) -> Any: ...
        def select_for_update(
            self, nowait: bool = False, skip_locked: bool = False, of: tuple[str, ...] = ()
        ) -> Any: ...
        async def get(self, *args: Any, **kwargs: Any) -> Any: ...
        def _execute(self) -> Awaitable[list[Any]]: ...

    # -- single objects ----------------------------------------------------------------------
    async def create(self, **kwargs: Any) -> Any:
        """Build an instance from ``kwargs``, INSERT it and return it."""
        self._for_write = True
        obj = self.model(**kwargs)
        using = self._db
        if using is None and sharded(self.model):
            using = db_for(self.model, write=True, instance=obj)  # the shard of obj's key
        await obj.save(force_insert=True, using=using or self.db)
        return obj

    async def get_or_create(
        self, defaults: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[Any, bool]:
        """Return ``(object, False)`` if one matches ``kwargs``, else create it: ``(obj, True)``.

        Safe against a concurrent insert of the same unique key: the INSERT runs
        in a transaction (or savepoint) and an ``IntegrityError`` is answered by
        fetching the row the other writer created. The lookup runs on the
        database written to (the router's ``db_for_write``), as Django does.
        """
        self._for_write = True
        try:
            return await self.get(**kwargs), False
        except self.model.DoesNotExist:
            pass
        params = self._create_params(kwargs, defaults)
        db = self.filter(**kwargs)._database() if sharded(self.model) else self._database()
        try:
            async with db.atomic():
                obj = await self.create(**params)
            return obj, True
        except exc.IntegrityError:
            try:
                return await self.get(**kwargs), False
            except self.model.DoesNotExist:
                pass
            raise

    async def update_or_create(
        self,
        defaults: dict[str, Any] | None = None,
        create_defaults: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[Any, bool]:
        """Update the object matching ``kwargs`` with ``defaults``, or create it.

        The row is locked (``SELECT ... FOR UPDATE``) inside a transaction while it
        is updated; a concurrent create of the same key is retried as an update.
        """
        self._for_write = True
        defaults = defaults or {}
        create_defaults = defaults if create_defaults is None else create_defaults
        db = self.filter(**kwargs)._database() if sharded(self.model) else self._database()
        for attempt in (1, 2):
            try:
                async with db.atomic():
                    try:
                        obj = await self.select_for_update().get(**kwargs)
                    except self.model.DoesNotExist:
                        obj = await self.create(**self._create_params(kwargs, create_defaults))
                        return obj, True
                    for name, value in defaults.items():
                        setattr(obj, name, value() if callable(value) else value)
                    meta = self.model._meta
                    names = {meta.get_field(name).name for name in defaults}
                    names |= {f.name for f in meta.concrete_fields if f.auto_now}
                    await obj.save(using=self.db, update_fields=sorted(names) or None)
                    return obj, False
            except exc.IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _shard_groups(self, objs: list[Any]) -> dict[str, list[Any]] | None:
        """Objects by shard when a shard router splits this model, else None."""
        if self._db is not None or not sharded(self.model):
            return None
        groups: dict[str, list[Any]] = {}
        for obj in objs:
            groups.setdefault(db_for(self.model, write=True, instance=obj), []).append(obj)
        return groups

    def _create_params(
        self, kwargs: dict[str, Any], defaults: dict[str, Any] | None
    ) -> dict[str, Any]:
        params = {k: v for k, v in kwargs.items() if "__" not in k}
        for name, value in (defaults or {}).items():
            params[name] = value() if callable(value) else value
        meta = self.model._meta
        for name in params:
            if name != "pk" and name not in meta.fields_map:
                choices = [f.name for f in meta.fields]
                raise exc.FieldError(
                    f"Invalid field name {name!r} in defaults for {meta.object_name}."
                    f"{did_you_mean(name, choices)}"
                )
        return params

    # -- bulk --------------------------------------------------------------------------------
    async def bulk_create(
        self,
        objs: Iterable[Any],
        batch_size: int | None = None,
        ignore_conflicts: bool = False,
        update_conflicts: bool = False,
        update_fields: Iterable[str] | None = None,
        unique_fields: Iterable[str] | None = None,
    ) -> list[Any]:
        """INSERT many objects in few statements; fill their primary keys where possible.

        Keys are filled from ``RETURNING`` on PostgreSQL and SQLite, and on MySQL
        from the first inserted id when the server guarantees consecutive ids
        (``innodb_autoinc_lock_mode`` 0 or 1, ``auto_increment_increment`` 1).
        With ``ignore_conflicts`` keys are not filled.
        """
        objs = list(objs)
        if batch_size is not None and batch_size <= 0:
            raise ValueError("batch_size must be a positive integer")
        if not objs:
            return objs
        self._for_write = True
        shard_groups = self._shard_groups(objs)
        if shard_groups is not None:
            for alias, members in shard_groups.items():
                await self.using(alias).bulk_create(
                    members, batch_size, ignore_conflicts, update_conflicts,
                    update_fields, unique_fields,
                )
            return objs
        db = self._database()
        conflict = self._conflict_spec(
            db, ignore_conflicts, update_conflicts, update_fields, unique_fields
        )
        model = self.model
        meta = model._meta
        # Stamped fields, and foreign keys (a related instance saved after assignment).
        stamped = auto_now_fields(meta) + tuple(
            f for f in meta.concrete_fields if f.is_relation
        )
        for obj in objs:
            if type(obj) is not model and not isinstance(obj, model):
                raise TypeError(f"bulk_create() takes {model.__name__} instances, got {obj!r}")
        for field in stamped:
            for obj in objs:
                field.pre_save(obj, True)
        groups = insert_groups(meta, objs)
        statements = sum(
            _batch_count(len(members), _rows_per_insert(db, fields, batch_size))
            for (fields, _), members in groups.items()
        )
        # Several statements are all-or-nothing, as one would be.
        async with db.atomic() if statements > 1 else contextlib.nullcontext():
            for (fields, filled), members in groups.items():
                await self._insert_group(db, fields, filled, members, batch_size, conflict)
        mark_all_saved(objs, db.alias)
        return objs

    def _conflict_spec(
        self,
        db: Database,
        ignore_conflicts: bool,
        update_conflicts: bool,
        update_fields: Iterable[str] | None,
        unique_fields: Iterable[str] | None,
    ) -> tuple[Any, ...] | None:
        if ignore_conflicts and update_conflicts:
            raise ValueError("ignore_conflicts and update_conflicts are mutually exclusive.")
        if ignore_conflicts:
            return ("ignore",)
        if not update_conflicts:
            if update_fields or unique_fields:
                raise ValueError("update_fields and unique_fields need update_conflicts=True.")
            return None
        meta = self.model._meta
        resolver_fields = [meta.get_field(n) for n in (update_fields or ())]
        if not resolver_fields:
            raise ValueError("update_conflicts=True needs update_fields naming what to update.")
        if any(f.primary_key for f in resolver_fields):
            raise ValueError("bulk_create() cannot update primary keys on conflict.")
        uniques = [meta.pk if n == "pk" else meta.get_field(n) for n in (unique_fields or ())]
        if db.features.supports_update_conflicts_with_target:
            if not uniques:
                raise ValueError(
                    f"update_conflicts=True on {db.vendor} needs unique_fields naming the "
                    "unique constraint that conflicts."
                )
        elif uniques:
            raise exc.NotSupportedError(
                f"{db.vendor} does not support unique_fields in bulk_create(); any unique "
                "key conflict triggers the update. Drop unique_fields."
            )
        return ("update", tuple(resolver_fields), tuple(uniques))

    async def _insert_group(
        self,
        db: Database,
        fields: tuple[Any, ...],
        filled: tuple[Any, ...],
        objs: list[Any],
        batch_size: int | None,
        conflict: tuple[Any, ...] | None,
    ) -> None:
        model = self.model
        features = db.features
        can_return = features.can_return_rows_from_bulk_insert and (
            conflict is None or conflict[0] == "update"
        )
        ids_follow = (
            features.bulk_insert_ids_are_consecutive
            and conflict is None
            and len(filled) == 1
            and filled[0].is_auto
        )
        returning = filled if (filled and can_return and not ids_follow) else ()
        entry: dml.InsertStatement | dml.ArrayInsertStatement | None = None
        size = _rows_per_insert(db, fields, batch_size)
        if features.supports_bulk_insert_from_arrays and fields and len(objs) > 1:
            entry = dml.compile_insert_arrays(model, db, fields, returning, conflict)
            if entry is not None:
                size = batch_size or ARRAY_INSERT_ROWS
        values_entry = dml.compile_insert(model, db, fields, returning, conflict)
        filled_names = [f.attname for f in filled]
        for start in range(0, len(objs), size):
            batch = objs[start:start + size]
            if entry is not None and len(batch) > 1:
                sql, params = entry.sql, entry.params_for_objects(batch)
                reader = entry.reader
            else:
                sql = values_entry.sql_for(len(batch), db.ops)
                params = values_entry.params_for_objects(batch)
                reader = values_entry.reader
            if returning:
                fetched = reader(await db.fetch_rows(sql, params), db.alias)
                tables_written(db, (model._meta.db_table,))
                for obj, values in zip(batch, fetched, strict=True):
                    obj.__dict__.update(zip(filled_names, values, strict=True))
                continue
            result = await db.execute_native(sql, params)
            tables_written(db, (model._meta.db_table,))
            auto = [f for f in filled if f.is_auto]
            if auto and conflict is None and result.lastrowid is not None:
                ids = await db.ops.bulk_insert_ids(result.lastrowid, len(batch), db.fetch_row)
                if ids is not None:
                    attname = auto[0].attname
                    for obj, pk in zip(batch, ids, strict=True):
                        obj.__dict__[attname] = pk

    async def bulk_update(
        self, objs: Iterable[Any], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        """UPDATE ``fields`` of many saved objects in few statements; return rows matched."""
        objs = list(objs)
        meta = self.model._meta
        names = [fields] if isinstance(fields, str) else list(fields)
        if not names:
            raise ValueError("Field names must be given to bulk_update().")
        chosen = tuple(dict.fromkeys(meta.get_field(name) for name in names))
        if any(f.primary_key for f in chosen):
            raise ValueError("bulk_update() cannot be used with primary key fields.")
        if not getattr(meta.pk, "concrete", True):
            raise exc.NotSupportedError("bulk_update() does not support composite primary keys.")
        if any(obj.pk is None for obj in objs):
            raise ValueError("All bulk_update() objects must have a primary key set.")
        if batch_size is not None and batch_size <= 0:
            raise ValueError("batch_size must be a positive integer")
        if not objs:
            return 0
        self._for_write = True
        shard_groups = self._shard_groups(objs)
        if shard_groups is not None:
            return sum([
                await self.using(alias).bulk_update(members, names, batch_size)
                for alias, members in shard_groups.items()
            ])
        db = self._database()
        per_object = 2 * len(chosen) + 1
        limit = max(min(db.features.max_query_params // per_object, 256), 1)
        limit = 1 << (limit.bit_length() - 1)  # a power of two: padded batches fit too
        size = min(batch_size or limit, limit)
        attnames = [f.attname for f in chosen]
        pk_name = meta.pk.attname
        total = 0
        async with db.atomic() if len(objs) > size else contextlib.nullcontext():
            for start in range(0, len(objs), size):
                batch = objs[start:start + size]
                # Pad to a power of two with the last object: the same rows change
                # and batches of similar size share one compiled statement.
                count = 1 << (len(batch) - 1).bit_length()
                padded = batch + [batch[-1]] * (count - len(batch))
                values: list[Any] = []
                for obj in padded:
                    values.append(obj.__dict__[pk_name])
                    values.extend(obj.__dict__[name] for name in attnames)
                entry = dml.compile_bulk_update(self.model, db, chosen, count)
                result = await db.execute_native(entry.sql, entry.params(values))
                tables_written(db, (meta.db_table,))
                total += result.rowcount
        return total

    # -- set-wide writes ---------------------------------------------------------------------
    async def update(self, **kwargs: Any) -> int:
        """UPDATE every matching row: ``await qs.update(age=F("age") + 1)``; return rows matched."""
        if not kwargs:
            raise TypeError("update() needs at least one field=value")
        self.query.check_not_combined("update")
        if self.query.is_sliced:
            raise TypeError("Cannot update a query once a slice has been taken.")
        self._result_cache = None
        self._for_write = True
        if self.query.empty:
            return 0
        shards = shards_of(self)
        if shards is not None:
            return sum([await self.using(alias).update(**kwargs) for alias in shards])
        query = self.query.clone()
        resolver = query.resolver()
        joined = len(query.joins)
        assignments = []
        for name, value in kwargs.items():
            field = resolver.get_field(name)
            if not field.concrete:
                raise exc.FieldError(f"cannot update {name!r}: it has no column")
            if type(value) is Value and value.value is not None:
                # A constant: written through the field, checked like any other
                # value (Value(None, JSONField()) stays the JSON null it means).
                value = value.value
            if isinstance(value, Expression):
                value.resolve(resolver)
                if value.has_aggregate:
                    raise exc.FieldError(
                        f"aggregates are not allowed in update(): {name}={value!r}"
                    )
                shape = value.parameterize(query.values, resolver)
            else:
                query.values.append(pk_value(value))
                shape = Param(len(query.values) - 1, field, for_save=True)
            assignments.append((field.name, shape))
        if len(query.joins) != joined:
            raise exc.FieldError(
                "update() cannot read values across relations (F('author__name')); "
                "update the rows one by one, or compute the values first"
            )
        db = self._database()
        entry = compiler.compile_update(query, db, tuple(assignments))
        result = await db.execute_native(entry.sql, entry.params(query.params()))
        tables_written(db, (self.model._meta.db_table,))
        return result.rowcount

    async def delete(self) -> tuple[int, dict[str, int]]:
        """DELETE every matching row and carry out the ``on_delete`` rules.

        Return ``(total, {"app.Model": count, ...})``, cascaded rows included.
        One DELETE statement when nothing points at the model and nobody
        listens to its delete signals; otherwise the deletion collector
        (``models/deletion.py``) runs, in one transaction.
        """
        self.query.check_not_combined("delete")
        if self.query.is_sliced:
            raise TypeError("Cannot use 'limit' or 'offset' with delete().")
        if self.query.values_fields is not None or self.query.distinct:
            raise TypeError("Cannot call delete() after .values(), .values_list() or .distinct().")
        self._result_cache = None
        self._for_write = True
        if self.query.empty:
            return 0, {}
        shards = shards_of(self)
        if shards is not None:
            total = 0
            counts: dict[str, int] = {}
            for alias in shards:
                deleted, per_model = await self.using(alias).delete()
                total += deleted
                for label, count in per_model.items():
                    counts[label] = counts.get(label, 0) + count
            return total, counts
        from reinhardt_db.models.deletion import delete_queryset

        return await delete_queryset(self)

    # Managers do not forward delete(): Model.objects.delete() would empty the table.
    delete.queryset_only = True  # type: ignore[attr-defined]

    async def _raw_delete(self) -> int:
        """Run one DELETE for the matching rows (no signals, no rules); return the count."""
        if self.query.empty:
            return 0
        self._for_write = True
        shards = shards_of(self)
        if shards is not None:
            return sum([await self.using(alias)._raw_delete() for alias in shards])
        db = self._database()
        entry = compiler.compile_delete(self.query, db)
        result = await db.execute_native(entry.sql, entry.params(self.query.params()))
        tables_written(db, (self.model._meta.db_table,))
        return result.rowcount


#: Rows per ``INSERT ... SELECT`` from arrays when no ``batch_size`` is given: the
#: parameter count does not grow with the rows, only the message does.
ARRAY_INSERT_ROWS = 50_000


def _rows_per_insert(db: Database, fields: tuple[Any, ...], batch_size: int | None) -> int:
    """Rows per INSERT: ``batch_size``, capped so the parameters fit the backend."""
    if not fields:
        return 1  # INSERT ... DEFAULT VALUES takes one row
    limit = max(db.features.max_query_params // len(fields), 1)
    return min(batch_size or limit, limit)


def _batch_count(items: int, size: int) -> int:
    return -(-items // size)
