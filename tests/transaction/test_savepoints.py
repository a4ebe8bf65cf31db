"""Item 4: named savepoints and get_state()."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from reinhardt_db import transaction
from reinhardt_db.backends import Database
from reinhardt_db.exceptions import TransactionManagementError
from reinhardt_db.testing import capture_queries

from ._models import Entry

pytestmark = pytest.mark.usefixtures("tables")


class Boom(Exception):
    pass


async def _ns() -> list[int]:
    return sorted(await Entry.objects.values_list("n", flat=True))


async def test_named_savepoints_roll_back_and_release(backend: Database) -> None:
    async with transaction.atomic():
        await Entry.objects.create(n=1)
        first = await transaction.savepoint()
        await Entry.objects.create(n=2)
        second = await transaction.savepoint()
        await Entry.objects.create(n=3)
        await transaction.savepoint_rollback(first)
        assert await _ns() == [1]
        # Rolling back to the first ended the second.
        with pytest.raises(TransactionManagementError, match=f"no savepoint '{second}'"):
            await transaction.savepoint_rollback(second)
        # The first stays open after a rollback to it.
        await Entry.objects.create(n=4)
        await transaction.savepoint_rollback(first)
        await Entry.objects.create(n=5)
        with capture_queries() as queries:
            await transaction.savepoint_commit(first)
        assert queries.sql == [f"RELEASE SAVEPOINT {first}"]
        with pytest.raises(TransactionManagementError, match="no savepoint"):
            await transaction.savepoint_commit(first)
    assert await _ns() == [1, 5]


async def test_savepoint_outside_a_block_is_refused(backend: Database) -> None:
    with pytest.raises(TransactionManagementError, match="savepoint\\(\\) needs an atomic"):
        await transaction.savepoint()
    with pytest.raises(TransactionManagementError, match="needs an atomic"):
        await transaction.savepoint_rollback("rdb_sp_1")


async def test_get_state(backend: Database) -> None:
    # A fresh task: the fixtures' CREATE TABLE ran in a transaction of this one.
    await asyncio.create_task(_states(), context=contextvars.Context())


async def _states() -> None:
    assert transaction.get_state() == transaction.NOT_STARTED
    assert transaction.get_state() == "NOT_STARTED"
    async with transaction.atomic():
        assert transaction.get_state() == transaction.ACTIVE
        async with transaction.atomic():
            assert transaction.get_state() == transaction.ACTIVE
    assert transaction.get_state() == transaction.COMMITTED
    with pytest.raises(Boom):
        async with transaction.atomic():
            raise Boom
    assert transaction.get_state("default") == transaction.ROLLED_BACK
    async with transaction.atomic():
        pass
    assert transaction.get_state() is transaction.TransactionState.COMMITTED
