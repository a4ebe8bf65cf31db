"""Item 2: the block's connection is the task's; child tasks share it while it is open.

- statements of children (gather, TaskGroup, create_task) run inside the
  block's transaction, one at a time;
- a statement started while another of the block is in flight gets
  TransactionManagementError, never interleaved statements;
- a child that runs after the block ended gets a pooled connection of its own,
  in autocommit.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from reinhardt_db import transaction
from reinhardt_db.backends import Database
from reinhardt_db.exceptions import TransactionManagementError

from ._models import PID_SQL, Entry

pytestmark = pytest.mark.usefixtures("tables")


class Boom(Exception):
    pass


async def _pid(db: Database) -> Any:
    sql = PID_SQL.get(db.vendor)
    return None if sql is None else await db.fetch_val(sql)


async def _create_after(delay: float, n: int) -> int:
    await asyncio.sleep(delay)
    await Entry.objects.create(n=n)
    return n


async def test_children_one_after_another_run_in_the_transaction(backend: Database) -> None:
    """gather / TaskGroup / create_task whose statements do not overlap: all in the block."""
    with pytest.raises(Boom):
        async with transaction.atomic():
            block_pid = await _pid(backend)
            pids = await asyncio.gather(
                _create_after(0.0, 1), _create_after(0.2, 2)
            )
            assert pids == [1, 2]
            async with asyncio.TaskGroup() as group:
                group.create_task(_create_after(0.0, 3))
                group.create_task(_create_after(0.2, 4))
            child = asyncio.create_task(_create_after(0.0, 5))
            await child

            async def child_pid() -> Any:
                return await _pid(backend), transaction.in_atomic_block()

            assert await asyncio.create_task(child_pid()) == (block_pid, True)
            assert await Entry.objects.count() == 5
            raise Boom
    # Everything the children did was part of the transaction, so rolled back with it.
    assert await Entry.objects.count() == 0


async def test_overlapping_statements_of_children_are_refused(backend: Database) -> None:
    async with transaction.atomic() as state:
        results = await asyncio.gather(
            Entry.objects.create(n=1), Entry.objects.create(n=2), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        assert len(errors) == 1, results
        assert isinstance(errors[0], TransactionManagementError)
        assert "busy with another statement" in str(errors[0])
        # The refused statement never reached the connection.
        assert not state.invalid
        await Entry.objects.create(n=3)
    assert await Entry.objects.count() == 2


async def test_overlapping_nested_blocks_of_children_roll_the_transaction_back(
    backend: Database,
) -> None:
    """Two children's savepoints cannot end out of order: the transaction is given up."""
    first_in = asyncio.Event()
    second_in = asyncio.Event()

    async def first() -> None:
        async with transaction.atomic():
            first_in.set()
            await second_in.wait()

    async def second() -> None:
        await first_in.wait()
        async with transaction.atomic():
            second_in.set()
            await asyncio.sleep(0.1)

    with pytest.raises(ExceptionGroup) as caught:
        async with transaction.atomic():
            await Entry.objects.create(n=1)
            async with asyncio.TaskGroup() as group:
                group.create_task(first())
                group.create_task(second())
    assert caught.group_contains(TransactionManagementError, match="ended out of order")
    assert transaction.get_state() == transaction.ROLLED_BACK
    assert await Entry.objects.count() == 0


async def test_child_running_after_the_block_gets_its_own_autocommit_connection(
    backend: Database,
) -> None:
    go = asyncio.Event()

    async def late_child() -> tuple[Any, bool]:
        await go.wait()
        await Entry.objects.create(n=2)
        return await _pid(backend), transaction.in_atomic_block()

    with pytest.raises(Boom):
        async with transaction.atomic():
            await Entry.objects.create(n=1)
            task = asyncio.create_task(late_child())
            raise Boom
    async with backend.connection():
        # The task holds a connection now (the pool's most recent one, the
        # block's); the child gets none of it.
        holder_pid = await _pid(backend)
        go.set()
        async with asyncio.timeout(10):
            child_pid, in_block = await task
        assert in_block is False
        if holder_pid is not None:
            assert child_pid != holder_pid
    # The block's row was rolled back; the child's, in autocommit, stays.
    assert list(await Entry.objects.values_list("n", flat=True)) == [2]
    await asyncio.sleep(0)
    assert backend.pool.stats().in_use == 0


async def test_block_connection_is_used_by_raw_calls_too(backend: Database) -> None:
    async with transaction.atomic():
        orm_pid = await _pid(backend)
        await backend.execute(f"INSERT INTO {Entry._meta.db_table} (n) VALUES (%s)", [1])
        assert await Entry.objects.count() == 1
        assert await _pid(backend) == orm_pid
        transaction.set_rollback(True)
    assert await Entry.objects.count() == 0
