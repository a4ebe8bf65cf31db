"""``connections``: the configured databases, one :class:`Database` per alias."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType

from reinhardt_db import exceptions as exc
from reinhardt_db._hints import closest
from reinhardt_db.backends.database import Database

__all__ = ["BACKENDS", "ConnectionHandler", "backend_module", "connections"]

# Vendor -> backend package. Imported on first use so that a SQLite-only
# project never imports asyncpg or aiomysql.
BACKENDS: dict[str, str] = {
    "sqlite": "reinhardt_db.backends.sqlite",
    "postgresql": "reinhardt_db.backends.postgresql",
    "mysql": "reinhardt_db.backends.mysql",
}


def backend_module(vendor: str) -> ModuleType:
    """The backend package of ``vendor`` (its driver, operations, features, schema editor)."""
    return importlib.import_module(BACKENDS[vendor])


class ConnectionHandler:
    """Map each database alias in the settings to its :class:`Database`.

    ``connections["default"]`` is created on first access from the current
    settings; replacing the settings (``configure()``) drops the old objects
    (their pools are closed by ``close_all()``).
    """

    def __init__(self) -> None:
        self._databases: dict[str, Database] = {}
        self._retired: list[Database] = []
        self._listening = False

    def _settings_changed(self) -> None:
        self._retired.extend(self._databases.values())
        self._databases = {}

    def __getitem__(self, alias: str) -> Database:
        db = self._databases.get(alias)
        if db is not None:
            return db
        from reinhardt_db.conf import get_settings, on_settings_changed

        if not self._listening:
            on_settings_changed(self._settings_changed)
            self._listening = True
        settings = get_settings()
        if alias not in settings.databases:
            match = closest(alias, settings.databases)
            did_you_mean = f"; did you mean {match!r}?" if match else ""
            raise exc.ImproperlyConfigured(
                f"databases.{alias}: no database named {alias!r} is configured "
                f"(configured: {', '.join(sorted(settings.databases))}){did_you_mean}"
            )
        db_settings = settings.databases[alias]
        db = Database(alias, db_settings, backend_module(db_settings.parsed.vendor))
        self._databases[alias] = db
        return db

    def __contains__(self, alias: object) -> bool:
        from reinhardt_db.conf import get_settings

        return alias in get_settings().databases

    def __iter__(self) -> Iterator[str]:
        from reinhardt_db.conf import get_settings

        return iter(list(get_settings().databases))

    def all(self) -> list[Database]:
        """Every configured database, in settings order."""
        return [self[alias] for alias in self]

    async def close_all(self) -> None:
        """Close every pool opened in the running event loop."""
        databases = [*self._retired, *self._databases.values()]
        self._retired = []
        for db in databases:
            await db.close()


connections = ConnectionHandler()
