"""PostgreSQL-only model fields, lookups and transforms (Django's ``django.contrib.postgres``).

``ArrayField(base_field, size=None)`` stores a list in a native array column::

    from reinhardt_db.contrib.postgres import ArrayField

    class Post(models.Model):
        tags = ArrayField(models.CharField(max_length=20), default=list)

On SQLite and MySQL/MariaDB the field raises ``NotSupportedError``; store lists
in a ``JSONField`` there.
"""

from reinhardt_db.contrib.postgres.fields import ArrayField
from reinhardt_db.contrib.postgres.lookups import (
    ArrayContainedBy,
    ArrayContains,
    ArrayLenTransform,
    ArrayOverlap,
    IndexTransform,
    SliceTransform,
)

__all__ = [
    "ArrayContainedBy",
    "ArrayContains",
    "ArrayField",
    "ArrayLenTransform",
    "ArrayOverlap",
    "IndexTransform",
    "SliceTransform",
]
