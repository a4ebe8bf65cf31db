"""The MySQL backend: driver, vendor SQL, features and schema editor.

The driver (and aiomysql with it) is imported on first use of ``driver_class``: the
query layer asks this backend's operations and features without loading it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reinhardt_db.backends.base.url_options import URLOptions, boolean, number, text
from reinhardt_db.backends.mysql.creation import MySQLCreation
from reinhardt_db.backends.mysql.features import FEATURES, initialize_dialect, server_features
from reinhardt_db.backends.mysql.operations import MySQLOperations
from reinhardt_db.backends.mysql.schema import MySQLSchemaEditor

if TYPE_CHECKING:
    from reinhardt_db.backends.mysql.driver import MySQLDriver

creation_class = MySQLCreation
operations_class = MySQLOperations
schema_editor_class = MySQLSchemaEditor
features = FEATURES

_IN_URL = "write it in the URL itself (mysql://user:password@host:port/database)"
_OWN = "reinhardt_db sets it on every connection (sessions behave alike on every backend)"
#: ``mysql://u@h/db?connect_timeout=5&ssl_ca=/ca.pem``: aiomysql.connect() arguments.
#: The ``ssl_*`` options make the ``ssl`` context (``MySQLDriver.connection_manager``).
url_options = URLOptions(
    "mysql",
    accepted={
        "charset": text, "connect_timeout": number, "unix_socket": text,
        "local_infile": boolean, "read_default_file": text, "read_default_group": text,
        "auth_plugin": text, "program_name": text, "server_public_key": text,
        "ssl": boolean, "ssl_ca": text, "ssl_cert": text, "ssl_key": text,
        "ssl_check_hostname": boolean,
    },
    owned={
        **dict.fromkeys(("host", "port", "user", "password", "db", "database"), _IN_URL),
        **dict.fromkeys(
            ("autocommit", "client_flag", "conv", "cursorclass", "init_command", "sql_mode",
             "use_unicode", "echo", "loop"), _OWN,
        ),
        "time_zone": "sessions run in UTC; see the database's time_zone setting",
    },
)

__all__ = [
    "MySQLCreation",
    "MySQLDriver",
    "MySQLOperations",
    "MySQLSchemaEditor",
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
    if name in ("driver_class", "MySQLDriver"):
        from reinhardt_db.backends.mysql.driver import MySQLDriver

        return MySQLDriver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
