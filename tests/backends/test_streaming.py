"""Streaming reads (``iterator()``, ``stream_rows``) on a task's connection and on their own."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.exceptions import TransactionManagementError


class Entry(models.Model):
    n = models.IntegerField(default=0)
    note = models.CharField(max_length=20, default="")

    class Meta:
        app_label = "tests_streaming"


ROWS = 25


@pytest.fixture
async def entries(make_tables: Any) -> list[Entry]:
    await make_tables(Entry)
    return await Entry.objects.bulk_create([Entry(n=i) for i in range(ROWS)])


async def _leftovers(db: Database) -> dict[str, Any]:
    """What a task's connection carries that a stream could have left: cursors, a transaction."""
    state = db.bound_connection()
    assert state is not None
    if db.vendor == "postgresql":
        # Named portals: DECLAREd cursors and asyncpg's (the running query's is unnamed).
        cursors = await db.fetch_val("SELECT count(*) FROM pg_cursors WHERE name <> ''")
        return {"cursors": cursors, "in_transaction": state.raw.is_in_transaction()}
    if db.vendor == "mysql":
        return {"cursors": 0, "in_transaction": bool(await db.fetch_val("SELECT @@in_transaction"))}
    return {"cursors": 0, "in_transaction": state.raw.in_transaction}


CLEAN = {"cursors": 0, "in_transaction": False}


async def _in_fresh_context(coro: Any) -> Any:
    """Run ``coro`` as a task with no bound connection (another connection from the pool)."""
    return await asyncio.create_task(coro, context=contextvars.Context())


@pytest.mark.parametrize("block", ["connection", "transaction"])
async def test_iterate_and_save_on_a_bound_connection(
    backend: Database, entries: list[Entry], block: str
) -> None:
    chunks: list[int] = []
    async with getattr(backend, block)() as state:
        async for entry in Entry.objects.order_by("id").iterator(chunk_size=4):
            chunks.append(entry.n)
            entry.note = f"seen {entry.n}"
            await entry.save(update_fields=["note"])
            if entry.n == 0 and block == "connection":
                # Outside a transaction each save commits at once, stream or not:
                # another connection already sees it.
                fresh = await _in_fresh_context(Entry.objects.get(pk=entry.pk))
                assert fresh.note == "seen 0"
        assert not state.streaming
    assert chunks == list(range(ROWS))
    notes = await Entry.objects.order_by("id").values_list("note", flat=True)
    assert notes == [f"seen {i}" for i in range(ROWS)]
    async with backend.connection() as again:
        assert again.conn.id == state.conn.id
        assert await _leftovers(backend) == CLEAN


async def test_writes_inside_a_stream_are_never_undone(backend: Database, entries: list[Entry]) -> None:
    """Saves made while a stream is open stay, even when the stream is abandoned."""
    async with backend.connection():
        async with contextlib.aclosing(Entry.objects.order_by("id").iterator(chunk_size=3)) as it:
            async for entry in it:
                entry.n += 1000
                await entry.save(update_fields=["n"])
                if entry.n >= 1004:
                    break
    assert await Entry.objects.filter(n__gte=1000).count() == 5


async def test_abandoned_iterator_leaves_the_connection_clean(
    backend: Database, entries: list[Entry]
) -> None:
    async with backend.connection() as state:
        async for entry in Entry.objects.order_by("id").iterator(chunk_size=3):
            entry.n = -1
            await entry.save(update_fields=["n"])
            break
        # MySQL cannot run a statement while rows are unread: the rest are read
        # first, never a hang.
        async with asyncio.timeout(10):
            assert await Entry.objects.filter(n=-1).count() == 1
        # Closed explicitly: the next statement closes the cursor.
        it = Entry.objects.order_by("id").iterator(chunk_size=3)
        assert (await anext(it)).n == -1
        await it.aclose()
        assert await Entry.objects.count() == ROWS
        if backend.vendor == "postgresql":
            assert await backend.fetch_val("SELECT count(*) FROM pg_cursors WHERE name <> ''") == 0
    assert not state.streaming
    async with backend.connection() as again:
        assert again.conn.id == state.conn.id
        assert await _leftovers(backend) == CLEAN
        assert await Entry.objects.count() == ROWS


@pytest.mark.parametrize("block", ["connection", "transaction"])
async def test_stream_still_open_when_its_block_ends(
    backend: Database, entries: list[Entry], block: str
) -> None:
    """The block closes it; reading it later is refused, and never touches the next holder."""
    async with getattr(backend, block)() as state:
        it = Entry.objects.order_by("id").iterator(chunk_size=1)
        first = await anext(it)
        assert state.streaming
    async with backend.transaction() as holder:
        if not state.invalid:  # MySQL drops a connection with rows unread
            assert holder.conn.id == state.conn.id
        await Entry.objects.filter(pk=first.pk).update(n=500)
        with pytest.raises(TransactionManagementError, match="block that has ended"):
            await anext(it)
        await it.aclose()
        assert await _leftovers(backend) == {"cursors": 0, "in_transaction": True}
    # The holder's transaction committed: the old stream rolled nothing back.
    assert (await Entry.objects.get(pk=first.pk)).n == 500


@pytest.mark.backends("postgresql")
async def test_stream_opened_in_a_transaction_ends_with_it(
    backend: Database, entries: list[Entry]
) -> None:
    async with backend.connection():
        async with backend.transaction():
            it = Entry.objects.order_by("id").iterator(chunk_size=1)
            await anext(it)
        with pytest.raises(TransactionManagementError, match=r"transaction\(\) block"):
            await anext(it)
        await it.aclose()
        assert await _leftovers(backend) == CLEAN


async def test_two_streams_on_one_connection(backend: Database, entries: list[Entry]) -> None:
    async with backend.connection():
        outer = Entry.objects.order_by("id").iterator(chunk_size=4)
        pairs = []
        async for a in outer:
            if a.n >= 3:
                break
            async for b in Entry.objects.filter(n__lt=2).order_by("id").iterator(chunk_size=1):
                pairs.append((a.n, b.n))
        await outer.aclose()
        assert pairs == [(a, b) for a in range(3) for b in range(2)]
        assert await _leftovers(backend) == CLEAN


async def test_stream_on_its_own_connection_gives_it_back(
    backend: Database, entries: list[Entry]
) -> None:
    it = Entry.objects.order_by("id").iterator(chunk_size=4)
    assert (await anext(it)).n == 0
    assert backend.pool.stats().in_use == 1
    await it.aclose()
    assert backend.pool.stats().in_use == 0
    assert [e.n async for e in Entry.objects.order_by("id").iterator(chunk_size=7)] == list(range(ROWS))
    assert backend.pool.stats().in_use == 0
    async with backend.connection():
        assert await _leftovers(backend) == CLEAN


async def test_fetch_of_a_stream_is_a_statement(backend: Database, entries: list[Entry]) -> None:
    """A statement from another task during a fetch is refused, not interleaved."""
    async with backend.connection() as state:
        it = Entry.objects.order_by("id").iterator(chunk_size=2)
        results = await asyncio.gather(anext(it), Entry.objects.count(), return_exceptions=True)
        assert isinstance(results[0], Entry)
        assert isinstance(results[1], TransactionManagementError)
        await it.aclose()
        assert not state.invalid
        assert await Entry.objects.count() == ROWS
