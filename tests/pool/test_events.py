"""Events to listeners: fields, serialisation, when each fires, listener safety."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from reinhardt_db.pool import (
    ConnectionAcquired,
    ConnectionClosed,
    ConnectionCreated,
    ConnectionInvalidated,
    ConnectionReset,
    ConnectionReturned,
    ConnectionSoftInvalidated,
    ConnectionTestFailed,
    EventLogger,
    Pool,
    PoolEvent,
    _core,
)
from reinhardt_db.pool import pool as pool_module

from .conftest import MakePool
from .fakes import FakeConn, FakeManager, until

EVENT_CLASSES = [
    ConnectionAcquired, ConnectionClosed, ConnectionCreated, ConnectionInvalidated,
    ConnectionReset, ConnectionReturned, ConnectionSoftInvalidated, ConnectionTestFailed,
]


def record(pool: Pool[FakeConn]) -> list[PoolEvent]:
    events: list[PoolEvent] = []
    pool.add_listener(events.append)
    return events


def types(events: list[PoolEvent]) -> list[str]:
    return [e.type for e in events]


@pytest.mark.parametrize("cls", EVENT_CLASSES)
def test_event_fields_and_serialisation(cls: type[PoolEvent]) -> None:
    event = cls("6f1c1e8a-0000-4000-8000-000000000000", "default", {"reason": "x"})
    assert event.type == cls.__name__
    assert event.timestamp.tzinfo is UTC
    assert abs((datetime.now(UTC) - event.timestamp).total_seconds()) < 5
    data = event.to_dict()
    assert data == {
        "type": cls.__name__,
        "connection_id": "6f1c1e8a-0000-4000-8000-000000000000",
        "timestamp": event.timestamp,
        "pool": "default",
        "detail": {"reason": "x"},
    }
    decoded = json.loads(event.to_json())
    assert decoded["timestamp"] == event.timestamp.isoformat()
    assert datetime.fromisoformat(decoded["timestamp"]) == event.timestamp
    assert decoded["type"] == cls.__name__ and decoded["detail"] == {"reason": "x"}


async def test_an_acquire_release_cycle(make_pool: MakePool) -> None:
    pool = make_pool(name="main")
    events = record(pool)
    async with pool.acquire() as conn:
        conn_id = conn.id
    async with pool.acquire():
        pass
    await pool.close()
    assert types(events) == [
        "ConnectionCreated", "ConnectionAcquired", "ConnectionReset", "ConnectionReturned",
        "ConnectionAcquired", "ConnectionReset", "ConnectionReturned", "ConnectionClosed",
    ]
    assert {e.connection_id for e in events} == {conn_id}
    assert {e.pool for e in events} == {"main"}
    assert events[-1].detail == {"reason": "pool_closed"}
    assert "wait_seconds" in events[1].detail


async def test_a_direct_hand_off_fires_no_returned(make_pool: MakePool) -> None:
    pool = make_pool(max_size=1)
    events = record(pool)
    held = await pool.acquire()
    waiter = asyncio.ensure_future(pool.acquire())
    await until(lambda: pool.stats().waiting == 1)
    await pool.release(held)
    await pool.release(await waiter)
    assert types(events) == [
        "ConnectionCreated", "ConnectionAcquired", "ConnectionReset",
        "ConnectionAcquired", "ConnectionReset", "ConnectionReturned",
    ]


async def test_closed_on_return_fires_closed_not_returned(make_pool: MakePool) -> None:
    pool = make_pool()
    events = record(pool)
    async with pool.acquire() as conn:
        conn.soft_invalidate()
    assert types(events) == [
        "ConnectionCreated", "ConnectionAcquired", "ConnectionSoftInvalidated",
        "ConnectionClosed",
    ]
    assert events[-1].detail == {"reason": "soft_invalidated"}


async def test_invalidate_and_reset_events(make_pool: MakePool) -> None:
    pool = make_pool()
    events = record(pool)
    async with pool.acquire() as conn:
        await conn.reset()
        conn.invalidate()
    await until(lambda: "ConnectionClosed" in types(events))
    assert types(events)[2:] == ["ConnectionReset", "ConnectionInvalidated", "ConnectionClosed"]
    assert events[-1].detail == {"reason": "invalidated"}


async def test_a_failed_probe_fires_test_failed(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool()
    events = record(pool)
    async with pool.acquire() as conn:
        conn.raw.valid = False
    async with pool.acquire():
        pass
    failed = [e for e in events if isinstance(e, ConnectionTestFailed)]
    assert len(failed) == 1 and "returned False" in failed[0].detail["reason"]
    assert failed[0].connection_id == conn.id


async def test_a_failed_reset_fires_reset_with_the_error(
    make_pool: MakePool, manager: FakeManager
) -> None:
    pool = make_pool()
    events = record(pool)
    manager.reset_error = RuntimeError("nope")
    async with pool.acquire():
        pass
    resets = [e for e in events if isinstance(e, ConnectionReset)]
    assert len(resets) == 1 and "nope" in resets[0].detail["error"]
    assert types(events)[-1] == "ConnectionClosed"


async def test_async_listeners_run(make_pool: MakePool) -> None:
    pool = make_pool()
    seen: list[str] = []

    async def listener(event: PoolEvent) -> None:
        await asyncio.sleep(0)
        seen.append(event.type)

    pool.add_listener(listener)
    async with pool.acquire():
        pass
    await until(lambda: len(seen) == 4)
    assert sorted(seen) == sorted(
        ["ConnectionCreated", "ConnectionAcquired", "ConnectionReset", "ConnectionReturned"]
    )


async def test_failing_listeners_are_logged_and_never_break_the_pool(
    make_pool: MakePool, caplog: pytest.LogCaptureFixture
) -> None:
    pool = make_pool()

    def bad(event: PoolEvent) -> None:
        raise RuntimeError("sync listener bug")

    async def bad_async(event: PoolEvent) -> None:
        raise RuntimeError("async listener bug")

    good: list[PoolEvent] = []
    pool.add_listener(bad)
    pool.add_listener(bad_async)
    pool.add_listener(good.append)

    def failures(message: str) -> int:
        return sum(1 for r in caplog.records if r.exc_info and str(r.exc_info[1]) == message)

    with caplog.at_level(logging.ERROR, logger="reinhardt_db.pool"):
        async with pool.acquire() as conn:
            assert await conn.execute("x")
        await until(lambda: failures("async listener bug") == 4)
    assert failures("sync listener bug") == 4
    assert len(good) == 4 and pool.num_idle == 1


async def test_remove_listener(make_pool: MakePool) -> None:
    pool = make_pool()
    events = record(pool)
    pool.remove_listener(events.append)
    pool.remove_listener(events.append)  # not registered: nothing happens
    async with pool.acquire():
        pass
    assert events == []


async def test_event_logger_logs_to_the_pool_logger(
    make_pool: MakePool, caplog: pytest.LogCaptureFixture
) -> None:
    pool = make_pool(name="main")
    pool.add_listener(EventLogger())
    with caplog.at_level(logging.INFO, logger="reinhardt_db.pool"):
        async with pool.acquire() as conn:
            conn_id = conn.id
    records = [r for r in caplog.records if r.name == "reinhardt_db.pool"]
    assert [r.getMessage().split()[0] for r in records] == [
        "ConnectionCreated", "ConnectionAcquired", "ConnectionReset", "ConnectionReturned",
    ]
    assert f"connection={conn_id}" in records[0].getMessage()
    assert "pool=main" in records[0].getMessage()


async def test_no_event_is_built_without_listeners(
    make_pool: MakePool, manager: FakeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an event was built with no listener registered")

    for module in (_core, pool_module):
        for cls in EVENT_CLASSES:
            if hasattr(module, cls.__name__):
                monkeypatch.setattr(module, cls.__name__, forbidden)
    pool = make_pool(max_lifetime=None)
    async with pool.acquire() as conn:
        await conn.reset()
        conn.soft_invalidate()
    async with pool.acquire() as conn:
        conn.raw.valid = False
    async with pool.acquire() as conn:
        conn.invalidate()
    manager.reset_error = RuntimeError("x")
    async with pool.acquire():
        pass
    await pool.close()
    assert pool.stats().connections_closed == 4
