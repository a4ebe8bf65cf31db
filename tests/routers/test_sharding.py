"""ShardRouter on two shards per backend (``default`` and ``replica``)."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db import exceptions as exc
from reinhardt_db.models import Avg, Count, Max, Min, Sum
from reinhardt_db.routers import ShardRouter
from reinhardt_db.testing import capture_queries

from ._models import Author, Order
from .conftest import REPLICA, Configure

SHARDS = ["default", REPLICA]  # tenant 2, 4 ... on "default"; 1, 3 ... on the replica


async def orders_in(alias: str) -> list[tuple[int, int]]:
    return [(o.tenant_id, o.total) for o in await Order.objects.using(alias).order_by("id")]


@pytest.fixture
async def sharded(aliases: Configure) -> ShardRouter:
    router = ShardRouter(shards=SHARDS, key="tenant_id")
    await aliases(routers=[router])
    return router


async def test_instances_are_written_to_the_shard_of_their_key(sharded: ShardRouter) -> None:
    with capture_queries() as captured:
        one = await Order.objects.create(tenant_id=1, total=10)
        two = await Order.objects.create(tenant_id=2, total=20)
        await Order.objects.bulk_create([Order(tenant_id=3, total=30), Order(tenant_id=4, total=40)])
    assert [q.alias for q in captured][:2] == [REPLICA, "default"]
    assert (one._state.db, two._state.db) == (REPLICA, "default")
    assert await orders_in("default") == [(2, 20), (4, 40)]
    assert await orders_in(REPLICA) == [(1, 10), (3, 30)]
    one.total = 11
    await one.save()
    assert await orders_in(REPLICA) == [(1, 11), (3, 30)]
    await (await Order.objects.get(tenant_id=2)).delete()
    assert await orders_in("default") == [(4, 40)]
    assert await Author.objects.create(name="unsharded") is not None  # no key: "default"
    assert await Author.objects.using("default").count() == 1


async def test_a_query_pinning_the_key_runs_on_its_shard_only(sharded: ShardRouter) -> None:
    await Order.objects.bulk_create([Order(tenant_id=t, total=t * 10) for t in (1, 2, 3, 4)])
    with capture_queries() as captured:
        assert [o.total for o in await Order.objects.filter(tenant_id=3)] == [30]
        assert await Order.objects.filter(tenant_id__in=[1, 3]).count() == 2
        assert await Order.objects.filter(tenant_id=4).update(note="x") == 1
    assert [q.alias for q in captured] == [REPLICA, REPLICA, "default"]
    with capture_queries() as both:
        assert await Order.objects.filter(tenant_id__in=[1, 2]).count() == 2
    assert sorted(q.alias for q in both) == sorted(SHARDS)


async def test_other_queries_run_on_every_shard_and_are_merged(sharded: ShardRouter) -> None:
    await Order.objects.bulk_create(
        [Order(tenant_id=t, total=t * 10) for t in (5, 2, 3, 4, 1, 6)]
    )
    assert [o.tenant_id for o in await Order.objects.all()] == [1, 2, 3, 4, 5, 6]
    assert [o.tenant_id for o in await Order.objects.order_by("-total")[1:4]] == [5, 4, 3]
    assert [d["tenant_id"] for d in await Order.objects.values("tenant_id").order_by(
        "-tenant_id")] == [6, 5, 4, 3, 2, 1]
    assert (await Order.objects.first()).tenant_id == 1
    assert await Order.objects.count() == 6
    assert await Order.objects.filter(total__gt=55).exists()
    assert await Order.objects.aggregate(
        n=Count("id"), s=Sum("total"), lo=Min("total"), hi=Max("total")
    ) == {"n": 6, "s": 210, "lo": 10, "hi": 60}
    assert await Order.objects.filter(total__gte=30).update(note="big") == 4
    assert await Order.objects.filter(note="big").count() == 4
    deleted, per_model = await Order.objects.filter(total__lt=30).delete()
    assert (deleted, per_model) == (2, {"routing_shop.Order": 2})
    assert await orders_in("default") == [(4, 40), (6, 60)]
    assert await orders_in(REPLICA) == [(5, 50), (3, 30)]


async def test_what_cannot_be_merged_says_so(aliases: Configure) -> None:
    await aliases(routers=[ShardRouter(shards=SHARDS, key="tenant_id", scatter=False)])
    await Order.objects.create(tenant_id=1)
    assert await Order.objects.filter(tenant_id=1).count() == 1
    with pytest.raises(exc.NotSupportedError, match="does not pin tenant_id"):
        await Order.objects.count()
    await aliases(routers=[ShardRouter(shards=SHARDS, key="tenant_id")], tables=False)
    with pytest.raises(exc.NotSupportedError, match="cannot be combined across shards"):
        await Order.objects.aggregate(Avg("total"))
    with pytest.raises(exc.NotSupportedError, match="ordered by field names only"):
        await Order.objects.order_by("?")
    with pytest.raises(exc.NotSupportedError, match="cannot be split"):
        [o async for o in Order.objects.iterator()]


def test_range_shards_and_bad_arguments() -> None:
    ranged = ShardRouter(key="tenant_id", strategy="range", ranges=[(100, "s1"), (0, "s0")])
    assert [ranged.shard_of(k) for k in (0, 99, 100, 10**6)] == ["s0", "s0", "s1", "s1"]
    with pytest.raises(ValueError, match="below the first range"):
        ranged.shard_of(-1)
    hashed = ShardRouter(shards=["a", "b", "c"], key="tenant_id")
    assert hashed.shard_of("acme") == hashed.shard_of("acme")  # stable across processes
    bad: list[tuple[dict[str, Any], str]] = [
        ({"shards": "s0", "key": "k"}, "shards must be a list of aliases"),
        ({"shards": ["s0"], "key": "not a name"}, "key must name a field"),
        ({"shards": ["s0"], "key": "k", "strategy": "modulo"}, "'hash' or 'range'"),
        ({"key": "k", "strategy": "range"}, "needs ranges="),
    ]
    for kwargs, message in bad:
        with pytest.raises(ValueError, match=message):
            ShardRouter(**kwargs)
