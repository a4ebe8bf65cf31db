"""Run a coroutine to its end in the current task, whatever cancels the task meanwhile.

A COMMIT that was sent must be awaited to its end: cancelled half way, the
driver drops the connection and nobody knows whether the data is there. The
textbook way, ``asyncio.shield(ensure_future(coro))``, runs the statement in a
task of its own, which costs a task, a shield future and three extra passes of
the event loop per COMMIT (a third of what a one-insert block costs over the
raw driver's BEGIN / INSERT / COMMIT).

:class:`RunToEnd` drives the coroutine from the awaiting task itself. Each
future the coroutine waits on is handed to the task wrapped in a stand-in whose
``cancel()`` refuses, so ``Task.cancel()`` can only mark the task: asyncio then
throws the ``CancelledError`` in when the awaited future is done. The stand-in
keeps it, gives the coroutine the future's real outcome, and goes on; once the
coroutine has finished, the ``CancelledError`` is raised (``asyncio.timeout()``
turns it into ``TimeoutError`` as usual).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Generator
from contextvars import Context
from typing import Any, Generic, TypeVar

__all__ = ["RunToEnd"]

T = TypeVar("T")


class _Uncancellable:
    """What the task waits on instead of ``future``: the same, except that cancel() refuses."""

    __slots__ = ("_asyncio_future_blocking", "future")

    def __init__(self, future: asyncio.Future[Any]) -> None:
        self.future = future
        self._asyncio_future_blocking = True

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self.future.get_loop()

    def add_done_callback(
        self, fn: Callable[[Any], object], *, context: Context | None = None
    ) -> None:
        # The task's wake-up reads the real future's outcome.
        self.future.add_done_callback(fn, context=context)

    def remove_done_callback(self, fn: Callable[[Any], object]) -> int:
        return self.future.remove_done_callback(fn)

    def cancel(self, msg: Any | None = None) -> bool:
        return False

    def cancelled(self) -> bool:
        return False

    def done(self) -> bool:
        return self.future.done()

    def result(self) -> Any:
        return self.future.result()

    def exception(self) -> BaseException | None:
        return self.future.exception()


class RunToEnd(Generic[T]):
    """Await ``coro`` to its end even if the task is cancelled meanwhile.

    ``await RunToEnd(coro)`` gives what ``coro`` returns or raises; when the
    task was cancelled while it ran, ``CancelledError`` is raised after it
    finished instead. ``finished_ok`` then tells whether ``coro`` itself
    succeeded (for a COMMIT: whether the data is there).
    """

    __slots__ = ("coro", "finished_ok")

    def __init__(self, coro: Coroutine[Any, Any, T]) -> None:
        self.coro = coro
        self.finished_ok = False

    def __await__(self) -> Generator[Any, None, T]:
        coro = self.coro
        cancel: BaseException | None = None
        send: Any = None
        throw: BaseException | None = None
        while True:
            try:
                waited = coro.send(send) if throw is None else coro.throw(throw)
            except StopIteration as stop:
                self.finished_ok = True
                if cancel is not None:
                    raise cancel from None
                return stop.value
            except BaseException:
                if cancel is not None:
                    raise cancel from None
                raise
            send = throw = None
            if waited is None:  # a bare yield (asyncio.sleep(0)): nothing to wait for
                try:
                    yield None
                except asyncio.CancelledError as error:
                    cancel = error
                except BaseException as error:
                    throw = error
                continue
            try:
                send = yield _Uncancellable(waited)
            except asyncio.CancelledError as error:
                if not waited.done() or waited.cancelled():
                    # Not the refused cancel (that arrives once the future is
                    # done): the future itself was cancelled, coro's business.
                    throw = error
                else:
                    # The task was cancelled while the future ran: keep the
                    # cancellation for the end, hand on the real outcome.
                    cancel = error
                    failure = waited.exception()
                    if failure is None:
                        send = waited.result()
                    else:
                        throw = failure
            except BaseException as error:
                throw = error
