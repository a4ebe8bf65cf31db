"""``AssociationProxy``: read a related object's attribute as if it were the model's own.

::

    class Post(models.Model):
        author = models.ForeignKey(User, on_delete=models.CASCADE)
        tags = models.ManyToManyField(Tag)
        author_name = models.AssociationProxy("author", "name")
        tag_names = models.AssociationProxy("tags", "name")

    post = await Post.objects.select_related("author").prefetch_related("tags").get(pk=1)
    post.author_name                     # post.author.name
    post.tag_names                       # [tag.name for tag in the prefetched tags]
    await Post.objects.filter(author_name="ann", tag_names__in=["a", "b"])

Reading never runs a query: the relation must be loaded (``RelationNotLoaded``
otherwise, as for the relation itself). In lookups, ordering and
``values()`` the proxy's name stands for ``<relation>__<attribute>``.
"""

from __future__ import annotations

from typing import Any

from reinhardt_db.exceptions import FieldError
from reinhardt_db.models.fields.related_descriptors import PREFETCH_CACHE, not_loaded
from reinhardt_db.models.sql.context import LOOKUP_SEP

__all__ = ["AssociationProxy"]


class AssociationProxy:
    """The attribute ``attribute`` of the object(s) a relation of this model reaches."""

    def __init__(self, relation: str, attribute: str) -> None:
        if not relation.isidentifier() or LOOKUP_SEP in relation:
            raise FieldError(f"AssociationProxy takes a relation name, got {relation!r}")
        self.relation = relation
        self.attribute = attribute
        self.name = ""
        self.model: Any = None

    def __repr__(self) -> str:
        return f"AssociationProxy({self.relation!r}, {self.attribute!r})"

    def contribute_to_class(self, cls: type[Any], name: str) -> None:
        """Register on ``cls`` as ``name`` (usable in lookups)."""
        self.name = name
        self.model = cls
        cls._meta.association_proxies[name] = self
        setattr(cls, name, self)

    def _target(self) -> Any:
        from reinhardt_db.models.prefetch import relation_for

        relation = relation_for(self.model, self.relation)
        if relation is None:
            raise FieldError(
                f"{self.model.__name__}.{self.name}: {self.model.__name__} has no relation "
                f"named {self.relation!r} (AssociationProxy needs a relation's name)."
            )
        return relation

    @property
    def path(self) -> str:
        """The lookup path the proxy stands for: ``author__name``."""
        return f"{self._target().name}{LOOKUP_SEP}{self.attribute}"

    @property
    def many(self) -> bool:
        """True when the relation reaches a set (the proxy reads a list)."""
        relation = self._target()
        return bool(relation.many_to_many or (not relation.concrete and not relation.one_to_one))

    def __get__(self, instance: Any, owner: type[Any]) -> Any:
        if instance is None:
            return self
        if not self.many:
            related = getattr(instance, self.relation)
            return None if related is None else getattr(related, self.attribute)
        relation = self._target()
        cached = instance.__dict__.get(PREFETCH_CACHE, {}).get(relation.cache_name)
        if cached is None:
            raise not_loaded(instance, self.relation)
        return [getattr(obj, self.attribute) for obj in cached]

    def __set__(self, instance: Any, value: Any) -> None:
        raise AttributeError(
            f"{type(instance).__name__}.{self.name} is read-only; set "
            f"{self.relation}.{self.attribute} on the related object instead."
        )
