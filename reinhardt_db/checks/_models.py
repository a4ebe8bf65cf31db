"""Shared helpers of the model checks: which models, which databases, which names."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

__all__ = ["NameLimit", "TableNames", "checked_models", "duplicates", "name_limits", "table_names"]


def checked_models(app_configs: Sequence[Any] | None) -> list[type[Any]]:
    """Return the registered concrete models of ``app_configs`` (None: of every app)."""
    if app_configs is None:
        from reinhardt_db.apps import apps

        return apps.get_models()
    return [model for config in app_configs for model in config.get_models()]


@dataclass(frozen=True)
class NameLimit:
    """The longest identifier the backends of ``aliases`` keep whole."""

    length: int
    vendor: str
    aliases: tuple[str, ...]

    def describe(self) -> str:
        """Return e.g. ``postgresql (database 'default')``."""
        names = ", ".join(f"'{alias}'" for alias in self.aliases)
        plural = "s" if len(self.aliases) > 1 else ""
        return f"{self.vendor} (database{plural} {names})"


def name_limits(databases: Sequence[str] | None) -> list[NameLimit]:
    """Return the identifier length limits of ``databases``, one per vendor and limit."""
    if not databases:
        return []
    from reinhardt_db.backends import connections  # the checks sit above the backends

    grouped: dict[tuple[int, str], list[str]] = {}
    for alias in databases:
        db = connections[alias]
        length = db.ops.max_name_length
        if length is not None:
            grouped.setdefault((length, db.vendor), []).append(alias)
    return [NameLimit(length, vendor, tuple(aliases))
            for (length, vendor), aliases in sorted(grouped.items())]


@dataclass(frozen=True)
class TableNames:
    """The names a model's table puts in the database: indexes and constraints."""

    indexes: tuple[str, ...]
    constraints: tuple[str, ...]


def table_names(model: type[Any]) -> TableNames:
    """Return the index and constraint names of ``model``'s table, as its DDL writes them.

    Builds the table (``_meta.table``) if nothing did yet; raises what building raises.
    """
    table: sa.Table = model._meta.table
    indexes = tuple(sorted(str(index.name) for index in table.indexes if index.name))
    constraints = tuple(sorted(
        str(constraint.name) for constraint in table.constraints
        if constraint.name and not isinstance(constraint, sa.PrimaryKeyConstraint)
    ))
    return TableNames(indexes, constraints)


def duplicates(items: Iterator[tuple[str, Any]]) -> dict[str, list[Any]]:
    """Group ``(key, owner)`` pairs and keep the keys that have more than one."""
    grouped: dict[str, list[Any]] = {}
    for key, owner in items:
        grouped.setdefault(key, []).append(owner)
    return {key: owners for key, owners in grouped.items() if len(owners) > 1}
