"""The backends by vendor name: their operations and default features, without a database.

The query layer asks a :class:`~reinhardt_db.backends.Database`'s ``ops`` and
``features``. Where there is no database (a column type carrying every
backend's variant, DDL compiled for a dialect, a field's conversion asked by
vendor name), these functions hand out the same objects. They import a
backend's operations and features, never its driver: a SQLite-only program
does not import asyncpg or aiomysql.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reinhardt_db.backends.base.features import DatabaseFeatures
from reinhardt_db.backends.base.operations import DatabaseOperations
from reinhardt_db.backends.handler import BACKENDS, backend_module

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import Dialect

__all__ = ["all_operations", "features_for", "operations_for", "operations_for_dialect"]

_operations: dict[str, DatabaseOperations] = {}
_all: tuple[DatabaseOperations, ...] = ()


def _check(vendor: str) -> None:
    if vendor not in BACKENDS:
        raise ValueError(f"unknown database vendor {vendor!r}; use one of {', '.join(BACKENDS)}")


def operations_for(vendor: str | DatabaseOperations) -> DatabaseOperations:
    """Return the operations of ``vendor`` (one shared instance), or ``vendor`` if it is one."""
    if isinstance(vendor, DatabaseOperations):
        return vendor
    ops = _operations.get(vendor)
    if ops is None:
        _check(vendor)
        ops = _operations[vendor] = backend_module(vendor).operations_class()
    return ops


def features_for(vendor: str) -> DatabaseFeatures:
    """Return the features ``vendor`` has before a server is asked."""
    _check(vendor)
    features: DatabaseFeatures = backend_module(vendor).features
    return features


def all_operations() -> tuple[DatabaseOperations, ...]:
    """Return the operations of every backend this package has."""
    global _all
    if not _all:
        _all = tuple(operations_for(vendor) for vendor in BACKENDS)
    return _all


def operations_for_dialect(dialect: Dialect) -> DatabaseOperations | None:
    """Return the operations of the backend compiling with ``dialect``, or None."""
    name = dialect.name
    for ops in all_operations():
        if name in ops.dialect_names:
            return ops
    return None
