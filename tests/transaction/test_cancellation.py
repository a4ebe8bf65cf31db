"""Item 7: cancellation and timeouts inside atomic blocks.

A task cancelled inside a block rolls back; its connection goes back to the
pool clean or is closed; no server session stays idle in a transaction; a
timeout around a nested ORM call is a ``TimeoutError``, never an
``OperationalError`` from rolling back on a connection already closed.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from reinhardt_db import transaction
from reinhardt_db.backends import Database
from reinhardt_db.exceptions import OperationalError

from ._models import Account, Entry

pytestmark = pytest.mark.usefixtures("tables")

IDLE_IN_TRANSACTION = {
    "postgresql": (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND state LIKE %s AND pid <> pg_backend_pid()",
        ["idle in transaction%"],
    ),
    # Sessions waiting for a command with an InnoDB transaction open.
    "mysql": (
        "SELECT count(*) FROM information_schema.innodb_trx t "
        "JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id "
        "WHERE p.command = 'Sleep' AND p.db = DATABASE() AND p.id <> CONNECTION_ID()",
        [],
    ),
}


async def _idle_in_transaction(db: Database) -> int:
    """Server sessions of this database idle inside a transaction (0 on SQLite)."""
    if db.vendor not in IDLE_IN_TRANSACTION:
        return 0
    sql, params = IDLE_IN_TRANSACTION[db.vendor]
    # Closed connections take a moment to end server-side; InnoDB's view lags 0.1 s.
    count = -1
    for _ in range(40):
        await asyncio.sleep(0.15)
        count = int(await db.fetch_val(sql, params))
        if count == 0:
            break
    return count


async def _pool_settles(db: Database) -> None:
    """Nothing checked out, every open connection idle, once closing ones have closed.

    A closed connection counts in ``size`` until its close finishes (SQLite's
    worker thread may first finish the statement it was cancelled in).
    """
    stats = db.pool.stats()
    for _ in range(100):
        stats = db.pool.stats()
        assert stats.size <= stats.max_size, stats
        if stats.in_use == 0 and stats.size == stats.idle:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the pool did not settle: {stats}")


async def _locked_by_another_session(
    run: Callable[[], Awaitable[Any]], lock: Callable[[], Awaitable[Any]]
) -> BaseException | None:
    """Run ``run()`` (nested in a block, under a 0.3 s timeout) while ``lock()`` holds rows."""
    locked = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with transaction.atomic():
            await lock()
            locked.set()
            await release.wait()
            transaction.set_rollback(True)

    task = asyncio.create_task(holder(), context=contextvars.Context())
    outcome: BaseException | None = None
    try:
        await locked.wait()
        try:
            async with transaction.atomic():
                await Entry.objects.create(n=1)
                async with asyncio.timeout(0.3):
                    await run()
        except BaseException as error:  # the outcome is what is tested
            outcome = error
    finally:
        release.set()
        await task
    return outcome


NESTED_CALLS: dict[str, Callable[[], Awaitable[Any]]] = {
    "get_or_create": lambda: Account.objects.get_or_create(name="x", defaults={"balance": 2}),
    "update_or_create": lambda: Account.objects.update_or_create(
        name="x", defaults={"balance": 3}
    ),
    "bulk_create": lambda: Account.objects.bulk_create(
        [Account(name=f"b{i}") for i in range(5)] + [Account(name="x")], batch_size=2
    ),
}


@pytest.mark.backends("postgresql", "mysql")
@pytest.mark.parametrize("call", list(NESTED_CALLS))
async def test_timeout_around_a_nested_call_waiting_on_a_lock_is_a_timeout_error(
    backend: Database, call: str
) -> None:
    await Account.objects.create(name="x", balance=1)

    async def lock() -> None:
        # Holds the row (update_or_create waits) and, on MariaDB, the unique key.
        await Account.objects.select_for_update().filter(name="x")
        await Account.objects.filter(name="x").update(balance=9)

    if call != "update_or_create":
        await Account.objects.filter(name="x").delete()

        # A new row with the same key, not committed: the INSERT waits for it.
        async def lock() -> None:
            await Account.objects.create(name="x", balance=9)

    async with asyncio.timeout(20):
        outcome = await _locked_by_another_session(NESTED_CALLS[call], lock)
    assert isinstance(outcome, TimeoutError), repr(outcome)
    # The outer block rolled back: its own insert is not there.
    assert await Entry.objects.count() == 0
    assert await _idle_in_transaction(backend) == 0
    await _pool_settles(backend)


@pytest.mark.parametrize("call", list(NESTED_CALLS))
async def test_timeouts_at_random_points_of_nested_calls(backend: Database, call: str) -> None:
    """Wherever the timeout lands, the caller sees TimeoutError or success, nothing else."""
    rng = random.Random(7)
    outcomes: set[str] = set()
    for attempt in range(30):
        await Account.objects.all().delete()
        try:
            async with asyncio.timeout(rng.uniform(0, 0.004)):
                async with transaction.atomic():
                    await Entry.objects.create(n=attempt)
                    await NESTED_CALLS[call]()
            outcomes.add("done")
        except TimeoutError:
            outcomes.add("timeout")
    assert outcomes <= {"done", "timeout"}
    assert "timeout" in outcomes
    assert await _idle_in_transaction(backend) == 0
    await _pool_settles(backend)


SLOW_SQL = {
    "postgresql": "SELECT pg_sleep(2)",
    "mysql": "SELECT SLEEP(2)",
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
              "WHERE x < 2000000) SELECT count(*) FROM c",
}


async def test_timeout_caught_inside_the_block_fails_the_block(backend: Database) -> None:
    """A cancelled statement took the connection; the block must not look committed."""
    with pytest.raises(OperationalError, match="was rolled back"):
        async with transaction.atomic():
            await Entry.objects.create(n=1)
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.1):
                    await backend.fetch_all(SLOW_SQL[backend.vendor])
            # Caught, and the block goes on: its statements are refused...
            with pytest.raises(OperationalError, match="closed after an earlier error"):
                await Entry.objects.count()
    assert await Entry.objects.count() == 0
    assert transaction.get_state() == transaction.ROLLED_BACK
    assert await _idle_in_transaction(backend) == 0
    await _pool_settles(backend)


async def test_cancelled_task_rolls_back_and_leaves_nothing_behind(backend: Database) -> None:
    started = asyncio.Event()

    async def worker() -> None:
        async with transaction.atomic():
            await Entry.objects.create(n=1)
            started.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(worker())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await Entry.objects.count() == 0
    assert await _idle_in_transaction(backend) == 0
    await _pool_settles(backend)


async def test_200_random_cancellations_under_load(backend: Database) -> None:
    """Afterwards: no session idle in a transaction, pool counts right, exactly the committed rows."""
    rng = random.Random(11)
    ids = itertools.count()
    committed: set[int] = set()
    cancellations = 0
    outcomes: dict[str, int] = {}

    async def one_block(delay: float) -> None:
        first, second = next(ids), next(ids)
        async with transaction.atomic():
            await Entry.objects.create(n=first)
            await asyncio.sleep(delay)
            async with transaction.atomic():
                await Entry.objects.create(n=second)
            transaction.on_commit(lambda: committed.update((first, second)))

    async def worker(seed: int) -> None:
        nonlocal cancellations
        wrng = random.Random(seed)
        while cancellations < 200:
            try:
                # Some blocks only the canceller can stop, so that some commit under load.
                limit = wrng.uniform(0, 0.06) if wrng.random() < 0.7 else None
                async with asyncio.timeout(limit):
                    await one_block(wrng.uniform(0, 0.01))
                outcomes["committed"] = outcomes.get("committed", 0) + 1
            except TimeoutError:
                cancellations += 1
                outcomes["timeout"] = outcomes.get("timeout", 0) + 1

    async def canceller(tasks: list[asyncio.Task[None]]) -> None:
        # Plain task.cancel() too, not only timeouts, at random moments.
        nonlocal cancellations
        while cancellations < 200:
            await asyncio.sleep(rng.uniform(0, 0.02))
            victim = rng.choice(tasks)
            if not victim.done():
                victim.cancel()

    async def supervised(seed: int) -> None:
        nonlocal cancellations
        while cancellations < 200:
            task = asyncio.create_task(worker(seed), context=contextvars.Context())
            running.append(task)
            try:
                await task
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():  # type: ignore[union-attr]
                    raise
                cancellations += 1
                outcomes["cancelled"] = outcomes.get("cancelled", 0) + 1
            seed += 1000

    running: list[asyncio.Task[None]] = []
    async with asyncio.timeout(240):
        supervisors = [asyncio.create_task(supervised(s)) for s in range(12)]
        stopper = asyncio.create_task(canceller(running))
        await asyncio.gather(*supervisors)
        await stopper
    # committed: blocks whose COMMIT went through (on_commit ran), even if the
    # cancellation arrived during it and was raised after.
    assert cancellations >= 200 and committed, outcomes
    assert await _idle_in_transaction(backend) == 0
    await _pool_settles(backend)
    rows = set(await Entry.objects.values_list("n", flat=True))
    assert rows == committed


@pytest.mark.backends("postgresql")
async def test_timeout_during_commit_waits_for_its_outcome(backend: Database) -> None:
    """COMMIT is slow (a deferred trigger sleeps); the timeout lands while it runs.

    The commit finishes, its on_commit callbacks run (one failing: logged, not raised
    over the cancellation), and only then does the TimeoutError come out.
    """
    await backend.execute("DROP TABLE IF EXISTS tx_slow")
    await backend.execute("CREATE TABLE tx_slow (id integer PRIMARY KEY)")
    await backend.execute(
        "CREATE OR REPLACE FUNCTION tx_slow_check() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_sleep(0.5); RETURN NULL; END $$"
    )
    await backend.execute(
        "CREATE CONSTRAINT TRIGGER tx_slow_commit AFTER INSERT ON tx_slow "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tx_slow_check()"
    )
    ran: list[str] = []

    def fail() -> None:
        raise RuntimeError("callback broke")

    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                async with transaction.atomic():
                    await backend.execute("INSERT INTO tx_slow VALUES (1)")
                    transaction.on_commit(fail)
                    transaction.on_commit(lambda: ran.append("after commit"))
        assert ran == ["after commit"]
        assert transaction.get_state() == transaction.COMMITTED
        assert await backend.fetch_val("SELECT count(*) FROM tx_slow") == 1
        assert await _idle_in_transaction(backend) == 0
        await _pool_settles(backend)
    finally:
        await backend.execute("DROP TABLE IF EXISTS tx_slow")
        await backend.execute("DROP FUNCTION IF EXISTS tx_slow_check()")
