"""Auto-incrementing primary keys: the database picks the value on insert."""

from __future__ import annotations

from typing import Any

from reinhardt_db.models.fields.numeric import BigIntegerField, IntegerField, SmallIntegerField

__all__ = ["AutoField", "AutoFieldMixin", "BigAutoField", "SmallAutoField"]


class AutoFieldMixin:
    """Mark a field as filled by the database (``is_auto``) and require ``primary_key``.

    On SQLite every auto field is ``INTEGER PRIMARY KEY AUTOINCREMENT`` (the rowid
    alias, 64-bit); PostgreSQL gets ``SERIAL``/``BIGSERIAL``/``SMALLSERIAL`` and
    MySQL ``AUTO_INCREMENT``.
    """

    is_auto = True
    db_returning = True
    name: str
    primary_key: bool

    def check_definition(self) -> None:
        """Require ``primary_key=True``."""
        super().check_definition()  # type: ignore[misc]
        if not self.primary_key:
            self.fail(  # type: ignore[attr-defined]
                f"{type(self).__name__} must set primary_key=True; use "
                f"{type(self).__name__.replace('Auto', 'Integer')}"
                " for a plain counter column."
            )

    def validate(self, value: Any, instance: Any) -> None:
        """Accept ``None`` (the database assigns the value on insert)."""
        if value is not None:
            super().validate(value, instance)  # type: ignore[misc]


class AutoField(AutoFieldMixin, IntegerField):
    """A 32-bit auto-incrementing primary key."""

    description = "Integer (auto-incrementing)"


class BigAutoField(AutoFieldMixin, BigIntegerField):
    """A 64-bit auto-incrementing primary key (the default ``id``)."""

    description = "Big (8 byte) integer (auto-incrementing)"


class SmallAutoField(AutoFieldMixin, SmallIntegerField):
    """A 16-bit auto-incrementing primary key."""

    description = "Small integer (auto-incrementing)"
