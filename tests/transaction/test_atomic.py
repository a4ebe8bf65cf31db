"""Item 1: atomic() as a context manager and decorator, nesting, rollback flags, durable."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import pytest

from reinhardt_db import transaction
from reinhardt_db.backends import Database
from reinhardt_db.exceptions import IntegrityError, TransactionManagementError
from reinhardt_db.testing import capture_queries

from ._models import Account, Entry

pytestmark = pytest.mark.usefixtures("tables")


class Boom(Exception):
    pass


async def _ns() -> list[int]:
    return sorted(await Entry.objects.values_list("n", flat=True))


async def test_block_commits_or_rolls_back_everything(backend: Database) -> None:
    async with transaction.atomic():
        await Entry.objects.create(n=1)
        await Entry.objects.create(n=2)
    with pytest.raises(Boom):
        async with transaction.atomic():
            await Entry.objects.create(n=3)
            raise Boom
    assert await _ns() == [1, 2]


async def test_sql_of_a_block_and_a_nested_one(backend: Database) -> None:
    with capture_queries() as queries:
        async with transaction.atomic():
            await Entry.objects.create(n=1)
            async with transaction.atomic():
                await Entry.objects.create(n=2)
    sql = [s.split()[0].upper() for s in queries.sql]
    begin = "START" if backend.vendor == "mysql" else "BEGIN"
    assert sql == [begin, "INSERT", "SAVEPOINT", "INSERT", "RELEASE", "COMMIT"], queries.sql


async def test_error_in_a_nested_block_rolls_back_only_that_block(backend: Database) -> None:
    async with transaction.atomic():
        await Entry.objects.create(n=1)
        with pytest.raises(Boom):
            async with transaction.atomic():
                await Entry.objects.create(n=2)
                raise Boom
        async with transaction.atomic():
            await Entry.objects.create(n=3)
    assert await _ns() == [1, 3]


async def test_database_error_in_a_nested_block_leaves_the_transaction_usable(
    backend: Database,
) -> None:
    """PostgreSQL aborts a transaction on an error; the savepoint keeps it going."""
    async with transaction.atomic():
        await Account.objects.create(name="a")
        with pytest.raises(IntegrityError):
            async with transaction.atomic():
                await Account.objects.create(name="a")
        await Account.objects.create(name="b")
    assert await Account.objects.count() == 2


async def test_decorator_without_and_with_arguments(backend: Database) -> None:
    @transaction.atomic
    async def bare(n: int) -> int:
        assert transaction.in_atomic_block()
        await Entry.objects.create(n=n)
        if n < 0:
            raise Boom
        return n * 10

    @transaction.atomic(using="default", savepoint=True)
    async def with_args(n: int) -> int:
        return await bare(n)

    assert bare.__name__ == "bare"
    assert await bare(1) == 10
    assert await with_args(2) == 20
    with pytest.raises(Boom):
        await bare(-1)
    with pytest.raises(Boom):
        await with_args(-2)
    assert not transaction.in_atomic_block()
    assert await _ns() == [1, 2]


def test_decorating_a_sync_function_is_refused() -> None:
    with pytest.raises(TypeError, match="decorates async functions"):
        @transaction.atomic
        def sync() -> None: ...  # pragma: no cover


async def test_one_atomic_object_used_twice_and_nested_in_itself(backend: Database) -> None:
    block = transaction.atomic()
    async with block:
        await Entry.objects.create(n=1)
        async with block:  # a savepoint
            await Entry.objects.create(n=2)
    async with block:
        await Entry.objects.create(n=3)
    assert await _ns() == [1, 2, 3]


async def test_one_atomic_object_refused_many_times_then_used(backend: Database) -> None:
    """Failed entries leave nothing behind on a reused object (a module-level block)."""
    durable = transaction.atomic(durable=True)
    async with transaction.atomic():
        for _ in range(5):
            with pytest.raises(TransactionManagementError, match="durable block"):
                async with durable:
                    pass  # pragma: no cover
        await Entry.objects.create(n=1)

    async def leave_from_another_task() -> None:
        await durable.__aexit__(None, None, None)

    async with durable:
        await Entry.objects.create(n=2)
        with pytest.raises(TransactionManagementError, match="not entered by the current"):
            await asyncio.create_task(leave_from_another_task())
    assert len(durable._open) == 0
    assert await _ns() == [1, 2]


# SQLite has one writer at a time: the second block would wait for the first.
@pytest.mark.backends("postgresql", "mysql")
async def test_one_atomic_object_open_in_two_tasks_at_once(backend: Database) -> None:
    block = transaction.atomic()
    both_in = asyncio.Barrier(2)

    async def work(n: int, fail: bool) -> None:
        async with block:
            await Entry.objects.create(n=n)
            await both_in.wait()
            if fail:
                raise Boom

    first = asyncio.create_task(work(1, fail=False), context=contextvars.Context())
    second = asyncio.create_task(work(2, fail=True), context=contextvars.Context())
    async with asyncio.timeout(20):
        results = await asyncio.gather(first, second, return_exceptions=True)
    assert results[0] is None and isinstance(results[1], Boom)
    assert await _ns() == [1]


async def test_set_rollback_rolls_back_without_an_error(backend: Database) -> None:
    async with transaction.atomic():
        await Entry.objects.create(n=1)
        async with transaction.atomic():
            await Entry.objects.create(n=2)
            assert transaction.get_rollback() is False
            transaction.set_rollback(True)
            assert transaction.get_rollback() is True
        # Only the inner block was marked.
        assert transaction.get_rollback() is False
    async with transaction.atomic():
        await Entry.objects.create(n=3)
        transaction.set_rollback(True)
    assert transaction.get_state() == transaction.ROLLED_BACK
    async with transaction.atomic():
        await Entry.objects.create(n=4)
        transaction.set_rollback(True)
        transaction.set_rollback(False)
    assert await _ns() == [1, 4]


def test_rollback_flag_outside_a_block_is_refused() -> None:
    with pytest.raises(TransactionManagementError, match="needs an atomic"):
        transaction.set_rollback(True)
    with pytest.raises(TransactionManagementError, match="needs an atomic"):
        transaction.get_rollback()


async def test_block_without_savepoint_rolls_back_the_enclosing_one(backend: Database) -> None:
    with capture_queries() as queries:
        async with transaction.atomic():
            await Entry.objects.create(n=1)
            with pytest.raises(Boom):
                async with transaction.atomic(savepoint=False):
                    await Entry.objects.create(n=2)
                    raise Boom
            assert transaction.get_rollback() is True
    assert not any("SAVEPOINT" in s.upper() for s in queries.sql)
    assert queries.sql[-1].upper() == "ROLLBACK"
    assert await _ns() == []
    async with transaction.atomic():
        async with transaction.atomic(savepoint=False):
            await Entry.objects.create(n=5)
    assert await _ns() == [5]


async def test_durable_block_inside_another_is_refused(backend: Database) -> None:
    async with transaction.atomic(durable=True):
        await Entry.objects.create(n=1)
    async with transaction.atomic():
        await Entry.objects.create(n=2)
        with pytest.raises(TransactionManagementError, match="durable block"):
            async with transaction.atomic(durable=True):
                await Entry.objects.create(n=3)  # pragma: no cover
        # The refusal ran no SQL: the outer block goes on.
        await Entry.objects.create(n=4)
    assert await _ns() == [1, 2, 4]


@pytest.mark.parametrize("kwargs", [{"isolation": "serializable"}, {"read_only": True}])
async def test_isolation_and_read_only_only_on_the_outermost_block(
    backend: Database, kwargs: dict[str, Any]
) -> None:
    async with transaction.atomic():
        with pytest.raises(TransactionManagementError, match="only be set on the outermost"):
            async with transaction.atomic(**kwargs):
                pass  # pragma: no cover
        await Entry.objects.create(n=1)
    assert await _ns() == [1]


def test_unknown_isolation_level_is_refused() -> None:
    with pytest.raises(TransactionManagementError, match="unknown isolation level 'snapshot'"):
        transaction.atomic(isolation="snapshot")


async def test_raw_sql_inside_a_block_runs_in_its_transaction(backend: Database) -> None:
    table = Entry._meta.db_table
    with pytest.raises(Boom):
        async with transaction.atomic():
            await backend.execute(f"INSERT INTO {table} (n) VALUES (%s)", [7])
            assert await backend.fetch_val(f"SELECT count(*) FROM {table}") == 1
            raise Boom
    assert await backend.fetch_val(f"SELECT count(*) FROM {table}") == 0


async def test_database_transaction_is_a_durable_atomic_block(backend: Database) -> None:
    async with backend.transaction() as state:
        assert transaction.in_atomic_block() and state.in_transaction
        async with transaction.atomic():
            await Entry.objects.create(n=1)
        with pytest.raises(TransactionManagementError, match="already has a transaction open"):
            async with backend.transaction():
                pass  # pragma: no cover
    assert await _ns() == [1]


async def test_get_or_create_nested_in_a_block_uses_a_savepoint(backend: Database) -> None:
    await Account.objects.create(name="taken")
    with capture_queries() as queries:
        async with transaction.atomic():
            _obj, created = await Account.objects.get_or_create(name="new")
            assert created
    assert any(s.upper().startswith("SAVEPOINT") for s in queries.sql), queries.sql
    assert await Account.objects.filter(name="new").count() == 1


async def test_leaving_an_atomic_object_another_task_entered_is_refused(
    backend: Database,
) -> None:
    block = transaction.atomic()
    await block.__aenter__()
    try:
        leave = asyncio.create_task(block.__aexit__(None, None, None))
        with pytest.raises(TransactionManagementError, match="not entered by the current task"):
            await leave
    finally:
        await block.__aexit__(None, None, None)
    assert not transaction.in_atomic_block()


@pytest.mark.backends("postgresql")
async def test_error_at_commit_raises_and_drops_the_callbacks(backend: Database) -> None:
    """A deferred constraint fails at COMMIT: the block's exit raises, nothing is kept."""
    await backend.execute("DROP TABLE IF EXISTS tx_child, tx_parent")
    await backend.execute("CREATE TABLE tx_parent (id integer PRIMARY KEY)")
    await backend.execute(
        "CREATE TABLE tx_child (id integer PRIMARY KEY, parent_id integer REFERENCES tx_parent "
        "DEFERRABLE INITIALLY DEFERRED)"
    )
    ran: list[str] = []
    try:
        with pytest.raises(IntegrityError):
            async with transaction.atomic():
                await backend.execute("INSERT INTO tx_child VALUES (1, 99)")  # checked at COMMIT
                transaction.on_commit(lambda: ran.append("committed"))
        assert ran == []
        assert transaction.get_state() == transaction.ROLLED_BACK
        assert await backend.fetch_val("SELECT count(*) FROM tx_child") == 0
        await asyncio.sleep(0)
        assert backend.pool.stats().in_use == 0
    finally:
        await backend.execute("DROP TABLE IF EXISTS tx_child, tx_parent")
