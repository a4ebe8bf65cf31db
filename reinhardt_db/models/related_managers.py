"""Managers of related sets: ``user.posts`` (reverse foreign key) and ``post.tags`` (many-to-many).

::

    posts = await user.posts.all()                  # from the prefetch cache when prefetched
    n = await user.posts.filter(published=True).count()
    post = await user.posts.create(title="hi")     # author=user is set
    await post.tags.add(tag1, tag2, through_defaults={"weight": 2})
    await post.tags.set([tag2, tag3]); await post.tags.remove(tag3); await post.tags.clear()

Each is made per attribute access, as a subclass of the related model's
default manager class (so its custom methods and filters apply, e.g. a
``SoftDeleteModel`` hides deleted rows). Writes clear the instance's prefetch
cache for that relation; many-to-many writes send ``m2m_changed``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reinhardt_db import exceptions as exc
from reinhardt_db.backends import connections
from reinhardt_db.models.fields.related_descriptors import PREFETCH_CACHE, describe_databases
from reinhardt_db.models.signals import m2m_changed
from reinhardt_db.routers import db_for, relation_allowed

__all__ = ["ManyToManyManager", "ReverseManyManager"]

_classes: dict[tuple[type, type], type] = {}


def _subclass(mixin: type, base: type) -> type:
    """``mixin`` over the related model's manager class, made once per pair."""
    key = (mixin, base)
    found = _classes.get(key)
    if found is None:
        found = _classes[key] = type(f"{mixin.__name__}Of{base.__name__}", (mixin, base), {})
    return found


def _is_instance(value: Any) -> bool:
    return hasattr(type(value), "_meta") and not isinstance(value, type)


class _RelatedSet:
    """What both related managers share: the owning instance and its prefetch cache."""

    instance: Any
    cache_name: str
    model: Any
    _db: str | None

    @classmethod
    def _made_for(cls, model: Any) -> Any:
        """A new manager of ``cls`` mixed with the class of ``model``'s default manager."""
        base = type(model._meta.default_manager or model._meta.base_manager)
        return object.__new__(_subclass(cls, base))

    def _init(self, instance: Any, model: Any, cache_name: str) -> None:
        base = model._meta.default_manager or model._meta.base_manager
        self.__dict__.update(base.__dict__)
        self.model = model
        self.instance = instance
        self.cache_name = cache_name
        # Only an explicit db_manager() alias pins the database; otherwise the
        # routers decide with the instance as hint, falling back to the database
        # the instance was read from (reads and writes alike).
        self._db = base._db
        self._hints = {"instance": instance}

    def _prefetched(self) -> list[Any] | None:
        # One attribute read: reading instance.__dict__ would build a dict for it.
        cache = getattr(self.instance, PREFETCH_CACHE, None)
        return None if cache is None else cache.get(self.cache_name)

    def _forget(self) -> None:
        cache = getattr(self.instance, PREFETCH_CACHE, None)
        if cache is not None:
            cache.pop(self.cache_name, None)

    def _alias(self) -> str:
        """The database the set's writes go to: db_manager(), else the routers' db_for_write."""
        return db_for(self.model, self._db, write=True, instance=self.instance)

    def _check_relation(self, obj: Any, action: str) -> None:
        """Refuse to relate ``obj`` to the instance when the routers do not allow it."""
        if not relation_allowed(obj, self.instance):
            raise ValueError(
                f"Cannot {action} {obj!r} to {self.instance!r}.{self.cache_name}: "
                f"{describe_databases(obj, self.instance)}, and the database routers do not "
                "allow a relation between them; save both in the same database first"
            )

    def _check_saved(self) -> None:
        if not self.instance._is_pk_set():
            raise ValueError(
                f"{type(self.instance).__name__} instance needs a primary key value before "
                f"its {self.cache_name!r} relation can be used; save it first."
            )

    def _filtered(self, queryset: Any) -> Any:
        raise NotImplementedError

    def get_queryset(self) -> Any:
        """Return the related rows (answered from the prefetch cache when there is one)."""
        queryset = super().get_queryset()  # type: ignore[misc]
        if self._db is not None:
            queryset = queryset.using(self._db)
        queryset = self._filtered(queryset)
        cached = self._prefetched()
        if cached is not None:
            queryset._result_cache = list(cached)
        return queryset


class ReverseManyManager(_RelatedSet):
    """``user.posts``: the rows whose foreign key points at ``instance``."""

    def __new__(cls, instance: Any, rel: Any) -> Any:
        return cls._made_for(rel.related_model)

    def __init__(self, instance: Any, rel: Any) -> None:
        self.rel = rel
        self.field = rel.field
        self._init(instance, rel.related_model, rel.cache_name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {type(self.instance).__name__}.{self.cache_name}>"

    def _key(self) -> Any:
        return self.instance.__dict__.get(self.field.target_field.attname)

    def _filtered(self, queryset: Any) -> Any:
        self._check_saved()
        key = self._key()
        if key is not None:
            # The key column itself, as filter(author=instance) becomes: a plain value,
            # so the filter's shape is remembered (filter_plans) instead of rebuilt on
            # every access (an instance takes the full road each time).
            return queryset.filter(**{self.field.attname: key})
        return queryset.filter(**{self.field.name: self.instance})

    async def create(self, **kwargs: Any) -> Any:
        """Create a related row pointing at the instance."""
        self._check_saved()
        self._forget()
        kwargs[self.field.name] = self.instance
        return await self.model._meta.base_manager.db_manager(self._alias()).create(**kwargs)

    async def get_or_create(self, defaults: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Like ``QuerySet.get_or_create`` among the related rows; created rows point here."""
        self._check_saved()
        self._forget()
        kwargs[self.field.name] = self.instance
        return await self.model._meta.base_manager.db_manager(self._alias()).get_or_create(
            defaults, **kwargs
        )

    async def update_or_create(
        self, defaults: dict[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        """Like ``QuerySet.update_or_create`` among the related rows."""
        self._check_saved()
        self._forget()
        kwargs[self.field.name] = self.instance
        return await self.model._meta.base_manager.db_manager(self._alias()).update_or_create(
            defaults, **kwargs
        )

    def _objs(self, objs: Iterable[Any], action: str) -> list[Any]:
        found = list(objs)
        for obj in found:
            if not isinstance(obj, self.model):
                raise TypeError(
                    f"{self.cache_name}.{action}() takes {self.model.__name__} instances, "
                    f"got {obj!r}"
                )
            self._check_relation(obj, action)
        return found

    async def add(self, *objs: Any, bulk: bool = True) -> None:
        """Point ``objs`` at the instance (one UPDATE; ``bulk=False`` saves each)."""
        self._check_saved()
        found = self._objs(objs, "add")
        self._forget()
        field, key = self.field, self._key()
        if not bulk:
            for obj in found:
                setattr(obj, field.name, self.instance)
                await obj.save(using=self._alias())
            return
        for obj in found:
            if not obj._is_pk_set():
                raise ValueError(
                    f"{obj!r} is not saved: save it first, or add it with bulk=False"
                )
        if found:
            manager = self.model._meta.base_manager.db_manager(self._alias())
            await manager.filter(pk__in=[o.pk for o in found]).update(**{field.attname: key})
        for obj in found:
            setattr(obj, field.name, self.instance)

    def _check_nullable(self, action: str) -> None:
        if not self.field.null:
            raise TypeError(
                f"{type(self.instance).__name__}.{self.cache_name}.{action}() needs "
                f"{self.field.label} to be null=True: a {self.model.__name__} cannot exist "
                "without it; delete the rows or point them elsewhere instead."
            )

    async def remove(self, *objs: Any, bulk: bool = True) -> None:
        """Set the foreign key of ``objs`` to NULL (the field must be ``null=True``)."""
        self._check_nullable("remove")
        self._check_saved()
        found = self._objs(objs, "remove")
        self._forget()
        if not found:
            return
        field = self.field
        if bulk:
            manager = self.model._meta.base_manager.db_manager(self._alias())
            await manager.filter(
                pk__in=[o.pk for o in found], **{field.attname: self._key()}
            ).update(**{field.attname: None})
        for obj in found:
            setattr(obj, field.name, None)
            if not bulk:
                await obj.save(update_fields=[field.name], using=self._alias())

    async def clear(self, bulk: bool = True) -> None:
        """Set the foreign key of every related row to NULL (``null=True`` fields only)."""
        self._check_nullable("clear")
        self._check_saved()
        self._forget()
        manager = self.model._meta.base_manager.db_manager(self._alias())
        await manager.filter(**{self.field.attname: self._key()}).update(
            **{self.field.attname: None}
        )

    async def set(self, objs: Iterable[Any], *, bulk: bool = True, clear: bool = False) -> None:
        """Make ``objs`` the related rows (others are removed when the key is nullable)."""
        found = self._objs(objs, "set")
        if not self.field.null:
            await self.add(*found, bulk=bulk)
            return
        async with connections[self._alias()].atomic():
            if clear:
                await self.clear(bulk=bulk)
                await self.add(*found, bulk=bulk)
                return
            manager = self.model._meta.base_manager.db_manager(self._alias())
            current = await manager.filter(**{self.field.attname: self._key()})
            wanted = {o.pk for o in found}
            await self.remove(*[o for o in current if o.pk not in wanted], bulk=bulk)
            have = {o.pk for o in current}
            await self.add(*[o for o in found if o.pk not in have], bulk=bulk)


class ManyToManyManager(_RelatedSet):
    """``post.tags`` (or ``tag.posts``): the rows linked through the junction table."""

    def __new__(cls, instance: Any, rel: Any, reverse: bool) -> Any:
        field = rel.field
        return cls._made_for(field.model if reverse else field.related_model)

    def __init__(self, instance: Any, rel: Any, reverse: bool) -> None:
        field = rel.field
        self.rel = rel
        self.field = field
        self.reverse = reverse
        self.through = field.through
        if reverse:
            model = field.model
            self.source_fk, self.target_fk = field.m2m_target_field, field.m2m_source_field
            self.query_name = field.name
            cache_name = rel.cache_name
        else:
            model = field.related_model
            self.source_fk, self.target_fk = field.m2m_source_field, field.m2m_target_field
            self.query_name = rel.name
            cache_name = field.cache_name
        self.symmetrical = field.symmetrical and field.model is field.related_model
        self._init(instance, model, cache_name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {type(self.instance).__name__}.{self.cache_name}>"

    def _source_key(self) -> Any:
        return self.instance.__dict__.get(self.source_fk.target_field.attname)

    def _filtered(self, queryset: Any) -> Any:
        self._check_saved()
        return queryset.filter(**{self.query_name: self.instance})

    def _junction(self) -> Any:
        return self.through._meta.base_manager.db_manager(self._alias())

    def _target_keys(self, objs: Iterable[Any], action: str) -> list[Any]:
        keys: list[Any] = []
        attname = self.target_fk.target_field.attname
        for obj in objs:
            if _is_instance(obj):
                if not isinstance(obj, self.model):
                    raise TypeError(
                        f"{self.cache_name}.{action}() takes {self.model.__name__} instances or "
                        f"keys, got {obj!r}"
                    )
                key = obj.__dict__.get(attname)
                if key is None:
                    raise ValueError(f"{obj!r} is not saved; save it before {action}()")
                self._check_relation(obj, action)
            else:
                key = self.target_fk.target_field.to_python(obj)
            if key not in keys:
                keys.append(key)
        return keys

    async def _send(self, action: str, pk_set: set[Any] | None) -> None:
        if m2m_changed.has_listeners(self.through):
            await m2m_changed.send(
                self.through, instance=self.instance, action=action, reverse=self.reverse,
                model=self.model, pk_set=pk_set, using=self._alias(),
            )

    async def _existing(self, source: Any, targets: list[Any] | None) -> set[Any]:
        lookup: dict[str, Any] = {self.source_fk.attname: source}
        if targets is not None:
            lookup[f"{self.target_fk.attname}__in"] = targets
        rows = await self._junction().filter(**lookup).values_list(
            self.target_fk.attname, flat=True
        )
        return set(rows)

    async def _add_rows(
        self, source: Any, targets: list[Any], through_defaults: dict[str, Any] | None,
        source_fk: Any, target_fk: Any,
    ) -> list[Any]:
        lookup: dict[str, Any] = {source_fk.attname: source, f"{target_fk.attname}__in": targets}
        existing = set(await self._junction().filter(**lookup).values_list(
            target_fk.attname, flat=True
        ))
        missing = [t for t in targets if t not in existing]
        if missing:
            defaults = {
                k: (v() if callable(v) else v) for k, v in (through_defaults or {}).items()
            }
            rows = [
                self.through(**defaults, **{source_fk.attname: source, target_fk.attname: t})
                for t in missing
            ]
            await self._junction().bulk_create(rows)
        return missing

    async def add(self, *objs: Any, through_defaults: dict[str, Any] | None = None) -> None:
        """Link ``objs`` (instances or keys); rows already linked are left alone."""
        self._check_saved()
        targets = self._target_keys(objs, "add")
        self._forget()
        if not targets:
            return
        source = self._source_key()
        async with connections[self._alias()].atomic():
            missing = [t for t in targets if t not in await self._existing(source, targets)]
            await self._send("pre_add", set(missing))
            await self._add_rows(source, missing, through_defaults, self.source_fk, self.target_fk)
            if self.symmetrical:
                for target in missing:
                    await self._add_rows(
                        target, [source], through_defaults, self.source_fk, self.target_fk
                    )
            await self._send("post_add", set(missing))

    async def remove(self, *objs: Any) -> None:
        """Unlink ``objs`` (instances or keys)."""
        self._check_saved()
        targets = self._target_keys(objs, "remove")
        self._forget()
        if not targets:
            return
        source = self._source_key()
        async with connections[self._alias()].atomic():
            await self._send("pre_remove", set(targets))
            await self._delete_rows(source, targets)
            await self._send("post_remove", set(targets))

    async def _delete_rows(self, source: Any, targets: list[Any] | None) -> None:
        source_name, target_name = self.source_fk.attname, self.target_fk.attname
        lookup: dict[str, Any] = {source_name: source}
        if targets is not None:
            lookup[f"{target_name}__in"] = targets
        await self._junction().filter(**lookup)._raw_delete()
        if self.symmetrical:
            mirror: dict[str, Any] = {target_name: source}
            if targets is not None:
                mirror[f"{source_name}__in"] = targets
            await self._junction().filter(**mirror)._raw_delete()

    async def clear(self) -> None:
        """Unlink every related row."""
        self._check_saved()
        self._forget()
        async with connections[self._alias()].atomic():
            await self._send("pre_clear", None)
            await self._delete_rows(self._source_key(), None)
            await self._send("post_clear", None)

    async def set(
        self,
        objs: Iterable[Any],
        *,
        clear: bool = False,
        through_defaults: dict[str, Any] | None = None,
    ) -> None:
        """Make ``objs`` the linked rows: unlink the others, link the new ones."""
        self._check_saved()
        targets = self._target_keys(objs, "set")
        async with connections[self._alias()].atomic():
            if clear:
                await self.clear()
                await self.add(*targets, through_defaults=through_defaults)
                return
            current = await self._existing(self._source_key(), None)
            old = [t for t in current if t not in targets]
            if old:
                await self.remove(*old)
            new = [t for t in targets if t not in current]
            if new:
                await self.add(*new, through_defaults=through_defaults)
        self._forget()

    async def create(self, through_defaults: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Create a row of the other side and link it."""
        self._check_saved()
        obj = await self.model._meta.base_manager.db_manager(self._alias()).create(**kwargs)
        await self.add(obj, through_defaults=through_defaults)
        return obj

    async def get_or_create(
        self,
        defaults: dict[str, Any] | None = None,
        through_defaults: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[Any, bool]:
        """Get a linked row matching ``kwargs``, or create and link one."""
        self._check_saved()
        try:
            return await self.get_queryset().all().get(**kwargs), False
        except self.model.DoesNotExist:
            pass
        obj, created = await self.model._meta.base_manager.db_manager(
            self._alias()
        ).get_or_create(defaults, **kwargs)
        await self.add(obj, through_defaults=through_defaults)
        return obj, created

    async def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        """Not offered on a many-to-many set: update the row through its own manager."""
        raise exc.NotSupportedError(
            "update_or_create() is not available on a many-to-many set; use get_or_create() "
            "and save, or the model's own manager"
        )
