"""What happens to a pool's connections, as events for listeners.

Register a listener with ``pool.add_listener(fn)``; ``fn(event)`` may be a plain
function or a coroutine function. ``EventLogger`` is a ready-made listener.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ConnectionAcquired",
    "ConnectionClosed",
    "ConnectionCreated",
    "ConnectionInvalidated",
    "ConnectionReset",
    "ConnectionReturned",
    "ConnectionSoftInvalidated",
    "ConnectionTestFailed",
    "EventLogger",
    "PoolEvent",
]

_logger = logging.getLogger("reinhardt_db.pool")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PoolEvent:
    """Describe one thing that happened to one pooled connection.

    ``connection_id`` is a UUID string, the same for every event of one
    connection; ``pool`` is the pool's name (or None); ``detail`` holds
    event-specific facts, such as the ``reason`` a connection was closed.
    """

    connection_id: str
    pool: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    timestamp: datetime = field(default_factory=_utcnow)

    @property
    def type(self) -> str:
        """Return the event's class name, e.g. ``"ConnectionAcquired"``."""
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        """Return the event as a dict; the timestamp stays a ``datetime``."""
        return {
            "type": self.type,
            "connection_id": self.connection_id,
            "timestamp": self.timestamp,
            "pool": self.pool,
            "detail": dict(self.detail),
        }

    def to_json(self) -> str:
        """Return the event as JSON, with an ISO 8601 timestamp."""
        data = self.to_dict()
        data["timestamp"] = self.timestamp.isoformat()
        return json.dumps(data, default=str)


@dataclass(frozen=True, slots=True)
class ConnectionCreated(PoolEvent):
    """A new connection was opened (and passed ``after_connect``)."""


@dataclass(frozen=True, slots=True)
class ConnectionAcquired(PoolEvent):
    """A connection was handed out; ``detail["wait_seconds"]`` is the time spent queued."""


@dataclass(frozen=True, slots=True)
class ConnectionReturned(PoolEvent):
    """A released connection went back to the idle set."""


@dataclass(frozen=True, slots=True)
class ConnectionClosed(PoolEvent):
    """A connection was closed; ``detail["reason"]`` says why."""


@dataclass(frozen=True, slots=True)
class ConnectionTestFailed(PoolEvent):
    """An idle connection failed ``is_valid`` before hand-out and was discarded."""


@dataclass(frozen=True, slots=True)
class ConnectionInvalidated(PoolEvent):
    """``conn.invalidate()`` was called: the connection is closed now."""


@dataclass(frozen=True, slots=True)
class ConnectionSoftInvalidated(PoolEvent):
    """``conn.soft_invalidate()`` was called: the connection is closed when released."""


@dataclass(frozen=True, slots=True)
class ConnectionReset(PoolEvent):
    """The manager's ``reset`` ran; ``detail["error"]`` is set when it failed."""


class EventLogger:
    """Log every pool event to the ``reinhardt_db.pool`` logger (or another one)::

        pool.add_listener(EventLogger(level=logging.DEBUG))
    """

    __slots__ = ("level", "logger")

    def __init__(self, logger: logging.Logger | None = None, level: int = logging.INFO) -> None:
        """Log to ``logger`` (default ``reinhardt_db.pool``) at ``level``."""
        self.logger = logger if logger is not None else _logger
        self.level = level

    def __call__(self, event: PoolEvent) -> None:
        """Log ``event`` as one line."""
        if self.logger.isEnabledFor(self.level):
            self.logger.log(
                self.level,
                "%s connection=%s pool=%s %s",
                event.type,
                event.connection_id,
                event.pool,
                event.detail,
                extra={"pool_event": event.to_dict()},
            )
