"""``Database``: one configured alias, its pools (one per event loop) and its API.

Every call either runs on the connection bound to the current task (inside
``connection()``/``transaction()``, later ``atomic()``) or borrows a pooled
connection in autocommit mode and gives it back at once.

The parts live in their own modules; ``Database`` puts them together:

- ``_pools``: the pool of each event loop, opened on first use;
- ``_running``: where a statement runs, error mapping (``_logging``: the SQL log);
- ``state``: the connection a task holds (``ConnectionState``) and its ContextVar;
- ``_binding``: ``connection()`` and ``transaction()``;
- ``_streaming``: ``stream_rows`` (``QuerySet.iterator()``);
- ``_raw``: the ``%s`` raw-SQL API.
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from reinhardt_db.backends._logging import sql_logger
from reinhardt_db.backends._raw import RawSQL
from reinhardt_db.backends._streaming import Streaming
from reinhardt_db.backends.base import ExecuteResult, SchemaEditor
from reinhardt_db.backends.state import BoundConnection, ConnectionState

if TYPE_CHECKING:
    from types import ModuleType

    from reinhardt_db.backends.base.creation import DatabaseCreation
    from reinhardt_db.conf import DatabaseSettings

__all__ = ["BoundConnection", "ConnectionState", "Database", "sql_logger"]


class Database(RawSQL, Streaming):
    """One configured database (``reinhardt_db.connections[alias]``).

    Raw SQL uses ``%s`` placeholders on every backend::

        db = reinhardt_db.connections["default"]
        rows = await db.fetch_all("SELECT id, name FROM t WHERE id > %s", [10])
        rows[0]["name"]
    """

    def __init__(self, alias: str, settings: DatabaseSettings, backend: ModuleType) -> None:
        self.alias = alias
        self.settings = settings
        #: Driver calls on raw connections (``backends/<vendor>/driver.py``).
        self.driver = backend.driver_class(settings)
        #: Vendor SQL for the layers above (``backends/<vendor>/operations.py``).
        self.ops = backend.operations_class()
        self.features = backend.features
        self._schema_editor_class = backend.schema_editor_class
        self._backend = backend
        self.vendor = self.driver.vendor
        self.dialect = self.driver.dialect()
        self._driver_errors = self.driver.driver_errors
        self._init_pools()

    def __repr__(self) -> str:
        return f"<Database {self.alias!r} {self.vendor}>"

    # -- ORM fast path (native paramstyle) ----------------------------------------------
    # Plain functions returning the statement's coroutine (``await db.fetch_row(...)``
    # as before): a frame less on the ORM's hottest path.
    def fetch_rows(self, sql: str, params: Sequence[Any] = ()) -> Coroutine[Any, Any, list[Any]]:
        """Run native-paramstyle SQL and return the driver's rows (awaitable)."""
        return self._run(self.driver.fetch_rows, sql, params)

    def fetch_row(self, sql: str, params: Sequence[Any] = ()) -> Coroutine[Any, Any, Any | None]:
        """Run native-paramstyle SQL and return the first row, or None (awaitable)."""
        return self._run(self.driver.fetch_row, sql, params)

    def execute_native(
        self, sql: str, params: Sequence[Any] = ()
    ) -> Coroutine[Any, Any, ExecuteResult]:
        """Run a native-paramstyle statement; report rows touched and the new row id."""
        return self._run(self.driver.execute, sql, params)

    def executemany_native(
        self, sql: str, seq_of_params: Sequence[Sequence[Any]]
    ) -> Coroutine[Any, Any, int]:
        """Run a native-paramstyle statement once per parameter set (awaitable)."""
        return self._run(self.driver.executemany, sql, seq_of_params)

    # -- server features and the schema editor ------------------------------------------
    async def _read_features(self, raw: Any) -> None:
        """On the first connect, make ``features`` and ``dialect`` the server's.

        Once per Database, not per pool or loop (connects racing the first one
        read too, so every connection handed out has the server's features,
        but only the first result is kept). The dialect is replaced, not
        changed in place: statements compiled before (the first query compiles
        before its connection opens) are cached under the old dialect object,
        so none of them is served once the server's version is known.
        """
        if self.features.server_version:
            return
        try:
            version = await self.driver.server_version(raw)
        except self._driver_errors as error:
            raise self.driver.map_error(error) from error
        if self.features.server_version:
            return
        features = self._backend.server_features(version)
        dialect = self.driver.dialect()
        self._backend.initialize_dialect(dialect, features)
        self.features, self.dialect = features, dialect

    def schema_editor(self, *, collect_sql: bool = False, atomic: bool = True) -> SchemaEditor:
        """Return this backend's schema editor: ``async with db.schema_editor() as editor:``.

        The block runs on one connection, in a transaction where the server has
        transactional DDL (and ``atomic``); ``collect_sql=True`` records the
        statements in ``editor.collected_sql`` instead of running them.
        """
        return self._schema_editor_class(self, collect_sql=collect_sql, atomic=atomic)

    def creation(self) -> DatabaseCreation:
        """Return this backend's test-database helper: create, drop, empty the tables.

        For the pytest plugin (``reinhardt_db.testing``): the database is the
        one this alias's URL names.
        """
        creation: DatabaseCreation = self._backend.creation_class(self)
        return creation
