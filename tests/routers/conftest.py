"""Two databases per backend for the routing tests.

``aliases`` configures ``default`` (the primary) and ``replica`` on the
backend under test: two SQLite files, or two databases on the PostgreSQL /
MariaDB server (the worker's test database and ``<it>_replica``, created once
per session). ``await aliases(routers=[...], extra={...})`` configures them
with those routers (and any extra aliases) and creates the tables of the
routing test models in both databases; everything is dropped after the test.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import asyncpg
import pytest

import reinhardt_db
from reinhardt_db.conf import parse_database_url, reset_settings
from reinhardt_db.models.schema import create_tables, drop_tables

from .._servers import SERVER_URLS, TestServers, _mysql_admin, _pg_admin, run
from ._models import ALL

REPLICA = "replica"


async def _create(vendor: str, name: str, drop_only: bool = False) -> None:
    for attempt in (1, 2, 3):
        try:
            return await _create_once(vendor, SERVER_URLS[vendor], name, drop_only)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            # Another suite on the shared server may terminate sessions; try again.
            if attempt == 3:
                raise


async def _create_once(vendor: str, url: str, name: str, drop_only: bool) -> None:
    if vendor == "postgresql":
        conn = await _pg_admin(url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if not drop_only:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
    elif vendor == "mysql":
        conn2 = await _mysql_admin(url)
        try:
            async with conn2.cursor() as cur:
                with warnings.catch_warnings():
                    # "DROP DATABASE IF EXISTS" of a missing database is a server warning.
                    warnings.simplefilter("ignore")
                    await cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
                if not drop_only:
                    await cur.execute(
                        f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 "
                        "COLLATE utf8mb4_unicode_ci"
                    )
        finally:
            conn2.close()


@pytest.fixture(scope="session")
def replica_urls(test_servers: TestServers) -> Iterator[dict[str, str]]:
    """The second database of each reachable backend."""
    name = f"{test_servers.db_name}_{REPLICA}"
    urls = {"sqlite": f"sqlite:///{test_servers.tmp_dir}/{name}.sqlite3"}
    for vendor in ("postgresql", "mysql"):
        if vendor in test_servers.urls:
            run(_create(vendor, name))
            parsed = parse_database_url(test_servers.urls[vendor])
            urls[vendor] = parsed.with_database(name).render(hide_password=False)
    try:
        yield urls
    finally:
        for vendor in ("postgresql", "mysql"):
            if vendor in urls:
                run(_create(vendor, name, drop_only=True))


Configure = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
async def aliases(
    backend_url: str, backend_name: str, replica_urls: dict[str, str]
) -> AsyncIterator[Configure]:
    """``await aliases(routers=[...], extra={"r2": url})`` -> the configured URLs by alias."""
    configured: dict[str, str] = {}

    async def configure(
        routers: list[Any] | None = None,
        extra: dict[str, Any] | None = None,
        tables: bool = True,
    ) -> dict[str, str]:
        databases: dict[str, Any] = {"default": backend_url, REPLICA: replica_urls[backend_name]}
        databases.update(extra or {})
        reinhardt_db.configure(databases=databases, routers=routers or [])
        configured.update({"default": backend_url, REPLICA: replica_urls[backend_name]})
        if tables:
            for alias in ("default", REPLICA):
                await drop_tables(ALL, using=alias, if_exists=True)
                await create_tables(ALL, using=alias)
        return configured

    try:
        yield configure
    finally:
        if configured:
            for alias in ("default", REPLICA):
                try:
                    await drop_tables(ALL, using=alias, if_exists=True)
                except Exception:
                    pass
        await reinhardt_db.close_all()
        reset_settings()
        for url in configured.values():
            if url.startswith("sqlite:///"):
                path = url.removeprefix("sqlite:///")
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(path + suffix):
                        os.remove(path + suffix)
