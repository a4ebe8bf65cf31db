"""Database backends: one :class:`Database` per configured alias, over our own pool."""

from reinhardt_db.backends.base import BackendOps, ExecuteResult
from reinhardt_db.backends.database import BoundConnection, Database, sql_logger
from reinhardt_db.backends.features import DatabaseFeatures
from reinhardt_db.backends.handler import ConnectionHandler, connections
from reinhardt_db.backends.records import Record

__all__ = [
    "BackendOps",
    "BoundConnection",
    "ConnectionHandler",
    "Database",
    "DatabaseFeatures",
    "ExecuteResult",
    "Record",
    "connections",
    "sql_logger",
]
