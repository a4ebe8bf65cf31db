"""Hooks: after_connect, before_acquire and after_release, sync or async."""

from __future__ import annotations

import asyncio
import logging

import pytest

from reinhardt_db.pool import ConnectionMetadata

from .conftest import MakePool
from .fakes import FakeConn, FakeManager, until


@pytest.mark.parametrize("is_async", [False, True])
async def test_after_connect_runs_once_per_new_connection(
    make_pool: MakePool, is_async: bool
) -> None:
    seen: list[FakeConn] = []

    def sync_hook(conn: FakeConn) -> None:
        seen.append(conn)

    async def async_hook(conn: FakeConn) -> None:
        await asyncio.sleep(0)
        seen.append(conn)

    pool = make_pool(after_connect=async_hook if is_async else sync_hook)
    for _ in range(3):
        async with pool.acquire() as conn:
            assert seen == [conn.raw]


@pytest.mark.parametrize("is_async", [False, True])
async def test_before_acquire_runs_on_every_hand_out_with_metadata(
    make_pool: MakePool, is_async: bool
) -> None:
    seen: list[tuple[FakeConn, ConnectionMetadata]] = []

    def sync_hook(conn: FakeConn, meta: ConnectionMetadata) -> None:
        seen.append((conn, meta))

    async def async_hook(conn: FakeConn, meta: ConnectionMetadata) -> bool:
        seen.append((conn, meta))
        return True

    pool = make_pool(before_acquire=async_hook if is_async else sync_hook)
    async with pool.acquire() as conn:
        raw = conn.raw
    await asyncio.sleep(0.02)
    async with pool.acquire():
        pass
    assert [c for c, _ in seen] == [raw, raw]  # the new connection included
    new, reused = seen[0][1], seen[1][1]
    assert new.idle_for == 0.0 and new.age >= 0.0
    assert reused.idle_for >= 0.02 and reused.age >= reused.idle_for


async def test_before_acquire_false_discards_and_acquire_tries_another(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool(before_acquire=lambda conn, meta: conn.number != 0)
    async with pool.acquire() as conn:
        assert conn.raw.number == 1
    await until(lambda: len(manager.closed) == 1)
    assert manager.closed[0].number == 0
    assert pool.size == 1


async def test_before_acquire_raising_discards_and_logs(
    make_pool: MakePool, manager: FakeManager, caplog: pytest.LogCaptureFixture
) -> None:
    def hook(conn: FakeConn, meta: ConnectionMetadata) -> bool:
        if conn.number == 0:
            raise RuntimeError("bad session")
        return True

    pool = make_pool(before_acquire=hook)
    with caplog.at_level(logging.ERROR, logger="reinhardt_db.pool"):
        async with pool.acquire() as conn:
            assert conn.raw.number == 1
    assert "before_acquire hook failed" in caplog.text and "bad session" in caplog.text
    await until(lambda: manager.created[0].closed)


@pytest.mark.parametrize("is_async", [False, True])
async def test_after_release_false_discards(
    make_pool: MakePool, manager: FakeManager, is_async: bool
) -> None:
    metas: list[ConnectionMetadata] = []

    def sync_hook(conn: FakeConn, meta: ConnectionMetadata) -> bool:
        metas.append(meta)
        return False

    async def async_hook(conn: FakeConn, meta: ConnectionMetadata) -> bool:
        metas.append(meta)
        return False

    pool = make_pool(after_release=async_hook if is_async else sync_hook)
    async with pool.acquire() as conn:
        raw = conn.raw
        await asyncio.sleep(0.01)
    assert raw.closed and pool.size == 0 and pool.num_idle == 0
    assert metas[0].age >= 0.01 and metas[0].idle_for == 0.0


async def test_after_release_raising_discards_and_logs(
    make_pool: MakePool, caplog: pytest.LogCaptureFixture
) -> None:
    def hook(conn: FakeConn, meta: ConnectionMetadata) -> None:
        raise RuntimeError("cannot clean up")

    pool = make_pool(after_release=hook)
    with caplog.at_level(logging.ERROR, logger="reinhardt_db.pool"):
        async with pool.acquire() as conn:
            raw = conn.raw
    assert raw.closed and pool.size == 0
    assert "after_release hook failed" in caplog.text


async def test_after_release_true_or_none_keeps_the_connection(make_pool: MakePool) -> None:
    pool = make_pool(after_release=lambda conn, meta: None)
    async with pool.acquire():
        pass
    assert pool.num_idle == 1
