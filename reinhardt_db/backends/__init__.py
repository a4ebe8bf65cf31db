"""Database backends: one :class:`Database` per configured alias, over our own pool."""

from reinhardt_db.backends._pools import failing_fast
from reinhardt_db.backends.base import (
    DatabaseFeatures,
    DatabaseOperations,
    Driver,
    ExecuteResult,
    SchemaEditor,
)
from reinhardt_db.backends.database import BoundConnection, ConnectionState, Database, sql_logger
from reinhardt_db.backends.handler import ConnectionHandler, connections
from reinhardt_db.backends.records import Record

__all__ = [
    "BoundConnection",
    "ConnectionHandler",
    "ConnectionState",
    "Database",
    "DatabaseFeatures",
    "DatabaseOperations",
    "Driver",
    "ExecuteResult",
    "Record",
    "SchemaEditor",
    "connections",
    "failing_fast",
    "sql_logger",
]
