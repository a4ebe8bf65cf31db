"""RunToEnd: a coroutine awaited to its end in the current task, whatever cancels it.

What a COMMIT needs (``backends/atomic.py``); the database-level behaviour (a
cancelled block's COMMIT, ``asyncio.timeout()`` around a block) is tested in
``tests/transaction``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reinhardt_db.backends._run_to_end import RunToEnd


class Boom(Exception):
    pass


async def _steps(futures: list[asyncio.Future[Any]], seen: list[Any]) -> str:
    for future in futures:
        try:
            seen.append(await future)
        except Boom as error:
            seen.append(error)
    return "done"


async def test_gives_the_result_and_the_error_of_the_coroutine() -> None:
    async def ok() -> int:
        await asyncio.sleep(0)
        return 7

    async def failing() -> None:
        await asyncio.sleep(0)
        raise Boom("x")

    assert await RunToEnd(ok()) == 7
    run = RunToEnd(failing())
    with pytest.raises(Boom):
        await run
    assert run.finished_ok is False


async def test_a_cancelled_task_finishes_the_coroutine_then_raises_cancelled() -> None:
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(3)]
    seen: list[Any] = []
    run = RunToEnd(_steps(futures, seen))
    task = asyncio.ensure_future(_await(run))
    await asyncio.sleep(0)
    assert task.cancel() is True  # the task is marked; the future is not cancelled
    assert not futures[0].cancelled()
    futures[0].set_result(1)
    await asyncio.sleep(0)
    task.cancel()  # twice, while the next future runs
    futures[1].set_exception(Boom("two"))
    await asyncio.sleep(0)
    futures[2].set_result(3)
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen[0] == 1 and isinstance(seen[1], Boom) and seen[2] == 3
    assert run.finished_ok is True


async def _await(run: RunToEnd[Any]) -> Any:
    return await run


async def test_a_coroutine_that_fails_after_a_cancel_reports_the_cancel() -> None:
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    async def fails_after() -> None:
        await future
        raise Boom("after")

    run = RunToEnd(fails_after())
    task = asyncio.ensure_future(_await(run))
    await asyncio.sleep(0)
    task.cancel()
    future.set_result(None)
    with pytest.raises(asyncio.CancelledError) as caught:
        await task
    assert isinstance(caught.value, asyncio.CancelledError)
    assert run.finished_ok is False


async def test_timeout_around_it_raises_timeout_error_after_the_end() -> None:
    done: list[str] = []

    async def slow() -> None:
        await asyncio.sleep(0.05)
        done.append("finished")

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await RunToEnd(slow())
    assert done == ["finished"]


async def test_a_future_cancelled_by_someone_else_reaches_the_coroutine() -> None:
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    async def waits() -> str:
        try:
            await future
        except asyncio.CancelledError:
            return "saw its future cancelled"
        return "no"

    task = asyncio.ensure_future(_await(RunToEnd(waits())))
    await asyncio.sleep(0)
    future.cancel()
    assert await task == "saw its future cancelled"


async def test_a_bare_yield_under_cancel_still_runs_to_the_end() -> None:
    steps: list[int] = []

    async def yields() -> None:
        for i in range(3):
            await asyncio.sleep(0)
            steps.append(i)

    task = asyncio.ensure_future(_await(RunToEnd(yields())))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert steps == [0, 1, 2]


@settings(max_examples=60, deadline=None)
@given(
    outcomes=st.lists(st.one_of(st.integers(), st.just("boom")), min_size=1, max_size=6),
    cancel_at=st.one_of(st.none(), st.integers(min_value=0, max_value=6)),
)
def test_cancelling_never_changes_what_the_coroutine_sees(
    outcomes: list[Any], cancel_at: int | None
) -> None:
    """Whenever the task is cancelled, the coroutine sees every future's real outcome."""

    async def scenario() -> tuple[list[Any], bool, bool]:
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in outcomes]
        seen: list[Any] = []
        run = RunToEnd(_steps(futures, seen))
        task = asyncio.ensure_future(_await(run))
        cancelled_before_end = False
        for index, (future, outcome) in enumerate(zip(futures, outcomes, strict=True)):
            await asyncio.sleep(0)
            if index == cancel_at:
                task.cancel()
                cancelled_before_end = True
            if outcome == "boom":
                future.set_exception(Boom(index))
            else:
                future.set_result(outcome)
        try:
            await task
            raised_cancel = False
        except asyncio.CancelledError:
            raised_cancel = True
        assert raised_cancel == cancelled_before_end
        return seen, run.finished_ok, raised_cancel

    seen, finished_ok, _ = asyncio.run(scenario())
    assert finished_ok
    assert [s if not isinstance(s, Boom) else "boom" for s in seen] == outcomes
