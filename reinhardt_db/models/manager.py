"""``Manager``: a model's entry point to QuerySets (``User.objects``).

A manager hands out fresh QuerySets (``get_queryset()``) and forwards the
QuerySet API to them, so ``User.objects.filter(...)`` is
``User.objects.get_queryset().filter(...)``. Customize it by overriding
``get_queryset()`` or with ``Manager.from_queryset(MyQuerySet)``, which also
copies ``MyQuerySet``'s public methods onto the manager.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from reinhardt_db.models.pagination import Page
from reinhardt_db.models.query import QuerySet

__all__ = ["BaseManager", "Manager", "ManagerDescriptor"]

M = TypeVar("M")


class ManagerDescriptor:
    """Give class access to the manager; refuse access through instances."""

    def __init__(self, manager: BaseManager[Any]) -> None:
        self.manager = manager

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is not None:
            raise AttributeError(
                f"Manager isn't accessible via {owner.__name__} instances; "
                f"use {owner.__name__}.{self.manager.name}"
            )
        return self.manager


class BaseManager(Generic[M]):
    """Hand out QuerySets of ``_queryset_class`` for one model."""

    _queryset_class: ClassVar[type[QuerySet[Any]]] = QuerySet
    auto_created = False

    def __init__(self) -> None:
        self.model: Any = None
        self.name: str | None = None
        self._db: str | None = None
        self._hints: dict[str, Any] = {}

    def __repr__(self) -> str:
        model = self.model.__name__ if self.model is not None else "?"
        return f"<{type(self).__name__} {model}.{self.name}>"

    def contribute_to_class(self, cls: type, name: str) -> None:
        """Attach this manager to model ``cls`` as ``name``."""
        self.name = self.name or name
        self.model = cls
        setattr(cls, name, ManagerDescriptor(self))

    def __copy__(self) -> BaseManager[M]:
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._hints = dict(self._hints)
        new.model = None
        return new

    @classmethod
    def from_queryset(
        cls, queryset_class: type[QuerySet[Any]], class_name: str | None = None
    ) -> Any:
        """Return a manager class using ``queryset_class`` and exposing its methods.

        The class is built at runtime, so type checkers see it as ``Any``.
        """
        attrs: dict[str, Any] = {"_queryset_class": queryset_class}
        for name, method in inspect.getmembers(queryset_class, inspect.isfunction):
            private = name.startswith("_") or getattr(method, "queryset_only", False)
            if private or hasattr(cls, name):
                continue
            attrs[name] = _proxy(name, method)
        return type(class_name or f"{cls.__name__}From{queryset_class.__name__}", (cls,), attrs)

    def db_manager(self, using: str | None = None, hints: dict[str, Any] | None = None) -> Any:
        """Return a copy of this manager bound to the database ``using``."""
        manager = copy.copy(self)
        manager.model = self.model
        manager._db = using or self._db
        manager._hints = hints or self._hints
        return manager

    # A manager is not a collection: name the QuerySet call instead of Python's bare
    # "not iterable". Hidden from type checkers, which then flag these forms too.
    if not TYPE_CHECKING:

        def __iter__(self) -> Iterator[M]:
            raise TypeError(
                f"{self._label()} is not iterable: use 'async for obj in "
                f"{self._label()}.all()', or 'for obj in await {self._label()}.all()'"
            )

        def __len__(self) -> int:
            raise TypeError(
                f"{self._label()} has no len(): use 'await {self._label()}.count()'"
            )

        def __bool__(self) -> bool:  # __len__ must not decide truth: a manager is truthy
            return True

    def _label(self) -> str:
        model = self.model.__name__ if self.model is not None else "Model"
        return f"{model}.{self.name or 'objects'}"

    @property
    def db(self) -> str:
        """The database this manager's QuerySets read from (``db_manager()``, or the routers)."""
        return self.get_queryset().db

    def get_queryset(self) -> QuerySet[M]:
        """Return a new QuerySet; override to change what the manager sees."""
        return self._queryset_class(model=self.model, using=self._db, hints=self._hints)

    def _for_one_call(self) -> QuerySet[M]:
        """``get_queryset()`` for one chaining call whose result is all the caller sees.

        A QuerySet made here by the manager's own ``get_queryset`` is held by
        nobody else, so that call changes it in place instead of copying it
        (a ``get()`` spends a tenth of its Python copying). An overridden
        ``get_queryset`` may hand out a QuerySet it keeps: that one is copied.
        """
        qs = self.get_queryset()
        if type(self).get_queryset is BaseManager.get_queryset:
            qs._owned = True
        return qs

    # -- the QuerySet API ------------------------------------------------------------------
    def all(self) -> QuerySet[M]:
        """Return a QuerySet of every row this manager sees."""
        return self.get_queryset()

    def filter(self, *args: Any, **kwargs: Any) -> QuerySet[M]:
        """See ``QuerySet.filter``."""
        return self._for_one_call().filter(*args, **kwargs)

    def exclude(self, *args: Any, **kwargs: Any) -> QuerySet[M]:
        """See ``QuerySet.exclude``."""
        return self._for_one_call().exclude(*args, **kwargs)

    def order_by(self, *fields: Any) -> QuerySet[M]:
        """See ``QuerySet.order_by``."""
        return self.get_queryset().order_by(*fields)

    def reverse(self) -> QuerySet[M]:
        """See ``QuerySet.reverse``."""
        return self.get_queryset().reverse()

    def distinct(self, *fields: str) -> QuerySet[M]:
        """See ``QuerySet.distinct``."""
        return self.get_queryset().distinct(*fields)

    def values(self, *fields: str, **expressions: Any) -> QuerySet[dict[str, Any]]:
        """See ``QuerySet.values``."""
        return self.get_queryset().values(*fields, **expressions)

    def values_list(self, *fields: str, flat: bool = False, named: bool = False) -> QuerySet[Any]:
        """See ``QuerySet.values_list``."""
        return self.get_queryset().values_list(*fields, flat=flat, named=named)

    def annotate(self, *args: Any, **kwargs: Any) -> QuerySet[M]:
        """See ``QuerySet.annotate``."""
        return self.get_queryset().annotate(*args, **kwargs)

    def alias(self, **kwargs: Any) -> QuerySet[M]:
        """See ``QuerySet.alias``."""
        return self.get_queryset().alias(**kwargs)

    def only(self, *fields: str) -> QuerySet[M]:
        """See ``QuerySet.only``."""
        return self.get_queryset().only(*fields)

    def defer(self, *fields: str | None) -> QuerySet[M]:
        """See ``QuerySet.defer``."""
        return self.get_queryset().defer(*fields)

    def select_related(self, *fields: str | None) -> QuerySet[M]:
        """See ``QuerySet.select_related``."""
        return self.get_queryset().select_related(*fields)

    def prefetch_related(self, *lookups: Any) -> QuerySet[M]:
        """See ``QuerySet.prefetch_related``."""
        return self.get_queryset().prefetch_related(*lookups)

    def cache(self, ttl: float | None = None) -> QuerySet[M]:
        """See ``QuerySet.cache``."""
        return self.get_queryset().cache(ttl)

    def using(self, alias: str) -> QuerySet[M]:
        """See ``QuerySet.using``."""
        return self.get_queryset().using(alias)

    def select_for_update(
        self, nowait: bool = False, skip_locked: bool = False, of: tuple[str, ...] = ()
    ) -> QuerySet[M]:
        """See ``QuerySet.select_for_update``."""
        return self.get_queryset().select_for_update(nowait=nowait, skip_locked=skip_locked, of=of)

    def none(self) -> QuerySet[M]:
        """See ``QuerySet.none``."""
        return self.get_queryset().none()

    def union(self, *other_qs: QuerySet[Any], all: bool = False) -> QuerySet[M]:
        """See ``QuerySet.union``."""
        return self.get_queryset().union(*other_qs, all=all)

    def intersection(self, *other_qs: QuerySet[Any], all: bool = False) -> QuerySet[M]:
        """See ``QuerySet.intersection``."""
        return self.get_queryset().intersection(*other_qs, all=all)

    def difference(self, *other_qs: QuerySet[Any], all: bool = False) -> QuerySet[M]:
        """See ``QuerySet.difference``."""
        return self.get_queryset().difference(*other_qs, all=all)

    def iterator(self, chunk_size: int = 2000) -> AsyncIterator[M]:
        """See ``QuerySet.iterator``."""
        return self.get_queryset().iterator(chunk_size)

    # The awaitable methods below are plain functions returning the QuerySet's
    # coroutine: awaiting them is the same, with one coroutine frame less per
    # statement (``await Model.objects.create(...)`` runs in a hot loop).
    def get(self, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, M]:
        """See ``QuerySet.get``."""
        return self._for_one_call().get(*args, **kwargs)

    def first(self) -> Coroutine[Any, Any, M | None]:
        """See ``QuerySet.first``."""
        return self.get_queryset().first()

    def last(self) -> Coroutine[Any, Any, M | None]:
        """See ``QuerySet.last``."""
        return self.get_queryset().last()

    def earliest(self, *fields: str) -> Coroutine[Any, Any, M]:
        """See ``QuerySet.earliest``."""
        return self.get_queryset().earliest(*fields)

    def latest(self, *fields: str) -> Coroutine[Any, Any, M]:
        """See ``QuerySet.latest``."""
        return self.get_queryset().latest(*fields)

    def count(self) -> Coroutine[Any, Any, int]:
        """See ``QuerySet.count``."""
        return self.get_queryset().count()

    def exists(self) -> Coroutine[Any, Any, bool]:
        """See ``QuerySet.exists``."""
        return self.get_queryset().exists()

    def contains(self, obj: Any) -> Coroutine[Any, Any, bool]:
        """See ``QuerySet.contains``."""
        return self.get_queryset().contains(obj)

    def aggregate(self, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, dict[str, Any]]:
        """See ``QuerySet.aggregate``."""
        return self.get_queryset().aggregate(*args, **kwargs)

    def in_bulk(
        self, id_list: Iterable[Any] | None = None, *, field_name: str = "pk"
    ) -> Coroutine[Any, Any, dict[Any, M]]:
        """See ``QuerySet.in_bulk``."""
        return self.get_queryset().in_bulk(id_list, field_name=field_name)

    def create(self, **kwargs: Any) -> Coroutine[Any, Any, M]:
        """See ``QuerySet.create``."""
        return self.get_queryset().create(**kwargs)

    def get_or_create(
        self, defaults: dict[str, Any] | None = None, **kwargs: Any
    ) -> Coroutine[Any, Any, tuple[M, bool]]:
        """See ``QuerySet.get_or_create``."""
        return self.get_queryset().get_or_create(defaults, **kwargs)

    def update_or_create(
        self,
        defaults: dict[str, Any] | None = None,
        create_defaults: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Coroutine[Any, Any, tuple[M, bool]]:
        """See ``QuerySet.update_or_create``."""
        return self.get_queryset().update_or_create(defaults, create_defaults, **kwargs)

    def bulk_create(self, objs: Iterable[M], **options: Any) -> Coroutine[Any, Any, list[M]]:
        """See ``QuerySet.bulk_create``."""
        return self.get_queryset().bulk_create(objs, **options)

    def bulk_update(
        self, objs: Iterable[M], fields: Iterable[str], batch_size: int | None = None
    ) -> Coroutine[Any, Any, int]:
        """See ``QuerySet.bulk_update``."""
        return self.get_queryset().bulk_update(objs, fields, batch_size)

    def update(self, **kwargs: Any) -> Coroutine[Any, Any, int]:
        """See ``QuerySet.update`` (every row this manager sees)."""
        return self.get_queryset().update(**kwargs)

    def paginate(
        self, *, after: str | None = None, before: str | None = None, limit: int
    ) -> Coroutine[Any, Any, Page[M]]:
        """See ``QuerySet.paginate``."""
        return self.get_queryset().paginate(after=after, before=before, limit=limit)

    def explain(
        self, analyze: bool = False, format: str | None = None
    ) -> Coroutine[Any, Any, str]:
        """See ``QuerySet.explain``."""
        return self.get_queryset().explain(analyze=analyze, format=format)


def _proxy(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    def manager_method(self: BaseManager[Any], *args: Any, **kwargs: Any) -> Any:
        return getattr(self.get_queryset(), name)(*args, **kwargs)

    manager_method.__name__ = name
    manager_method.__qualname__ = name
    manager_method.__doc__ = method.__doc__
    return manager_method


class Manager(BaseManager[M]):
    """The default manager: ``objects`` on every model that declares none."""
