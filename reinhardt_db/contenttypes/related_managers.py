"""``post.comments``: the manager of the rows whose generic foreign key points at ``post``.

Made per attribute access, as a subclass of the related model's default
manager class (its methods and filters apply), answering ``all()`` /
``count()`` from the prefetch cache after ``prefetch_related("comments")``.
The rows are narrowed by the object id and by the content type, which a
subquery reads (no I/O before the query runs); writes look the content type
up (cached) and forget the instance's prefetch cache.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reinhardt_db.backends import connections
from reinhardt_db.contenttypes.models import ContentType, natural_key_of
from reinhardt_db.models.related_managers import _RelatedSet

if TYPE_CHECKING:
    from reinhardt_db.contenttypes.fields import GenericRelation

__all__ = ["GenericRelatedManager", "GenericRelationDescriptor"]


class GenericRelationDescriptor:
    """``post.comments``: a manager of the rows whose generic foreign key points here."""

    def __init__(self, relation: GenericRelation) -> None:
        self.relation = relation

    def __get__(self, instance: Any, owner: type[Any]) -> Any:
        if instance is None:
            return self
        return GenericRelatedManager(instance, self.relation)

    def __set__(self, instance: Any, value: Any) -> None:
        name = self.relation.name
        raise TypeError(
            f"Direct assignment to {type(instance).__name__}.{name} is not allowed; "
            f"use 'await obj.{name}.set(objs)'."
        )


class GenericRelatedManager(_RelatedSet):
    """``post.comments``: the related model's manager narrowed to the rows pointing here."""

    def __new__(cls, instance: Any, relation: GenericRelation) -> Any:
        return cls._made_for(relation.related_model)

    def __init__(self, instance: Any, relation: GenericRelation) -> None:
        self.relation = relation
        self._init(instance, relation.related_model, relation.cache_name)

    def __repr__(self) -> str:
        return f"<GenericRelatedManager {type(self.instance).__name__}.{self.cache_name}>"

    def _filtered(self, queryset: Any) -> Any:
        self._check_saved()
        relation = self.relation
        app_label, model_name = natural_key_of(type(self.instance))
        # A subquery for the content type: no I/O here, the right id on any database.
        types = ContentType.objects.filter(app_label=app_label, model=model_name).values("pk")
        return queryset.filter(**{
            f"{relation.content_type_field.name}__in": types,
            relation.object_id_field.attname: relation.key_of(self.instance),
        })

    def _manager(self) -> Any:
        return self.model._meta.base_manager.db_manager(self._alias())

    async def _values(self) -> dict[str, Any]:
        relation = self.relation
        type_ = await ContentType.objects.db_manager(self._alias()).get_for_model(
            type(self.instance)
        )
        return {
            relation.content_type_field.attname: type_.pk,
            relation.object_id_field.attname: relation.key_of(self.instance),
        }

    def _link(self, obj: Any, values: dict[str, Any]) -> None:
        obj.__dict__.update(values)
        gfk = self.relation.generic_foreign_key
        if gfk is not None:
            gfk.link(obj, self.instance, None)

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

    async def create(self, **kwargs: Any) -> Any:
        """Create a row pointing at the instance."""
        self._check_saved()
        self._forget()
        values = await self._values()
        kwargs.update(values)
        obj = await self._manager().create(**kwargs)
        self._link(obj, values)
        return obj

    async def add(self, *objs: Any, bulk: bool = True) -> None:
        """Point ``objs`` at the instance (one UPDATE; ``bulk=False`` saves each)."""
        self._check_saved()
        found = self._objs(objs, "add")
        self._forget()
        values = await self._values()
        if bulk:
            for obj in found:
                if not obj._is_pk_set():
                    raise ValueError(
                        f"{obj!r} is not saved: save it first, or add it with bulk=False"
                    )
            if found:
                await self._manager().filter(pk__in=[o.pk for o in found]).update(**values)
        for obj in found:
            self._link(obj, values)
            if not bulk:
                await obj.save(using=self._alias())

    async def remove(self, *objs: Any) -> None:
        """Delete ``objs`` (a generic foreign key has no "points nowhere": as in Django)."""
        self._check_saved()
        found = self._objs(objs, "remove")
        self._forget()
        if found:
            await self._filtered(self._manager().filter(pk__in=[o.pk for o in found])).delete()

    async def clear(self) -> None:
        """Delete every row pointing at the instance."""
        self._check_saved()
        self._forget()
        await self._filtered(self._manager().all()).delete()

    async def set(self, objs: Iterable[Any]) -> None:
        """Make ``objs`` the rows pointing here: the others are deleted, the new added."""
        found = self._objs(objs, "set")
        async with connections[self._alias()].atomic():
            wanted = {o.pk for o in found}
            current = await self._filtered(self._manager().all())
            await self.remove(*[o for o in current if o.pk not in wanted])
            have = {o.pk for o in current}
            await self.add(*[o for o in found if o.pk not in have])
