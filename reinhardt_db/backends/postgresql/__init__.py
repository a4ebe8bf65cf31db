"""The PostgreSQL backend: driver, vendor SQL, features and schema editor.

The driver (and asyncpg with it) is imported on first use of ``driver_class``: the
query layer asks this backend's operations and features without loading it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reinhardt_db.backends.postgresql.features import FEATURES, initialize_dialect, server_features
from reinhardt_db.backends.postgresql.operations import PostgreSQLOperations
from reinhardt_db.backends.postgresql.schema import PostgreSQLSchemaEditor

if TYPE_CHECKING:
    from reinhardt_db.backends.postgresql.driver import PostgreSQLDriver

operations_class = PostgreSQLOperations
schema_editor_class = PostgreSQLSchemaEditor
features = FEATURES

__all__ = [
    "PostgreSQLDriver",
    "PostgreSQLOperations",
    "PostgreSQLSchemaEditor",
    "driver_class",
    "features",
    "initialize_dialect",
    "operations_class",
    "schema_editor_class",
    "server_features",
]


def __getattr__(name: str) -> Any:
    if name in ("driver_class", "PostgreSQLDriver"):
        from reinhardt_db.backends.postgresql.driver import PostgreSQLDriver

        return PostgreSQLDriver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
