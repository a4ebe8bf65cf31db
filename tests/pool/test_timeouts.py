"""bounded(): a manager call under a timeout, with no timer when it need not wait."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from reinhardt_db.pool import _timeouts
from reinhardt_db.pool._timeouts import bounded


async def test_a_call_that_does_not_suspend_needs_no_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_timer(*args: Any) -> None:
        raise AssertionError("a timer was armed")

    monkeypatch.setattr(_timeouts.asyncio, "timeout", no_timer)

    async def quick() -> int:
        return 7

    assert await bounded(quick(), 1.0, "quick()") == 7


async def test_a_call_that_suspends_returns_its_value() -> None:
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[int] = loop.create_future()
    loop.call_later(0.01, fut.set_result, 42)

    async def slow() -> int:
        await asyncio.sleep(0)
        value = await fut
        await asyncio.sleep(0.001)
        return value + 1

    assert await bounded(slow(), 1.0, "slow()") == 43


async def test_a_hanging_call_times_out_and_is_cancelled() -> None:
    cancelled = False

    async def hang() -> None:
        nonlocal cancelled
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled = True
            raise

    with pytest.raises(TimeoutError, match=r"hang\(\) did not finish within 0\.02s"):
        await bounded(hang(), 0.02, "hang()")
    assert cancelled
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_errors_propagate_from_any_step() -> None:
    async def fails_at_once() -> None:
        raise ValueError("first step")

    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise ValueError("later step")

    with pytest.raises(ValueError, match="first step"):
        await bounded(fails_at_once(), 1.0, "x")
    with pytest.raises(ValueError, match="later step"):
        await bounded(fails_later(), 1.0, "x")


async def test_an_outer_cancellation_stays_a_cancellation() -> None:
    started = asyncio.Event()
    inner_cancelled = False

    async def hang() -> None:
        nonlocal inner_cancelled
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            inner_cancelled = True
            raise

    task = asyncio.create_task(bounded(hang(), 10.0, "hang()"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert inner_cancelled


async def test_an_outer_timeout_stays_the_outer_timeout() -> None:
    async def hang() -> None:
        await asyncio.sleep(3600)

    with pytest.raises(TimeoutError) as info:
        async with asyncio.timeout(0.02):
            await bounded(hang(), 10.0, "hang()")
    assert "did not finish" not in str(info.value)


async def test_a_call_that_awaits_while_cleaning_up_still_times_out() -> None:
    async def stubborn() -> str:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(0)
            raise
        return "unreachable"

    with pytest.raises(TimeoutError):
        await bounded(stubborn(), 0.01, "stubborn()")
