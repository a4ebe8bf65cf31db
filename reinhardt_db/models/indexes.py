"""``Index``: a database index declared in ``Meta.indexes``.

::

    class Meta:
        indexes = [
            models.Index(fields=["-created_at", "author"], name="post_recent_idx"),
            models.Index(fields=["email"], name="live_email_idx", condition=models.Q(live=True)),
        ]

``"-field"`` sorts that column descending. ``condition`` makes a partial index
(PostgreSQL and SQLite; MySQL has no partial indexes, so there the index is
not created, as in Django). Names may use ``%(app_label)s`` and ``%(class)s``,
which is what an abstract base class needs so each child gets its own name.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from reinhardt_db.apps.hints import did_you_mean

__all__ = ["Index", "constraint_name"]

MAX_NAME_LENGTH = 63  # PostgreSQL's identifier limit (MySQL's is 64)


def constraint_name(table: str, columns: list[str] | tuple[str, ...], suffix: str) -> str:
    """Return a deterministic index/constraint name of at most 63 characters.

    ``"<table>_<col>_<col>_<suffix>"``, shortened with a hash when too long.
    """
    name = f"{table}_{'_'.join(columns)}_{suffix}"
    if len(name) <= MAX_NAME_LENGTH:
        return name
    digest = hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()[:8]
    keep = MAX_NAME_LENGTH - len(suffix) - len(digest) - 2
    return f"{name[:keep]}_{digest}_{suffix}"


def interpolate_name(name: str, model: type[Any]) -> str:
    """Fill ``%(app_label)s`` and ``%(class)s`` in ``name`` for ``model``."""
    if "%(" not in name:
        return name
    return name % {"app_label": model._meta.app_label, "class": model._meta.model_name}


def check_field_names(model: type[Any], names: list[str] | tuple[str, ...], owner: str) -> None:
    """Raise ``FieldDoesNotExist`` naming ``owner`` when a name is not a field of ``model``."""
    from reinhardt_db.exceptions import FieldDoesNotExist

    known = [f.name for f in model._meta.fields]
    for name in names:
        if name not in model._meta.fields_map:
            raise FieldDoesNotExist(
                f"{model.__name__}: {owner} refers to the nonexistent field '{name}'"
                f"{did_you_mean(name, known)}."
            )


class Index:
    """An index on one or more fields, optionally partial (``condition=Q(...)``)."""

    suffix = "idx"

    def __init__(
        self,
        *,
        fields: list[str] | tuple[str, ...] = (),
        name: str | None = None,
        condition: Any = None,
    ) -> None:
        if not isinstance(fields, (list, tuple)):
            raise ValueError("Index.fields must be a list or tuple, e.g. fields=['email'].")
        if not fields:
            raise ValueError("Index needs at least one field, e.g. Index(fields=['email']).")
        if condition is not None and not name:
            raise ValueError("An index with a condition must be named: pass name='...'.")
        if len(set(fields)) != len(fields):
            raise ValueError(f"Index.fields names a field twice: {list(fields)!r}.")
        self.fields = list(fields)
        self.name = name or ""
        self.condition = condition
        self.fields_orders: list[tuple[str, str]] = [
            (f[1:], "DESC") if f.startswith("-") else (f, "") for f in self.fields
        ]

    @property
    def field_names(self) -> list[str]:
        """The indexed fields without their ``-`` prefix."""
        return [name for name, _order in self.fields_orders]

    def contribute_to_model(self, model: type[Any]) -> None:
        """Check the fields exist on ``model`` and settle the index name."""
        check_field_names(model, self.field_names, f"index {self.name or self.fields!r}")
        if self.name:
            self.name = interpolate_name(self.name, model)
        else:
            columns = [model._meta.get_field(f).column for f in self.field_names]
            self.name = constraint_name(model._meta.db_table, columns, self.suffix)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``(import path, args, kwargs)`` that rebuild this index."""
        kwargs: dict[str, Any] = {"fields": list(self.fields), "name": self.name}
        if self.condition is not None:
            kwargs["condition"] = self.condition
        return "reinhardt_db.models.Index", (), kwargs

    def clone(self) -> Index:
        """Return a copy."""
        return copy.copy(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Index):
            return NotImplemented
        return self.deconstruct() == other.deconstruct()

    def __hash__(self) -> int:
        return hash((tuple(self.fields), self.name))

    def __repr__(self) -> str:
        condition = f" condition={self.condition!r}" if self.condition is not None else ""
        return f"<Index: fields={self.fields!r} name={self.name!r}{condition}>"
