"""Bound a manager call by a timeout without paying for a timer when it need not wait."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any, Generic, TypeVar

__all__ = ["bounded"]

T = TypeVar("T")


async def bounded(call: Coroutine[Any, Any, T], limit: float, what: str) -> T:
    """Await ``call`` for at most ``limit`` seconds; on expiry raise ``TimeoutError``.

    Run the first step inline: a cheap probe or a no-op reset that finishes
    without suspending costs no timer at all (``asyncio.timeout`` costs a few
    microseconds per use, which adds up on the acquire/release hot path). Only a
    call that suspends is finished under ``asyncio.timeout``.
    """
    try:
        step = call.send(None)
    except StopIteration as stop:
        return stop.value
    try:
        async with asyncio.timeout(limit) as cm:
            return await _Resume(call, step)
    except TimeoutError:
        if cm.expired():
            raise TimeoutError(f"{what} did not finish within {limit:.3g}s") from None
        raise


class _Resume(Generic[T]):
    """Drive a coroutine already past its first step, as ``await`` would."""

    __slots__ = ("_call", "_step")

    def __init__(self, call: Coroutine[Any, Any, T], step: Any) -> None:
        self._call = call
        self._step = step

    def __await__(self) -> Generator[Any, Any, T]:
        call, step = self._call, self._step
        while True:
            try:
                sent = yield step
            except GeneratorExit:
                call.close()
                raise
            except BaseException as exc:
                try:
                    step = call.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    step = call.send(sent)
                except StopIteration as stop:
                    return stop.value
