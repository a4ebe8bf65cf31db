"""The MySQL backend: driver, vendor SQL, features and schema editor.

The driver (and aiomysql with it) is imported on first use of ``driver_class``: the
query layer asks this backend's operations and features without loading it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reinhardt_db.backends.mysql.features import FEATURES, initialize_dialect, server_features
from reinhardt_db.backends.mysql.operations import MySQLOperations
from reinhardt_db.backends.mysql.schema import MySQLSchemaEditor

if TYPE_CHECKING:
    from reinhardt_db.backends.mysql.driver import MySQLDriver

operations_class = MySQLOperations
schema_editor_class = MySQLSchemaEditor
features = FEATURES

__all__ = [
    "MySQLDriver",
    "MySQLOperations",
    "MySQLSchemaEditor",
    "driver_class",
    "features",
    "initialize_dialect",
    "operations_class",
    "schema_editor_class",
    "server_features",
]


def __getattr__(name: str) -> Any:
    if name in ("driver_class", "MySQLDriver"):
        from reinhardt_db.backends.mysql.driver import MySQLDriver

        return MySQLDriver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
