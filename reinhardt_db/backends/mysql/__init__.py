"""The MySQL backend: driver, vendor SQL, features and schema editor."""

from reinhardt_db.backends.mysql.driver import MySQLDriver
from reinhardt_db.backends.mysql.features import FEATURES, initialize_dialect, server_features
from reinhardt_db.backends.mysql.operations import MySQLOperations
from reinhardt_db.backends.mysql.schema import MySQLSchemaEditor

driver_class = MySQLDriver
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
