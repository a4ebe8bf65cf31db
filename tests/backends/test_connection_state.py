"""The connection a task holds: sharing with child tasks, and never past its block."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.backends import ConnectionState, Database
from reinhardt_db.exceptions import OperationalError, TransactionManagementError
from reinhardt_db.pool import InvalidConnection, PoolEvent


class Tally(models.Model):
    n = models.IntegerField(default=0)

    class Meta:
        app_label = "tests_state"


PID_SQL = {
    "postgresql": "SELECT pg_backend_pid()",
    "mysql": "SELECT CONNECTION_ID()",
}


def _acquired(db: Database) -> list[str]:
    """Ids of the connections the pool hands out from now on."""
    ids: list[str] = []

    def listen(event: PoolEvent) -> None:
        if event.type == "ConnectionAcquired":
            ids.append(event.connection_id)

    db.pool.add_listener(listen)
    return ids


async def _server_pid(db: Database) -> Any:
    sql = PID_SQL.get(db.vendor)
    return None if sql is None else await db.fetch_val(sql)


async def test_state_describes_the_held_connection(backend: Database) -> None:
    async with backend.connection() as state:
        assert isinstance(state, ConnectionState)
        assert backend.bound_connection() is state
        assert not state.released and not state.busy and not state.streaming
        assert state.atomic_blocks == []
        async with backend.transaction() as inner:
            assert inner is state and state.in_transaction
        assert not state.in_transaction
    assert state.released
    assert backend.bound_connection() is None
    # The pool's connection refuses use once released: nothing reaches the driver.
    with pytest.raises(InvalidConnection):
        state.raw  # noqa: B018


async def test_task_outliving_its_connection_block_borrows_its_own(
    backend: Database, make_tables: Any
) -> None:
    """A task spawned in a block that runs after it never touches the released connection."""
    await make_tables(Tally)
    go = asyncio.Event()

    async def child() -> tuple[int, Any, ConnectionState | None]:
        await go.wait()
        value = await backend.fetch_val("SELECT 7")
        count = await Tally.objects.count()
        assert count == 0
        return value, await _server_pid(backend), backend.bound_connection()

    await backend.fetch_val("SELECT 1")  # open the pool in this loop
    acquired = _acquired(backend)
    async with backend.connection() as state:
        block_conn = state.conn.id
        task = asyncio.create_task(child())
    # The released connection goes to the next borrower (the pool hands out the
    # most recently returned one): this block now holds it.
    async with backend.connection() as holder:
        assert holder.conn.id == block_conn
        holder_pid = await _server_pid(backend)
        acquired.clear()
        go.set()
        async with asyncio.timeout(10):
            value, child_pid, child_bound = await task
        assert value == 7 and child_bound is None
        # The child's statements borrowed pooled connections, none of them the held one.
        assert acquired and block_conn not in acquired
        if holder_pid is not None:
            assert child_pid != holder_pid
        assert not holder.busy and await _server_pid(backend) == holder_pid


async def test_task_outliving_its_transaction_runs_in_autocommit(
    backend: Database, make_tables: Any
) -> None:
    """A task spawned in a transaction that runs after it gets a pooled connection of its own."""
    await make_tables(Tally)
    go = asyncio.Event()

    async def child() -> tuple[Any, ConnectionState | None]:
        await go.wait()
        await Tally.objects.create(n=1)
        return await _server_pid(backend), backend.bound_connection()

    async def child_with_its_own_transaction() -> Any:
        await go.wait()
        async with backend.transaction():
            return await backend.fetch_val("SELECT 2")

    async with backend.transaction() as state:
        block_pid = await _server_pid(backend)
        task = asyncio.create_task(child())
        own = asyncio.create_task(child_with_its_own_transaction())
    assert state.released
    # Hold a connection, so the child cannot be handed the block's one by chance.
    async with backend.connection():
        holder_pid = await _server_pid(backend)
        go.set()
        async with asyncio.timeout(10):
            child_pid, child_bound = await task
            assert await own == 2
        assert child_bound is None
        if holder_pid is not None:
            assert child_pid != holder_pid
    if block_pid is not None:
        assert holder_pid == block_pid  # the block's connection went back to the pool
    # Autocommit: its row is there for everyone at once.
    assert await Tally.objects.filter(n=1).count() == 1


async def test_task_spawned_in_a_transaction_of_a_connection_block(backend: Database) -> None:
    """Within the outer connection() block, after the inner transaction ended: its own connection.

    It never runs on the block's connection, which may be in a later transaction of
    the parent by then.
    """
    go = asyncio.Event()

    async def child() -> Any:
        await go.wait()
        return await _server_pid(backend), backend.bound_connection()

    async with backend.connection() as state:
        async with backend.transaction():
            task = asyncio.create_task(child())
        async with backend.transaction():
            parent_pid = await _server_pid(backend)
            go.set()
            async with asyncio.timeout(10):
                child_pid, child_bound = await task
            assert child_bound is None
            if parent_pid is not None:
                assert child_pid != parent_pid
        # The connection itself is untouched.
        assert not state.invalid and await backend.fetch_val("SELECT 3") == 3


async def test_children_run_inside_the_block_share_its_connection(backend: Database) -> None:
    async with backend.connection():
        parent_pid = await _server_pid(backend)

        async def child() -> Any:
            return await _server_pid(backend), backend.bound_connection()

        pid, bound = await asyncio.create_task(child())
        assert bound is backend.bound_connection()
        assert pid == parent_pid


async def test_gather_inside_a_block_runs_one_statement_at_a_time(
    backend: Database, make_tables: Any
) -> None:
    await make_tables(Tally)
    await Tally.objects.bulk_create([Tally(n=i) for i in range(5)])
    for block in (backend.connection, backend.transaction):
        async with block() as state:
            results = await asyncio.gather(
                Tally.objects.count(),
                Tally.objects.filter(n__gte=2).count(),
                return_exceptions=True,
            )
            errors = [r for r in results if isinstance(r, BaseException)]
            assert len(errors) == 1, results
            assert isinstance(errors[0], TransactionManagementError)
            assert "busy with another statement" in str(errors[0])
            # The refused statement never reached the connection: it is fine.
            assert not state.invalid
            before = await Tally.objects.count()
            await Tally.objects.create(n=10)
            assert await Tally.objects.count() == before + 1
    assert await Tally.objects.count() == 7


async def test_block_ending_while_a_child_is_mid_statement_gives_nothing_back(
    backend: Database,
) -> None:
    sleep = {
        "postgresql": "SELECT pg_sleep(0.3)",
        "mysql": "SELECT SLEEP(0.3)",
        "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 2000000) SELECT count(*) FROM c",
    }[backend.vendor]
    started = asyncio.Event()

    async def child() -> Any:
        started.set()
        return await backend.fetch_all(sleep)

    async with backend.connection() as state:
        task = asyncio.create_task(child())
        await started.wait()
        await asyncio.sleep(0)  # the child's statement is on the wire now
        assert state.busy
    # The connection was closed rather than pooled mid-statement.
    assert state.invalid
    async with asyncio.timeout(10):
        (outcome,) = await asyncio.gather(task, return_exceptions=True)
    # Its statement failed with the connection (SQLite's thread finishes it first).
    assert isinstance(outcome, (list, OperationalError)), outcome
    assert await backend.fetch_val("SELECT 5") == 5
    await asyncio.sleep(0)
    assert backend.pool.stats().in_use == 0


async def test_raw_driver_connection_taken_from_state_marks_session_dirty(
    backend: Database,
) -> None:
    resets: list[PoolEvent] = []
    await backend.fetch_val("SELECT 1")
    backend.pool.add_listener(lambda e: resets.append(e) if e.type == "ConnectionReset" else None)
    async with backend.connection():
        await backend.fetch_rows("SELECT 1")  # the ORM's own path: no reset needed
    assert resets == []
    async with backend.connection() as state:
        assert state.raw is not None
    assert len(resets) == 1
