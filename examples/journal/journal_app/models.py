"""The demo's models: declared in an installed app, so their app label is ``journal_app``."""

from __future__ import annotations

from reinhardt_db import models


class Level(models.IntegerChoices):
    DEBUG = 0
    INFO = 1
    WARNING = 2
    ERROR = 3


class Author(models.TimestampedModel):
    """Someone who writes entries (``created_at``/``updated_at`` come from the mixin)."""

    name = models.CharField(max_length=50, unique=True)
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["name"]


class Entry(models.Model):
    """One journal entry."""

    at = models.DateTimeField(auto_now_add=True)
    level = models.SmallIntegerField(choices=Level.choices, default=Level.INFO, db_index=True)
    text = models.CharField(max_length=255, db_index=True)
    author_name = models.CharField(max_length=50)
    duration = models.DurationField(null=True)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(level__gte=0), name="entry_level_non_negative"),
        ]
