"""Read a live schema back: tables, columns, indexes and constraints.

Migrations never need it to know the models (the state comes from replaying
the files); it serves ``migrate --fake-initial`` (do the tables exist?),
``inspectdb`` (models from an existing schema) and tests that compare a
migrated database with its models. Each vendor's ``introspection.py`` reads
its catalog; ``introspect(db)`` returns the right one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reinhardt_db.backends.database import Database

__all__ = ["ColumnInfo", "ConstraintInfo", "Introspection", "introspect"]


@dataclass(frozen=True)
class ColumnInfo:
    """One column as the database reports it.

    ``type`` is the database's own spelling, lower-cased (``"varchar(100)"``,
    ``"character varying(100)"``, ``"integer"``); ``default`` the text of its
    default expression, or None.
    """

    name: str
    type: str
    nullable: bool
    default: str | None = None
    primary_key: bool = False


@dataclass(frozen=True)
class ConstraintInfo:
    """An index or constraint: ``kind`` is ``primary_key``, ``unique``, ``check``,
    ``foreign_key`` or ``index``.

    ``columns`` in order (empty for a check whose columns are unknown),
    ``unique`` for indexes, ``references`` ``(table, columns)`` for foreign keys,
    ``condition`` the text of a partial index's ``WHERE`` or a check's condition.
    """

    name: str
    kind: str
    columns: tuple[str, ...] = ()
    unique: bool = False
    references: tuple[str, tuple[str, ...]] | None = None
    condition: str | None = None


class Introspection:
    """Catalog queries for one database (subclassed per vendor)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def table_names(self) -> list[str]:
        """Return the names of the tables (not views) of the current database/schema, sorted."""
        raise NotImplementedError

    async def get_columns(self, table: str) -> list[ColumnInfo]:
        """Return ``table``'s columns in order (empty when there is no such table)."""
        raise NotImplementedError

    async def get_constraints(self, table: str) -> dict[str, ConstraintInfo]:
        """Return ``table``'s indexes and constraints by name."""
        raise NotImplementedError

    async def has_table(self, table: str) -> bool:
        """Return whether ``table`` exists."""
        return table in await self.table_names()


def introspect(db: Database) -> Introspection:
    """Return the catalog reader of ``db``'s backend."""
    introspection: Introspection = db.schema_editor().introspection_class(db)
    return introspection
