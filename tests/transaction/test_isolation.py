"""Isolation levels and read-only blocks, read back from the server and seen from a second session.

PostgreSQL runs READ UNCOMMITTED as READ COMMITTED (it never shows uncommitted
rows); SQLite runs every transaction SERIALIZABLE: ``BEGIN IMMEDIATE`` for a
writing block, ``BEGIN`` with ``PRAGMA query_only`` for a read-only one.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable
from typing import Any, TypeVar

import pytest

from reinhardt_db import transaction
from reinhardt_db.backends import Database
from reinhardt_db.exceptions import DatabaseError
from reinhardt_db.testing import capture_queries

from ._models import Entry

pytestmark = pytest.mark.usefixtures("tables")
T = TypeVar("T")
LEVELS = ["read uncommitted", "read committed", "repeatable read", "serializable"]


async def elsewhere(awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` in a task of its own context: another connection, outside the block."""
    async def run() -> T:
        return await awaitable

    return await asyncio.create_task(run(), context=contextvars.Context())


async def _server_level(db: Database) -> str:
    if db.vendor == "postgresql":
        return str(await db.fetch_val("SHOW transaction_isolation"))
    # InnoDB lists transactions in INFORMATION_SCHEMA.INNODB_TRX from a cache
    # that is refreshed only when nobody has read it for 0.1 s, so a read may
    # still show this connection's previous transaction. A read-only
    # transaction is not always listed (READ COMMITTED closes its read view
    # after each statement): a write makes it a read-write one, which is, with
    # an id no other transaction has. Poll (slower than the cache's idle time,
    # bounded by a timeout) until a transaction not seen before is listed.
    marker = await Entry.objects.create(n=-1)
    try:
        async with asyncio.timeout(10):
            while True:
                await asyncio.sleep(0.15)
                row = await db.fetch_one(
                    "SELECT trx_id, trx_isolation_level FROM information_schema.innodb_trx "
                    "WHERE trx_mysql_thread_id = CONNECTION_ID()"
                )
                if row is not None and row[0] not in _SEEN_TRX:
                    _SEEN_TRX.add(row[0])
                    return str(row[1]).lower()
    finally:
        await marker.delete()


#: InnoDB transaction ids already read back (a listing with one of them is stale).
_SEEN_TRX: set[Any] = set()


@pytest.mark.backends("postgresql", "mysql")
@pytest.mark.parametrize("level", LEVELS)
async def test_isolation_level_is_the_servers_inside_the_block(
    backend: Database, level: str
) -> None:
    async with transaction.atomic(isolation=level):
        assert await _server_level(backend) == level
    # Only that transaction: the next one has the server's default again.
    default = "read committed" if backend.vendor == "postgresql" else "repeatable read"
    async with transaction.atomic():
        assert await _server_level(backend) == default


async def _insert_uncommitted_and_look(level: str) -> tuple[int, int]:
    """A second session inserts without committing; count from a block at ``level``."""
    inserted = asyncio.Event()
    look_done = asyncio.Event()

    async def writer() -> None:
        async with transaction.atomic():
            await Entry.objects.create(n=1)
            inserted.set()
            await look_done.wait()
            transaction.set_rollback(True)

    task = asyncio.create_task(writer(), context=contextvars.Context())
    try:
        await inserted.wait()
        async with transaction.atomic(isolation=level):
            seen = await Entry.objects.count()
        look_done.set()
    finally:
        look_done.set()
        await task
    return seen, await Entry.objects.count()


@pytest.mark.backends("postgresql", "mysql")
async def test_read_uncommitted_sees_dirty_rows_on_mariadb_never_on_postgresql(
    backend: Database,
) -> None:
    async with asyncio.timeout(20):
        seen, after = await _insert_uncommitted_and_look("read uncommitted")
        assert seen == (1 if backend.vendor == "mysql" else 0)
        assert after == 0
        seen, _ = await _insert_uncommitted_and_look("read committed")
        assert seen == 0


@pytest.mark.backends("postgresql", "mysql")
@pytest.mark.parametrize(("level", "sees_new_row"), [
    ("read committed", True), ("repeatable read", False),
])
async def test_rows_committed_by_another_session_during_the_block(
    backend: Database, level: str, sees_new_row: bool
) -> None:
    await Entry.objects.create(n=1)
    async with asyncio.timeout(20):
        async with transaction.atomic(isolation=level):
            assert await Entry.objects.filter(n__gte=0).count() == 1
            await elsewhere(Entry.objects.create(n=2))
            assert await Entry.objects.filter(n__gte=0).count() == (2 if sees_new_row else 1)
    assert await Entry.objects.count() == 2


@pytest.mark.backends("postgresql", "mysql")
async def test_serializable_reads_hold_off_writers_on_mariadb_snapshot_on_postgresql(
    backend: Database,
) -> None:
    """MariaDB's SERIALIZABLE reads take shared locks: a writer into what was read waits."""
    await Entry.objects.create(n=1)
    async with asyncio.timeout(20):
        async with transaction.atomic(isolation="serializable"):
            assert await Entry.objects.filter(n__gte=0).count() == 1
            writer = asyncio.create_task(
                Entry.objects.create(n=2), context=contextvars.Context()
            )
            done, _ = await asyncio.wait([writer], timeout=0.5)
            if backend.vendor == "mysql":
                assert not done  # waiting for the block's lock
            else:
                assert done  # PostgreSQL's serializable runs on a snapshot
            assert await Entry.objects.filter(n__gte=0).count() == 1
        await writer
    assert await Entry.objects.count() == 2


@pytest.mark.backends("postgresql")
async def test_serializable_refuses_write_skew_on_postgresql(backend: Database) -> None:
    await Entry.objects.bulk_create([Entry(n=1), Entry(n=2)])
    both_read = asyncio.Barrier(2)

    async def move(source: int, target: int) -> None:
        async with transaction.atomic(isolation="serializable"):
            await Entry.objects.filter(n=source).count()
            await both_read.wait()
            await Entry.objects.create(n=target)

    async with asyncio.timeout(20):
        results = await asyncio.gather(
            asyncio.create_task(move(1, 10), context=contextvars.Context()),
            asyncio.create_task(move(2, 20), context=contextvars.Context()),
            return_exceptions=True,
        )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1, results
    assert isinstance(failures[0], DatabaseError)
    assert getattr(failures[0], "sqlstate", None) == "40001"
    assert await Entry.objects.count() == 3


async def test_read_only_block_refuses_writes(backend: Database) -> None:
    await Entry.objects.create(n=1)
    async with backend.connection():
        with pytest.raises(DatabaseError):
            async with transaction.atomic(read_only=True):
                assert await Entry.objects.count() == 1
                await Entry.objects.create(n=2)
        # The same connection writes again once the block is over.
        await Entry.objects.create(n=3)
    assert sorted(await Entry.objects.values_list("n", flat=True)) == [1, 3]


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("level", [None, *LEVELS])
async def test_sqlite_takes_the_write_lock_up_front_at_every_level(
    backend: Database, level: str | None
) -> None:
    with capture_queries() as queries:
        async with transaction.atomic(isolation=level):
            await Entry.objects.create(n=1)
    assert queries.sql[0] == "BEGIN IMMEDIATE"
    assert queries.sql[-1] == "COMMIT"


@pytest.mark.backends("sqlite")
async def test_sqlite_read_only_is_query_only_for_the_block(backend: Database) -> None:
    async with backend.connection():
        with capture_queries() as queries:
            async with transaction.atomic(read_only=True):
                assert await backend.fetch_val("PRAGMA query_only") == 1
        assert queries.sql[:2] == ["BEGIN", "PRAGMA query_only = ON"]
        assert queries.sql[-2:] == ["COMMIT", "PRAGMA query_only = OFF"]
        assert await backend.fetch_val("PRAGMA query_only") == 0


@pytest.mark.backends("sqlite")
async def test_sqlite_second_writer_waits_for_the_first(backend: Database) -> None:
    """BEGIN IMMEDIATE: the second block waits for the lock instead of failing later."""
    order: list[str] = []
    first_in = asyncio.Event()

    async def first() -> None:
        async with transaction.atomic():
            first_in.set()
            await Entry.objects.create(n=1)
            await asyncio.sleep(0.2)
            order.append("first done")

    async def second() -> None:
        await first_in.wait()
        async with transaction.atomic():
            order.append("second in")
            await Entry.objects.create(n=2)

    async with asyncio.timeout(20):
        await asyncio.gather(
            asyncio.create_task(first(), context=contextvars.Context()),
            asyncio.create_task(second(), context=contextvars.Context()),
        )
    assert order == ["first done", "second in"]
    assert await Entry.objects.count() == 2

