"""Signals: let code hear about model events (saves and deletes).

::

    from reinhardt_db.models.signals import post_save, receiver

    @receiver(post_save, sender=User)
    async def welcome(sender, instance, created, **kwargs):
        if created:
            await send_welcome_mail(instance)

Receivers may be plain functions or coroutine functions; ``await signal.send()``
calls them in the order they were connected and returns
``[(receiver, response), ...]``. With nothing connected, ``signal.receivers``
is an empty list, so hot paths test it before building a ``send()`` call.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any

__all__ = [
    "Signal",
    "m2m_changed",
    "post_delete",
    "post_save",
    "pre_delete",
    "pre_save",
    "receiver",
]

Receiver = Callable[..., Any]
_LookupKey = tuple[Any, int]


def _make_id(target: Any) -> int | tuple[int, int]:
    if hasattr(target, "__func__"):  # a bound method: one id per (object, function)
        return (id(target.__self__), id(target.__func__))
    return id(target)


class Signal:
    """A named event that receivers connect to and senders ``send``.

    ``receivers`` holds ``(lookup_key, receiver_or_weakref, sender, is_weak)``
    entries; it is a plain list so ``if signal.receivers:`` costs one attribute
    read when nothing listens.
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self.receivers: list[tuple[_LookupKey, Any, Any, bool]] = []
        self._cache: dict[int, list[Receiver]] = {}
        self._dead = False

    def __repr__(self) -> str:
        return f"<Signal {self.name or hex(id(self))}>"

    def connect(
        self,
        receiver: Receiver,
        sender: Any = None,
        weak: bool = True,
        dispatch_uid: str | None = None,
    ) -> None:
        """Connect ``receiver`` (sync or async callable taking ``**kwargs``).

        With ``sender``, the receiver hears only sends from that sender (e.g.
        one model class). ``weak=True`` holds the receiver by weak reference, so
        a receiver defined inside a function goes away with it; pass
        ``weak=False`` to keep it alive. ``dispatch_uid`` makes connecting
        twice a no-op when the receiver object differs (e.g. module reloads).
        """
        if not callable(receiver):
            raise TypeError(f"Signal receivers must be callable, got {receiver!r}.")
        if not _accepts_kwargs(receiver):
            raise TypeError(
                f"Signal receiver {receiver!r} must accept keyword arguments: "
                "add **kwargs to its signature."
            )
        self._clear_dead()  # a dead receiver's id may be reused by this one
        key: _LookupKey = (dispatch_uid or _make_id(receiver), id(sender))
        ref: Any = receiver
        if weak:
            if hasattr(receiver, "__self__") and hasattr(receiver, "__func__"):
                ref = weakref.WeakMethod(receiver, self._flag_dead)
            else:
                try:
                    ref = weakref.ref(receiver, self._flag_dead)
                except TypeError:  # not weak-referenceable (e.g. a builtin): keep it
                    weak = False
        if any(entry[0] == key for entry in self.receivers):
            return
        self.receivers.append((key, ref, sender, weak))
        self._cache.clear()

    def disconnect(
        self, receiver: Receiver | None = None, sender: Any = None, dispatch_uid: str | None = None
    ) -> bool:
        """Disconnect a receiver; return whether one was connected."""
        self._clear_dead()
        key = (dispatch_uid or _make_id(receiver), id(sender))
        for index, entry in enumerate(self.receivers):
            if entry[0] == key:
                del self.receivers[index]
                self._cache.clear()
                return True
        return False

    def has_listeners(self, sender: Any = None) -> bool:
        """Return whether any live receiver would hear a send from ``sender``."""
        return bool(self.receivers) and bool(self._live_receivers(sender))

    async def send(self, sender: Any, **named: Any) -> list[tuple[Receiver, Any]]:
        """Call every receiver for ``sender``; await the ones that return awaitables.

        Receivers run one after another in connection order; an exception in a
        receiver propagates and the remaining receivers do not run.
        """
        if not self.receivers:
            return []
        responses: list[tuple[Receiver, Any]] = []
        for func in self._live_receivers(sender):
            response = func(signal=self, sender=sender, **named)
            if inspect.isawaitable(response):
                response = await response
            responses.append((func, response))
        return responses

    async def send_robust(self, sender: Any, **named: Any) -> list[tuple[Receiver, Any]]:
        """Like ``send``, but catch each receiver's exception and return it as the response."""
        if not self.receivers:
            return []
        responses: list[tuple[Receiver, Any]] = []
        for func in self._live_receivers(sender):
            try:
                response = func(signal=self, sender=sender, **named)
                if inspect.isawaitable(response):
                    response = await response
            except Exception as exc:
                response = exc
            responses.append((func, response))
        return responses

    def _flag_dead(self, _ref: Any = None) -> None:
        self._dead = True

    def _clear_dead(self) -> None:
        if self._dead:
            self._dead = False
            self.receivers = [e for e in self.receivers if not (e[3] and e[1]() is None)]
            self._cache.clear()

    def _live_receivers(self, sender: Any) -> list[Receiver]:
        self._clear_dead()
        sender_id = id(sender)
        cached = self._cache.get(sender_id)
        if cached is not None:
            return cached
        none_id = id(None)
        found: list[Receiver] = []
        for (_uid, target_id), ref, _sender, is_weak in self.receivers:
            if target_id == none_id or target_id == sender_id:
                func = ref() if is_weak else ref
                if func is not None:
                    found.append(func)
        self._cache[sender_id] = found
        return found


def _accepts_kwargs(func: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # no signature to inspect (some builtins): trust it
        return True
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def receiver(signal: Signal | list[Signal] | tuple[Signal, ...], **kwargs: Any) -> Callable[
    [Receiver], Receiver
]:
    """Connect the decorated function to ``signal`` (or each of a list of signals).

    ``kwargs`` go to ``Signal.connect`` (``sender``, ``weak``, ``dispatch_uid``).
    """

    def decorator(func: Receiver) -> Receiver:
        for sig in signal if isinstance(signal, (list, tuple)) else [signal]:
            sig.connect(func, **kwargs)
        return func

    return decorator


pre_save = Signal("pre_save")
"""Sent before an instance is saved: ``sender, instance, raw, using, update_fields``."""

post_save = Signal("post_save")
"""Sent after an instance is saved: ``sender, instance, created, raw, using, update_fields``."""

pre_delete = Signal("pre_delete")
"""Sent before each instance is deleted: ``sender, instance, using, origin``."""

post_delete = Signal("post_delete")
"""Sent after each instance is deleted: ``sender, instance, using, origin``."""

m2m_changed = Signal("m2m_changed")
"""Sent when a many-to-many set changes: ``sender`` (the junction model), ``instance``,
``action`` (``pre_add post_add pre_remove post_remove pre_clear post_clear``),
``reverse``, ``model`` (the other side's model), ``pk_set`` (None for clears), ``using``."""
