"""PoolManager: pools by name."""

from __future__ import annotations

import pytest

from reinhardt_db.pool import PoolConfigError, PoolError, PoolManager, PoolNotFound

from .conftest import MakePool


async def test_add_and_get(make_pool: MakePool) -> None:
    pools = PoolManager()
    pool = make_pool()
    pools.add_pool("default", pool)
    assert pools.get_pool("default") is pool
    assert "default" in pools and len(pools) == 1


async def test_a_taken_name_raises_pool_config_error(make_pool: MakePool) -> None:
    pools = PoolManager()
    pools.add_pool("default", make_pool())
    with pytest.raises(PoolConfigError, match="'default' is already registered"):
        pools.add_pool("default", make_pool())


def test_unknown_name_raises_pool_not_found() -> None:
    pools = PoolManager()
    with pytest.raises(PoolNotFound, match="no pool named 'replica'") as info:
        pools.get_pool("replica")
    assert isinstance(info.value, PoolError) and isinstance(info.value, KeyError)
    assert "add_pool" in str(info.value)


async def test_remove_pool_returns_it_open(make_pool: MakePool) -> None:
    pools = PoolManager()
    pool = make_pool()
    pools.add_pool("a", pool)
    assert pools.remove_pool("a") is pool
    assert not pool.closed
    assert "a" not in pools
    async with pool.acquire():
        pass
    with pytest.raises(PoolNotFound):
        pools.remove_pool("a")


async def test_close_all_closes_every_pool(make_pool: MakePool) -> None:
    pools = PoolManager()
    a, b = make_pool(), make_pool()
    pools.add_pool("a", a)
    pools.add_pool("b", b)
    async with a.acquire(), b.acquire():
        pass
    await pools.close_all()
    assert a.closed and b.closed
    assert a.size == b.size == 0
    assert len(pools) == 0
