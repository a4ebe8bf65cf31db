"""Abstract models to mix into your own."""

from __future__ import annotations

from reinhardt_db.models.base import Model
from reinhardt_db.models.fields.temporal import DateTimeField

__all__ = ["TimestampedModel"]


class TimestampedModel(Model):
    """Add ``created_at`` (set on insert) and ``updated_at`` (set on every save)."""

    created_at = DateTimeField(auto_now_add=True)
    updated_at = DateTimeField(auto_now=True)

    class Meta:
        abstract = True
