"""Test databases on the real servers: created per xdist worker, dropped afterwards.

Server URLs come from ``REINHARDT_TEST_POSTGRES_URL`` / ``REINHARDT_TEST_MYSQL_URL``
(defaults: the local servers this project's machines run). Each worker gets
``test_reinhardt[_<suffix>]_<worker>``; ``REINHARDT_TEST_DB_SUFFIX`` keeps
concurrent runs on one machine apart.
"""

from __future__ import annotations

import asyncio
import os
import re
import warnings
from dataclasses import dataclass, field

import aiomysql
import asyncpg

from reinhardt_db.conf import parse_database_url

VENDORS = ("sqlite", "postgresql", "mysql")

POSTGRES_URL = os.environ.get(
    "REINHARDT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
MYSQL_URL = os.environ.get("REINHARDT_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
SERVER_URLS = {"postgresql": POSTGRES_URL, "mysql": MYSQL_URL}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def test_database_name(worker: str) -> str:
    suffix = os.environ.get("REINHARDT_TEST_DB_SUFFIX", "")
    name = "test_reinhardt" + (f"_{suffix}" if suffix else "") + f"_{worker}"
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise ValueError(f"unsafe test database name {name!r}")
    return name


def server_label(vendor: str) -> str:
    url = parse_database_url(SERVER_URLS[vendor])
    return f"{vendor} server at {url.host}:{url.port}"


@dataclass
class TestServers:
    """What the session found: a URL per reachable vendor, an error per unreachable one."""

    worker: str
    tmp_dir: str
    urls: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def db_name(self) -> str:
        return test_database_name(self.worker)


async def _pg_admin(url: str) -> asyncpg.Connection:
    parsed = parse_database_url(url)
    conn: asyncpg.Connection = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.user,
        password=parsed.password, database=parsed.database, timeout=5,
    )
    return conn


async def _mysql_admin(url: str) -> aiomysql.Connection:
    parsed = parse_database_url(url)
    conn: aiomysql.Connection = await aiomysql.connect(
        host=parsed.host, port=parsed.port or 3306, user=parsed.user,
        password=parsed.password or "", autocommit=True, connect_timeout=5,
    )
    return conn


async def create_databases(servers: TestServers) -> None:
    # "DROP DATABASE IF EXISTS" of a missing database is a server warning, not news.
    warnings.filterwarnings("ignore", message=".*database doesn't exist", category=Warning)
    name = servers.db_name
    servers.urls["sqlite"] = f"sqlite:///{servers.tmp_dir}/{name}.sqlite3"
    try:
        conn = await _pg_admin(POSTGRES_URL)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        servers.urls["postgresql"] = str(parse_database_url(POSTGRES_URL).with_database(name).render(hide_password=False))
    except Exception as error:
        servers.errors["postgresql"] = f"{server_label('postgresql')} unreachable: {error!r}"
    try:
        conn2 = await _mysql_admin(MYSQL_URL)
        try:
            async with conn2.cursor() as cur:
                await cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
                await cur.execute(
                    f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                )
        finally:
            conn2.close()
        servers.urls["mysql"] = str(parse_database_url(MYSQL_URL).with_database(name).render(hide_password=False))
    except Exception as error:
        servers.errors["mysql"] = f"{server_label('mysql')} unreachable: {error!r}"


async def drop_databases(servers: TestServers) -> None:
    name = servers.db_name
    if "postgresql" in servers.urls:
        conn = await _pg_admin(POSTGRES_URL)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
    if "mysql" in servers.urls:
        conn2 = await _mysql_admin(MYSQL_URL)
        try:
            async with conn2.cursor() as cur:
                await cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            conn2.close()


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]
