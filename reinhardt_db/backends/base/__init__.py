"""What every backend provides: a driver, vendor SQL, features and a schema editor."""

from reinhardt_db.backends.base.driver import (
    ISOLATION_LEVELS,
    Driver,
    ExecuteResult,
    check_isolation,
)
from reinhardt_db.backends.base.features import DatabaseFeatures
from reinhardt_db.backends.base.operations import DatabaseOperations
from reinhardt_db.backends.base.schema import SchemaEditor
from reinhardt_db.backends.base.streams import RowStream

__all__ = [
    "ISOLATION_LEVELS",
    "DatabaseFeatures",
    "DatabaseOperations",
    "Driver",
    "ExecuteResult",
    "RowStream",
    "SchemaEditor",
    "check_isolation",
]
