"""Test databases: create one, drop it, empty its tables (the pytest plugin's set-up).

``db.creation()`` gives the backend's :class:`DatabaseCreation` for a
``Database`` whose URL names the test database. Server backends connect to a
maintenance database of the same server (``postgres``, ``information_schema``)
to run ``CREATE DATABASE``/``DROP DATABASE``; SQLite creates and removes files.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reinhardt_db import exceptions as exc

if TYPE_CHECKING:
    from reinhardt_db.backends.base.features import DatabaseFeatures
    from reinhardt_db.backends.database import Database

__all__ = ["DatabaseCreation"]


class DatabaseCreation:
    """Create, drop and empty the database ``db`` names (Django's ``creation``)."""

    #: Databases of the same server to connect to while creating or dropping
    #: another one, tried in order (server backends).
    maintenance_databases: tuple[str, ...] = ()

    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def name(self) -> str:
        """The database's name (for SQLite its file path)."""
        return self.db.settings.parsed.database

    async def create(self) -> None:
        """Create the database, dropping a leftover one of that name first."""
        await self._on_server(create=True)

    async def drop(self) -> None:
        """Drop the database if it exists (ending other sessions on it first)."""
        await self._on_server(create=False)

    async def flush(self, tables: Sequence[str]) -> None:
        """Delete every row of ``tables`` whatever foreign keys link them; reset their ids."""
        raise NotImplementedError

    def create_sql(self) -> list[str]:
        """Return the statements that create the database."""
        raise NotImplementedError

    def drop_sql(self, features: DatabaseFeatures) -> list[str]:
        """Return the statements that drop the database if it exists, on that server."""
        raise NotImplementedError

    def quote(self, name: str) -> str:
        """Quote an identifier for this backend (always, whatever it contains)."""
        return str(self.db.dialect.identifier_preparer.quote_identifier(name))

    async def _on_server(self, *, create: bool) -> None:
        """Drop (and create) the database from a maintenance database of the same server.

        A maintenance database that cannot be used (it does not exist, the
        server refuses it) makes the next one be tried; a server that cannot be
        reached at all fails at once.
        """
        from reinhardt_db.backends._pools import failing_fast

        settings = self.db.settings
        candidates = self.maintenance_databases
        for index, maintenance in enumerate(candidates):
            url = settings.parsed.with_database(maintenance).render(hide_password=False)
            server = type(self.db)(
                f"{self.db.alias}:{maintenance}",
                settings.model_copy(update={"url": url, "test": None}),
                self.db._backend,
            )
            try:
                with failing_fast():
                    await server.server_version()  # connects: the features are the server's
                    statements = self.drop_sql(server.features)
                    if create:
                        statements += self.create_sql()
                    for sql in statements:
                        await server.execute(sql)
                return
            except exc.DatabaseUnavailable:
                raise
            except exc.OperationalError:
                if index == len(candidates) - 1:
                    raise
            finally:
                await server.close()
