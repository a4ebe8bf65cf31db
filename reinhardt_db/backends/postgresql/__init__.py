"""The PostgreSQL backend: driver, vendor SQL, features and schema editor.

The driver (and asyncpg with it) is imported on first use of ``driver_class``: the
query layer asks this backend's operations and features without loading it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reinhardt_db.backends.base.url_options import URLOptions, number, text
from reinhardt_db.backends.postgresql.creation import PostgreSQLCreation
from reinhardt_db.backends.postgresql.features import FEATURES, initialize_dialect, server_features
from reinhardt_db.backends.postgresql.operations import PostgreSQLOperations
from reinhardt_db.backends.postgresql.schema import PostgreSQLSchemaEditor

if TYPE_CHECKING:
    from reinhardt_db.backends.postgresql.driver import PostgreSQLDriver

creation_class = PostgreSQLCreation
operations_class = PostgreSQLOperations
schema_editor_class = PostgreSQLSchemaEditor
features = FEATURES

_UTC = (
    "sessions run in UTC so that date transforms agree on every backend "
    "(datetimes come back aware, in UTC); remove it"
)
#: libpq's connection options that asyncpg reads from a DSN (``?sslmode=require``).
LIBPQ_OPTIONS = frozenset({
    "service", "passfile", "sslmode", "sslcert", "sslkey", "sslrootcert", "sslnegotiation",
    "sslcrl", "sslpassword", "ssl_min_protocol_version", "ssl_max_protocol_version",
    "target_session_attrs", "krbsrvname", "gsslib",
})
_IN_URL = "write it in the URL itself (postgresql://user:password@host:port/database)"
#: ``postgresql://u@h/db?sslmode=require&application_name=web``: libpq's options
#: (``LIBPQ_OPTIONS``, as text), ``connect_timeout`` (seconds), and any other
#: option as a server setting, as libpq and asyncpg take it.
url_options = URLOptions(
    "postgresql",
    accepted={"connect_timeout": number, **dict.fromkeys(LIBPQ_OPTIONS, text)},
    owned={
        "timezone": _UTC,
        **dict.fromkeys(("host", "port", "user", "password", "dbname", "database"), _IN_URL),
    },
    pass_others=True,
)

__all__ = [
    "LIBPQ_OPTIONS",
    "PostgreSQLCreation",
    "PostgreSQLDriver",
    "PostgreSQLOperations",
    "PostgreSQLSchemaEditor",
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
    if name in ("driver_class", "PostgreSQLDriver"):
        from reinhardt_db.backends.postgresql.driver import PostgreSQLDriver

        return PostgreSQLDriver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
