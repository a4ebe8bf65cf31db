"""A snapshot of a pool's counters: :class:`PoolStats`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["PoolStats"]


@dataclass(frozen=True, slots=True)
class PoolStats:
    """Hold the state of a pool at one moment and its totals since it was made.

    ``size``, ``idle``, ``in_use`` and ``waiting`` are current counts (``size``
    counts connections open or opening, ``in_use`` those checked out);
    ``acquires`` counts successful hand-outs, ``timeouts`` acquires that failed
    with ``PoolTimeout``, ``connections_lost`` connections found broken (a failed
    ``is_valid`` or ``reset``), and ``total_wait_seconds`` the time acquirers spent
    queued for a connection.
    """

    size: int
    idle: int
    in_use: int
    waiting: int
    max_size: int
    min_size: int
    acquires: int
    timeouts: int
    connect_errors: int
    connections_created: int
    connections_closed: int
    connections_lost: int
    total_wait_seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Return the counters as a plain dict (for metrics exporters and JSON)."""
        return asdict(self)
