"""Item 3: on_commit(fn, using=None, robust=False) with sync and async callbacks."""

from __future__ import annotations

import asyncio
import logging

import pytest

from reinhardt_db import transaction
from reinhardt_db.backends import Database

from ._models import Entry

pytestmark = pytest.mark.usefixtures("tables")


class Boom(Exception):
    pass


async def test_callbacks_run_in_order_after_the_outermost_commit(backend: Database) -> None:
    ran: list[str] = []
    seen_rows: list[int] = []

    async def async_cb() -> None:
        # After the commit, outside the transaction: the row is there for anyone.
        assert not transaction.in_atomic_block()
        seen_rows.append(await Entry.objects.count())
        ran.append("async")

    async with transaction.atomic():
        await Entry.objects.create(n=1)
        transaction.on_commit(lambda: ran.append("sync 1"))
        async with transaction.atomic():
            transaction.on_commit(async_cb)
        transaction.on_commit(lambda: ran.append("sync 2"))
        assert ran == []
    assert ran == ["sync 1", "async", "sync 2"]
    assert seen_rows == [1]


async def test_callbacks_dropped_when_the_transaction_rolls_back(backend: Database) -> None:
    ran: list[str] = []
    with pytest.raises(Boom):
        async with transaction.atomic():
            transaction.on_commit(lambda: ran.append("x"))
            raise Boom
    async with transaction.atomic():
        transaction.on_commit(lambda: ran.append("y"))
        transaction.set_rollback(True)
    assert ran == []


async def test_callbacks_of_a_rolled_back_savepoint_are_dropped(backend: Database) -> None:
    ran: list[str] = []
    async with transaction.atomic():
        transaction.on_commit(lambda: ran.append("outer"))
        with pytest.raises(Boom):
            async with transaction.atomic():
                transaction.on_commit(lambda: ran.append("inner, rolled back"))
                async with transaction.atomic():
                    transaction.on_commit(lambda: ran.append("innermost, rolled back"))
                raise Boom
        async with transaction.atomic():
            transaction.on_commit(lambda: ran.append("inner, kept"))
        sid = await transaction.savepoint()
        transaction.on_commit(lambda: ran.append("named, rolled back"))
        await transaction.savepoint_rollback(sid)
        transaction.on_commit(lambda: ran.append("after the named one"))
    assert ran == ["outer", "inner, kept", "after the named one"]


async def test_failing_callback_propagates_and_stops_the_rest(backend: Database) -> None:
    ran: list[str] = []

    def fail() -> None:
        raise Boom

    with pytest.raises(Boom):
        async with transaction.atomic():
            await Entry.objects.create(n=1)
            transaction.on_commit(fail)
            transaction.on_commit(lambda: ran.append("after"))
    # The transaction had committed already.
    assert await Entry.objects.count() == 1
    assert ran == []


async def test_robust_callback_failure_is_logged_and_the_rest_run(
    backend: Database, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    async def fail() -> None:
        raise Boom("callback broke")

    with caplog.at_level(logging.ERROR, logger="reinhardt_db.transaction"):
        async with transaction.atomic():
            transaction.on_commit(fail, robust=True)
            transaction.on_commit(lambda: ran.append("after"))
    assert ran == ["after"]
    assert any("on_commit callback" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_outside_a_block_callbacks_run_at_once(backend: Database) -> None:
    ran: list[str] = []
    transaction.on_commit(lambda: ran.append("sync"))
    assert ran == ["sync"]
    done = asyncio.Event()

    async def later() -> None:
        ran.append("async")
        done.set()

    transaction.on_commit(later)
    async with asyncio.timeout(5):
        await done.wait()
    assert ran == ["sync", "async"]
    with pytest.raises(TypeError, match="needs a callable"):
        transaction.on_commit("not callable")  # type: ignore[arg-type]


async def test_callback_for_another_alias_outside_its_block_runs_at_once(
    backend: Database,
) -> None:
    ran: list[str] = []
    async with transaction.atomic(using="default"):
        transaction.on_commit(lambda: ran.append("default"), using="default")
        assert ran == []
    assert ran == ["default"]
