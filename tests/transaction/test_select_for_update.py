"""Item 5: select_for_update() inside atomic() locks rows; outside it is refused."""

from __future__ import annotations

import asyncio
import contextvars
import random

import pytest

from reinhardt_db import transaction
from reinhardt_db.backends import Database
from reinhardt_db.exceptions import (
    DatabaseError,
    NotSupportedError,
    TransactionManagementError,
)
from reinhardt_db.models import F

from ._models import Account

pytestmark = pytest.mark.usefixtures("tables")


async def test_outside_a_block_it_is_refused_naming_atomic(backend: Database) -> None:
    await Account.objects.create(name="a")
    with pytest.raises(TransactionManagementError, match=r"transaction\.atomic\(using='default'\)"):
        await Account.objects.select_for_update().get(name="a")
    async with backend.connection():  # a held connection is not a transaction
        with pytest.raises(TransactionManagementError):
            await Account.objects.select_for_update()
    with pytest.raises(TransactionManagementError, match="must run inside a transaction"):
        async for _ in Account.objects.select_for_update().iterator():
            pass  # pragma: no cover
    async with transaction.atomic():
        names = [a.name async for a in Account.objects.select_for_update().iterator()]
    assert names == ["a"]


async def test_inside_a_block_it_reads_the_rows(backend: Database) -> None:
    await Account.objects.create(name="a", balance=5)
    async with transaction.atomic():
        locked = await Account.objects.select_for_update().get(name="a")
        assert locked.balance == 5


@pytest.mark.backends("postgresql", "mysql")
async def test_locked_rows_make_another_session_wait_or_skip(backend: Database) -> None:
    await Account.objects.bulk_create([Account(name="a"), Account(name="b")])

    async def other_session(nowait: bool = False, skip_locked: bool = False) -> list[str]:
        async with transaction.atomic():
            rows = await Account.objects.select_for_update(
                nowait=nowait, skip_locked=skip_locked
            ).order_by("name")
            return [row.name for row in rows]

    def elsewhere(**kwargs: bool) -> asyncio.Task[list[str]]:
        return asyncio.create_task(other_session(**kwargs), context=contextvars.Context())

    async with asyncio.timeout(20):
        async with transaction.atomic():
            await Account.objects.select_for_update().filter(name="a")
            assert await elsewhere(skip_locked=True) == ["b"]
            with pytest.raises(DatabaseError):
                await elsewhere(nowait=True)
            waiting = elsewhere()
            done, _ = await asyncio.wait([waiting], timeout=0.3)
            assert not done  # blocked by our lock
        assert await waiting == ["a", "b"]


@pytest.mark.backends("mysql")
async def test_option_the_server_lacks_is_refused(backend: Database) -> None:
    await backend.fetch_val("SELECT 1")  # read the server's features
    async with transaction.atomic():
        with pytest.raises(NotSupportedError, match=r"select_for_update\(of=...\)"):
            await Account.objects.select_for_update(of=("self",))


async def test_concurrent_transfers_conserve_the_total(backend: Database) -> None:
    """50 tasks x 20 transfers between 10 accounts, each locking both rows in key order."""
    accounts = await Account.objects.bulk_create(
        [Account(name=f"acct{i}", balance=1000) for i in range(10)]
    )
    pks = [a.pk for a in accounts]

    async def worker(seed: int) -> int:
        rng = random.Random(seed)
        done = 0
        for _ in range(20):
            source, target = rng.sample(pks, 2)
            amount = rng.randrange(1, 50)
            async with transaction.atomic():
                # Locking in key order: two transfers never wait on each other in a circle.
                rows = await Account.objects.select_for_update().filter(
                    pk__in=[source, target]
                ).order_by("pk")
                by_pk = {row.pk: row for row in rows}
                if by_pk[source].balance < amount:
                    continue
                await Account.objects.filter(pk=source).update(balance=F("balance") - amount)
                await Account.objects.filter(pk=target).update(balance=F("balance") + amount)
            done += 1
        return done

    async with asyncio.timeout(120):
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(worker(seed), context=contextvars.Context())
                for seed in range(50)
            ]
    assert sum(task.result() for task in tasks) > 0
    balances = await Account.objects.values_list("balance", flat=True)
    assert sum(balances) == 10_000
    assert all(balance >= 0 for balance in balances)
    await asyncio.sleep(0)
    assert backend.pool.stats().in_use == 0
