"""reinhardt_db: an async, Django-style ORM for SQLite, PostgreSQL and MySQL/MariaDB."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from reinhardt_db.backends import connections
from reinhardt_db.conf import configure, get_settings
from reinhardt_db.models.schema import create_tables, drop_tables

__all__ = [
    "close_all",
    "configure",
    "connections",
    "create_tables",
    "drop_tables",
    "get_settings",
    "lifespan",
]

__version__ = "0.1.0"


async def close_all() -> None:
    """Close every connection pool opened in the running event loop."""
    await connections.close_all()


@contextlib.asynccontextmanager
async def lifespan(*, check: bool = True) -> AsyncIterator[None]:
    """Open the databases for the block and close every pool after it (web app lifespans).

    With ``check=True`` every configured database is connected once on entry,
    so a wrong URL fails at start-up rather than on the first request.
    """
    try:
        if check:
            for db in connections.all():
                async with db.connection():
                    pass
        yield
    finally:
        await close_all()
