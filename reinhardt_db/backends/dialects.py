"""SQLAlchemy dialects and the backends they belong to.

Code that holds only a compiler (an ``@compiles`` hook) or no database at all
(a model's ``Table``, built when the class is defined) asks here instead of
naming vendors. Declaring a model must not import asyncpg or aiomysql, so the
options each backend's DDL needs on the shared ``Table`` are listed here rather
than in the vendor packages (whose ``__init__`` imports the driver).
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa

from reinhardt_db.exceptions import NotSupportedError

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import Dialect

    from reinhardt_db.backends.base.features import DatabaseFeatures
    from reinhardt_db.backends.base.schema import SchemaEditor

__all__ = [
    "PARTIAL_INDEX_DIALECTS",
    "backend_of",
    "make_partial",
    "offline_schema_editor",
    "schema_editor_class",
    "table_options",
    "vendor_of",
]

#: Dialects whose ``CREATE INDEX`` can carry a ``WHERE`` clause (``<name>_where``).
PARTIAL_INDEX_DIALECTS = ("postgresql", "sqlite")


def vendor_of(dialect: Dialect) -> str:
    """Return ``"sqlite" | "postgresql" | "mysql"`` for an SQLAlchemy dialect."""
    return "mysql" if dialect.name == "mariadb" else str(dialect.name)


def backend_of(dialect: Dialect) -> ModuleType:
    """Return the backend package (driver, ops, features, schema editor) of ``dialect``."""
    from reinhardt_db.backends.handler import BACKENDS, backend_module

    vendor = vendor_of(dialect)
    if vendor not in BACKENDS:
        raise NotSupportedError(
            f"no reinhardt_db backend for the SQLAlchemy dialect {dialect.name!r}; "
            f"compile for one of {', '.join(BACKENDS)}"
        )
    return backend_module(vendor)


def schema_editor_class(dialect: Dialect) -> type[SchemaEditor]:
    """Return the schema editor class of ``dialect``'s backend."""
    editor: type[SchemaEditor] = backend_of(dialect).schema_editor_class
    return editor


def offline_schema_editor(
    dialect: Dialect, features: DatabaseFeatures | None = None
) -> SchemaEditor:
    """Return a schema editor that only builds SQL for ``dialect`` (no database needed).

    ``features`` default to the backend's defaults (a server not yet asked).
    """
    backend = backend_of(dialect)
    editor: SchemaEditor = backend.schema_editor_class(
        dialect=dialect,
        features=features if features is not None else backend.features,
        ops=backend.operations_class(),
        collect_sql=True,
    )
    return editor


def table_options(*, autoincrement_pk: bool) -> dict[str, Any]:
    """Return the dialect options of a model's ``Table``.

    MySQL tables are InnoDB in utf8mb4; on SQLite an auto-increment primary key
    is declared ``AUTOINCREMENT`` so that ids of deleted rows are never reused,
    as on the other backends.
    """
    options: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
    if autoincrement_pk:
        options["sqlite_autoincrement"] = True
    return options


def make_partial(index: sa.Index, condition: sa.ColumnElement[bool]) -> sa.Index:
    """Give ``index`` a ``WHERE condition`` on every dialect that can write one.

    ``index.info["condition"]`` marks it partial: the schema editor leaves it
    out where ``features.supports_partial_indexes`` is false, and ``ddl_if``
    makes SQLAlchemy's own ``create_all`` do the same.
    """
    for name in PARTIAL_INDEX_DIALECTS:
        index.dialect_kwargs[f"{name}_where"] = condition
    index.info["condition"] = condition
    # ddl_if takes a tuple of dialect names, though typed as one name.
    return index.ddl_if(dialect=cast(Any, PARTIAL_INDEX_DIALECTS))
