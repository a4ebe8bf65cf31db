"""The SQLite backend: driver, vendor SQL, features and schema editor."""

from reinhardt_db.backends.sqlite.driver import SQLiteDriver
from reinhardt_db.backends.sqlite.features import FEATURES, initialize_dialect, server_features
from reinhardt_db.backends.sqlite.operations import SQLiteOperations
from reinhardt_db.backends.sqlite.schema import SQLiteSchemaEditor

driver_class = SQLiteDriver
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
