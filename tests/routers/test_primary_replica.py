"""PrimaryReplicaRouter on two databases per backend: where each statement runs.

Shown by per-alias query capture and by the rows each database holds.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from reinhardt_db import transaction
from reinhardt_db.backends import connections
from reinhardt_db.models import Count
from reinhardt_db.routers import PrimaryReplicaRouter, router
from reinhardt_db.testing import capture_queries

from ._models import Author, Book
from .conftest import REPLICA, Configure


async def names(alias: str) -> list[str]:
    return [a.name for a in await Author.objects.using(alias).all()]


def aliases_of(captured: Any) -> list[str]:
    return [q.alias for q in captured]


async def test_reads_go_to_the_replica_and_writes_to_the_primary(aliases: Configure) -> None:
    await aliases(routers=[PrimaryReplicaRouter(primary="default", replicas=[REPLICA])])
    with capture_queries() as writes:
        ann = await Author.objects.create(name="ann")
        await Author.objects.bulk_create([Author(name="bob"), Author(name="cy")])
        await Author.objects.filter(name="bob").update(name="bo")
        await Author.objects.filter(name="cy").delete()
        dee, created = await Author.objects.get_or_create(name="dee")
        ann.name = "anne"
        await ann.save()
        await Book.objects.create(title="t", author=ann)
    assert created and dee._state.db == "default"
    assert writes and set(aliases_of(writes)) == {"default"}, writes.describe()
    assert await names("default") == ["anne", "bo", "dee"]
    assert await names(REPLICA) == []

    await Author.objects.using(REPLICA).create(name="on-replica")  # using() wins
    assert await names(REPLICA) == ["on-replica"]
    with capture_queries() as reads:
        assert [a.name for a in await Author.objects.all()] == ["on-replica"]
        assert await Author.objects.count() == 1
        assert await Author.objects.filter(name="on-replica").exists()
        assert await Author.objects.aggregate(n=Count("id")) == {"n": 1}
        got = await Author.objects.get(name="on-replica")
        assert [a.name async for a in Author.objects.iterator()] == ["on-replica"]
    assert set(aliases_of(reads)) == {REPLICA}, reads.describe()
    assert got._state.db == REPLICA
    assert Author.objects.db == REPLICA

    # The router answers writes: an instance read from the replica is saved to the primary.
    with capture_queries() as saved:
        got.name = "moved"
        await got.save()
    assert set(aliases_of(saved)) == {"default"}
    assert got._state.db == "default"
    assert "moved" in await names("default")


async def test_weighted_replicas_take_reads_in_proportion(
    aliases: Configure, replica_urls: dict[str, str], backend_name: str
) -> None:
    # A second alias on the replica's database: "r2" takes one read in three.
    await aliases(
        routers=[PrimaryReplicaRouter(replicas={REPLICA: 2, "r2": 1})],
        extra={"r2": replica_urls[backend_name]},
    )
    with capture_queries() as reads:
        for _ in range(6):
            await Author.objects.count()
    assert aliases_of(reads) == [REPLICA, "r2", REPLICA, REPLICA, "r2", REPLICA]


@pytest.mark.parametrize("block", ["atomic", "db.transaction"])
async def test_reads_inside_a_transaction_stay_on_the_primary(
    aliases: Configure, block: str
) -> None:
    await aliases(routers=[PrimaryReplicaRouter(primary="default", replicas=[REPLICA])])
    opened = transaction.atomic() if block == "atomic" else connections["default"].transaction()
    async with opened:
        await Author.objects.create(name="fresh")
        with capture_queries() as inside:
            assert [a.name for a in await Author.objects.all()] == ["fresh"]  # read-your-writes
            assert await Author.objects.count() == 1
            async with transaction.atomic():  # a savepoint: still the primary
                assert await Author.objects.filter(name="fresh").exists()
        assert set(aliases_of(inside)) == {"default"}
    with capture_queries() as after:
        assert await Author.objects.count() == 0  # the replica has no row
    assert aliases_of(after) == [REPLICA]


async def test_a_task_outside_the_transaction_still_reads_the_replica(aliases: Configure) -> None:
    await aliases(routers=[PrimaryReplicaRouter(primary="default", replicas=[REPLICA])])
    started = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        async with connections["default"].transaction():
            started.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await started.wait()
    try:
        with capture_queries() as outside:
            await Author.objects.count()
        assert aliases_of(outside) == [REPLICA]
    finally:
        release.set()
        await task


async def test_related_managers_and_prefetch_follow_the_router(aliases: Configure) -> None:
    await aliases(routers=[PrimaryReplicaRouter(primary="default", replicas=[REPLICA])])
    # A replica holds the primary's rows: the same author in both databases.
    ann = await Author.objects.create(name="ann")
    await Author.objects.using(REPLICA).create(pk=ann.pk, name="ann")
    await Book.objects.using(REPLICA).create(title="r", author_id=ann.pk)
    loaded = await Author.objects.prefetch_related("books").get(name="ann")
    with capture_queries() as reads:
        assert [b.title for b in await loaded.books.all()] == ["r"]  # prefetched
        assert await loaded.books.filter(title="r").count() == 1
    assert aliases_of(reads) == [REPLICA]
    with capture_queries() as writes:
        await loaded.books.create(title="w")
    assert set(aliases_of(writes)) == {"default"}
    assert [b.title for b in await Book.objects.using("default").all()] == ["w"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"replicas": "r1"}, "got the string 'r1'; write replicas=['r1']"),
        ({"replicas": {"r1": 0}}, "replica 'r1' has weight 0"),
        ({"replicas": ["default"]}, "'default' is both the primary and a replica"),
        ({"primary": ""}, "primary must be an alias"),
        ({"replicas": ["r1"], "backoff": -1}, "backoff must be seconds >= 0"),
    ],
)
def test_bad_arguments_say_what_to_write(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as info:
        PrimaryReplicaRouter(**kwargs)
    assert message in str(info.value)


def test_a_replica_marked_down_is_left_out_for_the_back_off() -> None:
    now = [100.0]
    pr = PrimaryReplicaRouter(replicas=["r1", "r2"], clock=lambda: now[0])
    assert pr.backoff == 5.0
    pr.connect_failed("r1")
    assert [pr._next_replica() for _ in range(3)] == ["r2", "r2", "r2"]
    now[0] += 4.9
    assert pr.is_down("r1")
    now[0] += 0.2
    assert not pr.is_down("r1")
    assert {pr._next_replica() for _ in range(2)} == {"r1", "r2"}
    pr.connect_failed("r1")
    pr.connect_failed("r2")
    assert pr._next_replica() is None
    assert router.failover_aliases == frozenset()  # the settings' routers: none here
