"""A replica that cannot be connected to is skipped at once and used again once it answers.

The replica alias ``flaky`` points at a TCP proxy that starts closed (a refused
port) in front of the replica database on PostgreSQL and MariaDB, and at a
file in a folder that does not exist yet on SQLite. Reads are bounded far
below ``acquire_timeout`` (30 s): skipping it must not wait out retries.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from reinhardt_db import exceptions as exc
from reinhardt_db.backends import connections
from reinhardt_db.conf import parse_database_url
from reinhardt_db.models.schema import create_tables, drop_tables
from reinhardt_db.routers import PrimaryReplicaRouter
from reinhardt_db.testing import capture_queries

from ._models import ALL, Author
from ._proxy import Stall, TcpProxy
from .conftest import REPLICA, Configure

FLAKY = "flaky"
BOUND = 3.0  # seconds; acquire_timeout is 30


@dataclass
class Flaky:
    """The flaky replica: its URL, and how to bring it up."""

    url: str
    proxy: TcpProxy | None
    folder: str | None

    async def come_up(self) -> None:
        if self.proxy is not None:
            await self.proxy.start()
        else:
            assert self.folder is not None
            os.makedirs(self.folder)
            await create_tables(ALL, using=FLAKY)
            await Author.objects.using(FLAKY).create(name="on-flaky")


@pytest.fixture
async def flaky(
    backend_name: str, replica_urls: dict[str, str], tmp_path: Any
) -> AsyncIterator[Flaky]:
    if backend_name == "sqlite":
        folder = str(tmp_path / "not-yet")
        yield Flaky(f"sqlite:///{folder}/flaky.sqlite3", None, folder)
        return
    parsed = parse_database_url(replica_urls[backend_name])
    assert parsed.host is not None and parsed.port is not None
    proxy = TcpProxy(parsed.host, parsed.port)
    url = dataclasses.replace(parsed, host="127.0.0.1", port=proxy.port, query=dict(parsed.query))
    try:
        yield Flaky(url.render(hide_password=False), proxy, None)
    finally:
        await proxy.stop()


def flaky_settings(url: str) -> dict[str, Any]:
    return {"url": url, "pool": {"acquire_timeout": 30, "connect_timeout": 10}}


async def test_a_down_replica_is_skipped_at_once_for_the_next(
    aliases: Configure, flaky: Flaky
) -> None:
    pr = PrimaryReplicaRouter(replicas=[FLAKY, REPLICA], backoff=0.3)
    await aliases(routers=[pr], extra={FLAKY: flaky_settings(flaky.url)})
    await Author.objects.using(REPLICA).create(name="on-replica")
    with capture_queries() as reads:
        async with asyncio.timeout(BOUND):
            assert [a.name for a in await Author.objects.all()] == ["on-replica"]
            assert await Author.objects.count() == 1
    assert [q.alias for q in reads] == [REPLICA, REPLICA]
    assert pr.is_down(FLAKY)

    await flaky.come_up()
    await asyncio.sleep(0.35)  # the back-off ends
    with capture_queries() as later:
        async with asyncio.timeout(BOUND):
            for _ in range(4):
                await Author.objects.all()
    assert [q.alias for q in later].count(FLAKY) == 2, later.describe()
    assert not pr.is_down(FLAKY)


async def test_with_every_replica_down_reads_go_to_the_primary(
    aliases: Configure, flaky: Flaky
) -> None:
    pr = PrimaryReplicaRouter(replicas=[FLAKY])  # the default back-off: 5 s
    await aliases(routers=[pr], extra={FLAKY: flaky_settings(flaky.url)})
    await Author.objects.create(name="on-primary")
    # iterator() opens its connection on the first fetch: it fails over the same way.
    async with asyncio.timeout(BOUND):
        assert [a.name async for a in Author.objects.iterator()] == ["on-primary"]
    with capture_queries() as reads:
        async with asyncio.timeout(BOUND):
            for _ in range(3):
                assert [a.name for a in await Author.objects.all()] == ["on-primary"]
    assert [q.alias for q in reads] == ["default"] * 3
    assert pr.is_down(FLAKY)
    # Marked down: the later reads did not even try to connect.
    assert connections[FLAKY].pool.stats().connect_errors == 1


@pytest.mark.backends("postgresql", "mysql")
async def test_a_hung_replica_costs_one_connect_timeout_then_is_skipped(
    aliases: Configure, backend_url: str
) -> None:
    stall = Stall()
    await stall.start()
    try:
        parsed = parse_database_url(backend_url)
        url = dataclasses.replace(parsed, host="127.0.0.1", port=stall.port, query={})
        hung = {"url": url.render(hide_password=False),
                "pool": {"acquire_timeout": 30, "connect_timeout": 0.5}}
        pr = PrimaryReplicaRouter(replicas=[FLAKY])
        await aliases(routers=[pr], extra={FLAKY: hung})
        await Author.objects.create(name="on-primary")
        async with asyncio.timeout(BOUND):
            assert [a.name for a in await Author.objects.all()] == ["on-primary"]
        assert pr.is_down(FLAKY)
    finally:
        await stall.stop()


async def test_an_error_after_connecting_is_raised_not_failed_over(aliases: Configure) -> None:
    pr = PrimaryReplicaRouter(replicas=[REPLICA])
    await aliases(routers=[pr])
    await drop_tables(ALL, using=REPLICA)
    with pytest.raises(exc.DatabaseError) as info:
        await Author.objects.count()  # the replica answers, but has no table
    assert not isinstance(info.value, exc.DatabaseUnavailable)
    assert not pr.is_down(REPLICA)
