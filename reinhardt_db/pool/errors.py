"""Errors raised by the connection pool (all under :class:`PoolError`)."""

from __future__ import annotations

__all__ = [
    "InvalidConnection",
    "PoolClosed",
    "PoolConfigError",
    "PoolConnectError",
    "PoolError",
    "PoolExhausted",
    "PoolNotFound",
    "PoolTimeout",
]


class PoolError(Exception):
    """Base of every pool error."""


class PoolClosed(PoolError):
    """The pool was closed: it hands out no more connections."""


class PoolTimeout(PoolError):
    """No connection could be handed out within ``acquire_timeout``.

    ``__cause__`` is the last connect error, or None when there was none.
    """


class PoolConnectError(PoolError):
    """A connect made for a ``fail_fast`` acquire failed; ``__cause__`` is the connect error.

    Raised at once instead of retrying until ``acquire_timeout``, so that a caller
    with somewhere else to go (a router's other replicas) goes there now.
    """


class PoolExhausted(PoolError):
    """``max_waiting`` callers are already queued; this one is refused at once."""


class InvalidConnection(PoolError):
    """A connection was released twice, or into a pool that did not hand it out."""


class PoolNotFound(PoolError, KeyError):
    """``PoolManager.get_pool(name)`` found no pool of that name."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "pool not found"


class PoolConfigError(PoolError, ValueError):
    """Pool options are inconsistent, or a pool name is already taken."""
