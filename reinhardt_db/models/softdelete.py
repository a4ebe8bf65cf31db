"""``SoftDeleteModel``: rows are marked deleted (``deleted_at``) instead of removed.

::

    class Note(models.SoftDeleteModel):
        text = models.TextField()

    await note.delete()                       # UPDATE ... SET deleted_at = now
    await Note.objects.count()                # deleted rows are hidden
    await Note.all_objects.filter(pk=note.pk).restore()
    await Note.all_objects.filter(...).hard_delete()   # DELETE for real
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, TypeVar

from reinhardt_db.models.base import Model
from reinhardt_db.models.deletion import acting_relations, delete_instances, delete_queryset
from reinhardt_db.models.fields.temporal import DateTimeField
from reinhardt_db.models.manager import Manager
from reinhardt_db.models.query import QuerySet
from reinhardt_db.routers import db_for

__all__ = ["SoftDeleteManager", "SoftDeleteModel", "SoftDeleteQuerySet"]

M = TypeVar("M")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SoftDeleteQuerySet(QuerySet[M]):
    """A QuerySet whose ``delete()`` marks rows; ``hard_delete()`` removes them."""

    async def delete(self) -> tuple[int, dict[str, int]]:
        """Mark the matching rows deleted (rows already deleted keep their time).

        Rows of soft-deletable models pointing here with ``on_delete=CASCADE``
        are marked too; ``PROTECT``/``RESTRICT`` still refuse (``deletion.py``).
        """
        if acting_relations(self.model):
            return await delete_queryset(self, soft=True)
        count = await self.filter(deleted_at__isnull=True).update(deleted_at=_now())
        return count, ({self.model._meta.label: count} if count else {})

    async def hard_delete(self) -> tuple[int, dict[str, int]]:
        """DELETE the matching rows for real."""
        return await super().delete()

    async def restore(self) -> int:
        """Bring the matching deleted rows back; return how many."""
        return await self.filter(deleted_at__isnull=False).update(deleted_at=None)

    hard_delete.queryset_only = True  # type: ignore[attr-defined]
    restore.queryset_only = True  # type: ignore[attr-defined]


class SoftDeleteManager(Manager[M]):
    """``objects`` of a SoftDeleteModel: sees only rows that are not deleted."""

    _queryset_class = SoftDeleteQuerySet

    def get_queryset(self) -> SoftDeleteQuerySet[M]:
        """Return the rows whose ``deleted_at`` is NULL."""
        queryset = super().get_queryset()
        return queryset.filter(deleted_at__isnull=True)  # type: ignore[return-value]


class AllObjectsManager(Manager[M]):
    """``all_objects`` of a SoftDeleteModel: sees deleted rows too."""

    _queryset_class = SoftDeleteQuerySet

    def get_queryset(self) -> SoftDeleteQuerySet[M]:
        """Return every row, deleted or not."""
        return super().get_queryset()  # type: ignore[return-value]


class SoftDeleteModel(Model):
    """Abstract model whose rows are soft-deleted: ``deleted_at`` is set instead."""

    deleted_at = DateTimeField(null=True, blank=True, default=None, db_index=True, editable=False)

    objects: ClassVar[Any] = SoftDeleteManager()
    all_objects: ClassVar[Any] = AllObjectsManager()

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        """True when this row is marked deleted."""
        return self.__dict__.get("deleted_at") is not None

    async def delete(self, using: str | None = None) -> tuple[int, dict[str, int]]:
        """Mark this row deleted; return ``(total, {"app.Model": n, ...})``.

        The cascade marks rows of soft-deletable models that point here with
        ``on_delete=CASCADE`` (and so on down); other rows stay, and
        ``PROTECT``/``RESTRICT`` still refuse the delete.
        """
        if acting_relations(type(self)):
            if not self._is_pk_set():
                raise ValueError(
                    f"{type(self).__name__} object can't be deleted because its primary key "
                    "is not set."
                )
            alias = db_for(type(self), using, write=True, instance=self)
            return await delete_instances([self], alias, soft=True)
        self.deleted_at = _now()
        await self.save(update_fields=["deleted_at"], using=using)
        return 1, {self._meta.label: 1}

    async def hard_delete(self, using: str | None = None) -> tuple[int, dict[str, int]]:
        """DELETE this row for real."""
        return await super().delete(using)

    async def restore(self, using: str | None = None) -> None:
        """Clear ``deleted_at`` so the row is visible again."""
        self.deleted_at = None
        await self.save(update_fields=["deleted_at"], using=using)
