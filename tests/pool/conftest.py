"""Fixtures for pool tests: a fake manager and pools that are closed after each test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from reinhardt_db.pool import Pool, PoolOptions

from .fakes import FakeConn, FakeManager

MakePool = Callable[..., Pool[FakeConn]]


@pytest.fixture
def manager() -> FakeManager:
    return FakeManager()


@pytest.fixture
async def make_pool(manager: FakeManager) -> AsyncIterator[MakePool]:
    """Return ``make_pool(**options_and_hooks)``; every pool made is closed after the test."""
    pools: list[Pool[FakeConn]] = []
    hook_names = {"after_connect", "before_acquire", "after_release", "name"}

    def make(mgr: FakeManager | None = None, **kwargs: Any) -> Pool[FakeConn]:
        hooks = {k: kwargs.pop(k) for k in list(kwargs) if k in hook_names}
        kwargs.setdefault("acquire_timeout", 2.0)
        kwargs.setdefault("connect_timeout", 1.0)
        pool = Pool(mgr or manager, PoolOptions(**kwargs), **hooks)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        # A test that leaves a connection checked out must not hang the suite.
        try:
            await asyncio.wait_for(pool.close(), 1.0)
        except TimeoutError:
            pass
