"""The PostgreSQL backend: driver, vendor SQL, features and schema editor."""

from reinhardt_db.backends.postgresql.driver import PostgreSQLDriver
from reinhardt_db.backends.postgresql.features import FEATURES, initialize_dialect, server_features
from reinhardt_db.backends.postgresql.operations import PostgreSQLOperations
from reinhardt_db.backends.postgresql.schema import PostgreSQLSchemaEditor

driver_class = PostgreSQLDriver
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
