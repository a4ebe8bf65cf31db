"""Attribute access to relations on instances: no attribute read ever runs a query.

- ``post.author`` (:class:`ForwardDescriptor`): the loaded instance, None for a
  NULL key, else ``RelationNotLoaded`` saying how to load it. Assigning an
  instance sets the key column too.
- ``user.profile`` (:class:`ReverseOneToOneDescriptor`): the loaded instance,
  ``RelatedObjectDoesNotExist`` when it was loaded and there is none.
- ``user.posts`` / ``post.tags`` (:class:`ReverseManyDescriptor`,
  :class:`ManyToManyDescriptor`): a related manager (``models/related_managers.py``),
  answering from the prefetch cache when there is one.

Loaded related instances are kept in the instance's ``__dict__`` under the
relation's ``cache_name``; prefetched sets under
``__dict__["_prefetched_objects_cache"][cache_name]``.

A cached forward instance is served while its key equals the instance's
foreign key value, so changing the key column by hand makes it stale. Text
keys the database joined without their being equal in Python (MariaDB's
default collations join 'FR' to 'fr') are recorded by whoever linked them
(the select_related reader, prefetch), with ``link_name(cache_name)`` set to
the foreign key value they were linked under: see :func:`mark_linked`.
"""

from __future__ import annotations

from typing import Any

from reinhardt_db.exceptions import RelationNotLoaded
from reinhardt_db.routers import relation_allowed

__all__ = [
    "PREFETCH_CACHE",
    "ForwardDescriptor",
    "ManyToManyDescriptor",
    "ReverseManyDescriptor",
    "ReverseOneToOneDescriptor",
    "describe_databases",
    "link_name",
    "mark_linked",
    "not_loaded",
]

PREFETCH_CACHE = "_prefetched_objects_cache"
_MISSING = object()


def link_name(cache_name: str) -> str:
    """The attribute recording the foreign key value a cached instance was linked under."""
    return f"{cache_name}_linked"


def mark_linked(instance: Any, cache_name: str, related: Any, key: Any) -> None:
    """Cache ``related`` on ``instance``, which the database matched under ``key``.

    For keys the database found equal and Python does not (collations): the
    forward descriptor serves ``related`` while the foreign key still holds
    ``key``.
    """
    values = instance.__dict__
    values[cache_name] = related
    values[link_name(cache_name)] = key


def not_loaded(instance: Any, name: str) -> RelationNotLoaded:
    """The ``RelationNotLoaded`` for ``instance.name``, naming the three ways to load it."""
    model = type(instance).__name__
    var = model.lower()
    return RelationNotLoaded(
        f"{model}.{name} is not loaded, and reading it never runs a query. Load it with "
        f"{model}.objects.select_related({name!r}) or .prefetch_related({name!r}) on the "
        f"query, or with await {var}.fetch_related({name!r}) on the instance."
    )


class ForwardDescriptor:
    """``post.author``: the related instance of a foreign key or one-to-one field."""

    def __init__(self, field: Any) -> None:
        self.field = field
        self.cache_name: str = field.cache_name
        self.attname: str = field.attname
        self.linked_name = link_name(field.cache_name)

    def __get__(self, instance: Any, owner: type[Any]) -> Any:
        if instance is None:
            from reinhardt_db.models.expressions import FieldRef

            return FieldRef(owner, self.field.name)
        values = instance.__dict__
        key = values.get(self.attname, _MISSING)
        if key is _MISSING:
            return self.field.__get__(instance, owner)  # deferred: the field says so
        cached = values.get(self.cache_name, _MISSING)
        if cached is not _MISSING:
            if cached is None:
                if key is None:
                    return None
            elif (
                cached.__dict__.get(self.field.target_field.attname) == key
                or values.get(self.linked_name, _MISSING) == key  # linked by the database
            ):
                return cached
        if key is None:
            return None
        raise not_loaded(instance, self.field.name)

    def __set__(self, instance: Any, value: Any) -> None:
        field = self.field
        values = instance.__dict__
        if value is None:
            values.pop(self.linked_name, None)
            values[self.attname] = None
            values[self.cache_name] = None
            return
        model = field.related_model
        if not isinstance(value, model):
            raise ValueError(
                f"Cannot assign {value!r}: {field.label} must be a {model.__name__} instance "
                f"(or set {field.attname} to its key)."
            )
        if not relation_allowed(value, instance):
            raise ValueError(
                f"Cannot assign {value!r} to {field.label}: "
                f"{describe_databases(value, instance)}, and the database routers do not "
                "allow a relation between them; save both in the same database first"
            )
        values.pop(self.linked_name, None)
        values[self.attname] = value.__dict__.get(field.target_field.attname)
        values[self.cache_name] = value
        back = field.back_cache_name
        if back:
            value.__dict__[back] = instance


def describe_databases(obj1: Any, obj2: Any) -> str:
    """Say where two instances are stored, for relation errors."""
    return f"{obj1!r} is in database {_db_of(obj1)!r} and {obj2!r} in {_db_of(obj2)!r}"


def _db_of(obj: Any) -> str | None:
    state = obj.__dict__.get("_state")
    return None if state is None else state.db


class ReverseOneToOneDescriptor:
    """``user.profile``: the instance whose one-to-one field points here."""

    def __init__(self, rel: Any) -> None:
        self.rel = rel

    @property
    def RelatedObjectDoesNotExist(self) -> type[Exception]:
        """Raised when the relation was loaded and no row points here."""
        found = self.__dict__.get("_does_not_exist")
        if found is None:
            related = self.rel.related_model
            found = type("RelatedObjectDoesNotExist", (related.DoesNotExist, AttributeError), {
                "__module__": related.__module__,
                "__qualname__": f"{self.rel.model.__name__}.{self.rel.accessor_name}."
                                "RelatedObjectDoesNotExist",
            })
            self.__dict__["_does_not_exist"] = found
        return found

    def __get__(self, instance: Any, owner: type[Any]) -> Any:
        if instance is None:
            return self
        cached = instance.__dict__.get(self.rel.cache_name, _MISSING)
        if cached is _MISSING:
            raise not_loaded(instance, self.rel.accessor_name)
        if cached is None:
            raise self.RelatedObjectDoesNotExist(
                f"{type(instance).__name__} has no {self.rel.accessor_name}."
            )
        return cached

    def __set__(self, instance: Any, value: Any) -> None:
        rel = self.rel
        if value is not None and not isinstance(value, rel.related_model):
            raise ValueError(
                f"Cannot assign {value!r}: {type(instance).__name__}.{rel.accessor_name} must "
                f"be a {rel.related_model.__name__} instance."
            )
        if value is not None and not relation_allowed(value, instance):
            raise ValueError(
                f"Cannot assign {value!r} to {type(instance).__name__}.{rel.accessor_name}: "
                f"{describe_databases(value, instance)}, and the database routers do not "
                "allow a relation between them; save both in the same database first"
            )
        instance.__dict__[rel.cache_name] = value
        if value is not None:
            field = rel.field
            value.__dict__[field.attname] = instance.__dict__.get(field.target_field.attname)
            value.__dict__[field.cache_name] = instance


class _ManagerDescriptor:
    """Hand out a related manager per instance; refuse direct assignment."""

    reverse: bool = True

    def __init__(self, rel: Any) -> None:
        self.rel = rel

    def _manager(self, instance: Any) -> Any:
        raise NotImplementedError

    def __get__(self, instance: Any, owner: type[Any]) -> Any:
        if instance is None:
            return self
        return self._manager(instance)

    def __set__(self, instance: Any, value: Any) -> None:
        name = self.rel.accessor_name if self.reverse else self.rel.field.name
        raise TypeError(
            f"Direct assignment to {type(instance).__name__}.{name} is not allowed; "
            f"use 'await obj.{name}.set(objs)'."
        )


class ReverseManyDescriptor(_ManagerDescriptor):
    """``user.posts``: the rows whose foreign key points here, as a manager."""

    def _manager(self, instance: Any) -> Any:
        from reinhardt_db.models.related_managers import ReverseManyManager

        return ReverseManyManager(instance, self.rel)


class ManyToManyDescriptor(_ManagerDescriptor):
    """``post.tags`` (forward) or ``tag.posts`` (reverse): a many-to-many manager."""

    def __init__(self, rel: Any, reverse: bool) -> None:
        super().__init__(rel)
        self.reverse = reverse

    def _manager(self, instance: Any) -> Any:
        from reinhardt_db.models.related_managers import ManyToManyManager

        return ManyToManyManager(instance, self.rel, self.reverse)
