"""The SQLite backend: driver, vendor SQL, features and schema editor.

The driver (and aiosqlite with it) is imported on first use of ``driver_class``: the
query layer asks this backend's operations and features without loading it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reinhardt_db.backends.sqlite.features import FEATURES, initialize_dialect, server_features
from reinhardt_db.backends.sqlite.operations import SQLiteOperations
from reinhardt_db.backends.sqlite.schema import SQLiteSchemaEditor

if TYPE_CHECKING:
    from reinhardt_db.backends.sqlite.driver import SQLiteDriver

operations_class = SQLiteOperations
schema_editor_class = SQLiteSchemaEditor
features = FEATURES

__all__ = [
    "SQLiteDriver",
    "SQLiteOperations",
    "SQLiteSchemaEditor",
    "driver_class",
    "features",
    "initialize_dialect",
    "operations_class",
    "schema_editor_class",
    "server_features",
]


def __getattr__(name: str) -> Any:
    if name in ("driver_class", "SQLiteDriver"):
        from reinhardt_db.backends.sqlite.driver import SQLiteDriver

        return SQLiteDriver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
