"""Signals: connect, disconnect, send to sync and async receivers."""

from __future__ import annotations

import gc
import time
from typing import Any

import pytest

from reinhardt_db.models.signals import Signal, post_save, pre_delete, pre_save, receiver


class SenderA:
    pass


class SenderB:
    pass


async def test_send_calls_sync_and_async_receivers_in_order() -> None:
    signal = Signal("test")
    calls: list[Any] = []

    def sync_receiver(sender: Any, **kwargs: Any) -> str:
        calls.append(("sync", sender, kwargs["instance"]))
        return "sync result"

    async def async_receiver(sender: Any, instance: Any, **kwargs: Any) -> str:
        calls.append(("async", sender, instance))
        assert kwargs["signal"] is signal
        return "async result"

    signal.connect(sync_receiver)
    signal.connect(async_receiver)
    responses = await signal.send(SenderA, instance=1)
    assert responses == [(sync_receiver, "sync result"), (async_receiver, "async result")]
    assert calls == [("sync", SenderA, 1), ("async", SenderA, 1)]


async def test_sender_filtering() -> None:
    signal = Signal()
    heard: list[Any] = []

    @receiver(signal, sender=SenderA)
    def only_a(sender: Any, **kwargs: Any) -> None:
        heard.append(("a", sender))

    @receiver(signal)
    def everyone(sender: Any, **kwargs: Any) -> None:
        heard.append(("all", sender))

    await signal.send(SenderA)
    await signal.send(SenderB)
    assert heard == [("a", SenderA), ("all", SenderA), ("all", SenderB)]
    assert signal.has_listeners(SenderA) and signal.has_listeners(SenderB)
    assert signal.disconnect(everyone)
    assert not signal.has_listeners(SenderB) and signal.has_listeners(SenderA)
    assert not signal.disconnect(everyone), "already gone"
    assert signal.disconnect(only_a, sender=SenderA)
    assert signal.receivers == []


async def test_connecting_twice_and_dispatch_uid() -> None:
    signal = Signal()

    def handler(**kwargs: Any) -> None:
        pass

    signal.connect(handler)
    signal.connect(handler)
    signal.connect(lambda **kw: None, dispatch_uid="one")
    signal.connect(lambda **kw: None, dispatch_uid="one", weak=False)
    assert len(signal.receivers) == 2
    assert signal.disconnect(dispatch_uid="one")


async def test_weak_receivers_go_away_with_their_owner() -> None:
    signal = Signal()
    heard: list[str] = []

    class Listener:
        def on_event(self, **kwargs: Any) -> None:
            heard.append("method")

    listener = Listener()
    signal.connect(listener.on_event)

    def make() -> Any:
        def local(**kwargs: Any) -> None:
            heard.append("local")

        return local

    signal.connect(make())  # nothing else holds it
    strong = make()
    signal.connect(strong, weak=False)
    del listener
    gc.collect()
    await signal.send(None)
    assert heard == ["local"]
    assert len(signal.receivers) == 1


async def test_receivers_must_accept_kwargs() -> None:
    signal = Signal()

    def no_kwargs(sender: Any) -> None:
        pass

    with pytest.raises(TypeError, match=r"add \*\*kwargs"):
        signal.connect(no_kwargs)
    with pytest.raises(TypeError, match="callable"):
        signal.connect("nope")  # type: ignore[arg-type]


async def test_exceptions_propagate_from_send_and_are_collected_by_send_robust() -> None:
    signal = Signal()
    seen: list[str] = []

    async def boom(**kwargs: Any) -> None:
        raise ValueError("boom")

    def after(**kwargs: Any) -> None:
        seen.append("after")

    signal.connect(boom)
    signal.connect(after)
    with pytest.raises(ValueError, match="boom"):
        await signal.send(None)
    assert seen == []
    responses = await signal.send_robust(None)
    assert isinstance(responses[0][1], ValueError) and responses[1] == (after, None)


async def test_receiver_decorator_with_several_signals() -> None:
    first, second = Signal(), Signal()
    heard: list[Any] = []

    @receiver([first, second], sender=SenderA, weak=False)
    def both(signal: Signal, **kwargs: Any) -> None:
        heard.append(signal)

    await first.send(SenderA)
    await second.send(SenderA)
    assert heard == [first, second]


async def test_send_with_no_receivers_is_nearly_free() -> None:
    signal = Signal()
    assert not signal.receivers and await signal.send(SenderA) == []
    rounds = 20_000
    start = time.perf_counter()
    for _ in range(rounds):
        if signal.receivers:  # what the persistence path does
            await signal.send(SenderA, instance=None)
    guarded = (time.perf_counter() - start) / rounds
    start = time.perf_counter()
    for _ in range(rounds):
        await signal.send(SenderA, instance=None)
    unguarded = (time.perf_counter() - start) / rounds
    assert guarded < 1e-6 and unguarded < 5e-6, (guarded, unguarded)


def test_model_signals_exist() -> None:
    assert {s.name for s in (pre_save, post_save, pre_delete)} == {
        "pre_save", "post_save", "pre_delete",
    }
