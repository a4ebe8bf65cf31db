"""The SQLite backend: driver, vendor SQL, features and schema editor.

The driver (and aiosqlite with it) is imported on first use of ``driver_class``: the
query layer asks this backend's operations and features without loading it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reinhardt_db.backends.base.url_options import URLOptions, number, whole_number
from reinhardt_db.backends.sqlite.creation import SQLiteCreation
from reinhardt_db.backends.sqlite.features import FEATURES, initialize_dialect, server_features
from reinhardt_db.backends.sqlite.operations import SQLiteOperations
from reinhardt_db.backends.sqlite.schema import SQLiteSchemaEditor

if TYPE_CHECKING:
    from reinhardt_db.backends.sqlite.driver import SQLiteDriver

creation_class = SQLiteCreation
operations_class = SQLiteOperations
schema_editor_class = SQLiteSchemaEditor
features = FEATURES

#: ``sqlite:///app.db?timeout=5``: sqlite3.connect() arguments (through aiosqlite).
url_options = URLOptions(
    "sqlite",
    accepted={"timeout": number, "cached_statements": whole_number},
    owned={
        "isolation_level": "reinhardt_db keeps SQLite in autocommit and opens transactions "
        "itself (atomic()); remove it",
        "check_same_thread": "aiosqlite runs each connection on a thread of its own; remove it",
        "factory": "reinhardt_db needs sqlite3's own Connection class; remove it",
        "detect_types": "reinhardt_db converts column values itself (the field types); remove it",
        "uri": "the URL's path is the database file; remove it",
    },
)

__all__ = [
    "SQLiteCreation",
    "SQLiteDriver",
    "SQLiteOperations",
    "SQLiteSchemaEditor",
    "creation_class",
    "driver_class",
    "features",
    "initialize_dialect",
    "operations_class",
    "schema_editor_class",
    "server_features",
    "url_options",
]


def __getattr__(name: str) -> Any:
    if name in ("driver_class", "SQLiteDriver"):
        from reinhardt_db.backends.sqlite.driver import SQLiteDriver

        return SQLiteDriver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
