"""reinhardt_db: an async, Django-style ORM for SQLite, PostgreSQL and MySQL/MariaDB."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from reinhardt_db.apps import apps
from reinhardt_db.backends import connections
from reinhardt_db.conf import configure, get_settings
from reinhardt_db.models.schema import create_tables, drop_tables
from reinhardt_db.routers import router

__all__ = [
    "close_all",
    "configure",
    "connections",
    "create_tables",
    "drop_tables",
    "get_settings",
    "lifespan",
    "setup",
]

__version__ = "0.1.0"


async def close_all() -> None:
    """Close every connection pool opened in the running event loop."""
    await connections.close_all()


def setup() -> None:
    """Import the installed apps (and their ``models`` modules) and the routers.

    Raise ``ImproperlyConfigured`` naming the first ``installed_apps`` or
    ``routers`` entry that does not import, with a did-you-mean hint.
    ``lifespan()`` and ``reinhardt check`` call it; scripts and workers that do
    not use ``lifespan()`` call it once after ``configure()``, as Django code
    calls ``django.setup()``. Calling it again is cheap.
    """
    apps.populate()
    router.reset()
    router.routers  # noqa: B018 - loads them: a bad entry fails here, at start-up


@contextlib.asynccontextmanager
async def lifespan(*, check: bool = True) -> AsyncIterator[None]:
    """Open the databases for the block and close every pool after it (web app lifespans).

    On entry, ``setup()`` imports the installed apps and routers. With
    ``check=True`` every configured database is also connected once, so a
    wrong app path or URL fails at start-up rather than on the first request.
    """
    setup()
    try:
        if check:
            for db in connections.all():
                async with db.connection():
                    pass
        yield
    finally:
        await close_all()
