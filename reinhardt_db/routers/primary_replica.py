"""``PrimaryReplicaRouter``: writes to the primary, reads spread over healthy replicas."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from reinhardt_db.routers._state import in_transaction

__all__ = ["DEFAULT_BACKOFF", "PrimaryReplicaRouter"]

#: Seconds a replica that failed to connect is left out of reads.
DEFAULT_BACKOFF = 5.0


class PrimaryReplicaRouter:
    """Send writes to ``primary`` and reads to the ``replicas``, in turn.

    ``replicas`` is a list of aliases (round robin) or ``{"r1": 2, "r2": 1}``
    (weighted: r1 takes two reads of every three, interleaved). A read inside a
    transaction on the primary (``atomic()``) stays on the primary, so a task
    reads what it just wrote. A replica that cannot be connected to is left out
    for ``backoff`` seconds: the read that found it down goes at once to the next
    replica, or to the primary when none is left, without an error; after the
    back-off it is tried again (and used again when it answers).

    >>> PrimaryReplicaRouter(primary="default", replicas={"r1": 2, "r2": 1})
    <PrimaryReplicaRouter primary='default' replicas={'r1': 2, 'r2': 1}>
    """

    def __init__(
        self,
        primary: str = "default",
        replicas: Iterable[str] | Mapping[str, int] = (),
        *,
        backoff: float = DEFAULT_BACKOFF,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(primary, str) or not primary:
            raise ValueError(f"PrimaryReplicaRouter: primary must be an alias, got {primary!r}")
        if isinstance(replicas, str):
            raise ValueError(
                f"PrimaryReplicaRouter: replicas must be a list of aliases or a dict of "
                f"weights, got the string {replicas!r}; write replicas=[{replicas!r}]"
            )
        weights = dict(replicas) if isinstance(replicas, Mapping) else dict.fromkeys(replicas, 1)
        for alias, weight in weights.items():
            if not isinstance(alias, str) or not alias:
                raise ValueError(f"PrimaryReplicaRouter: replica {alias!r} is not an alias")
            if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
                raise ValueError(
                    f"PrimaryReplicaRouter: replica {alias!r} has weight {weight!r}; "
                    "weights are whole numbers of at least 1"
                )
        if primary in weights:
            raise ValueError(
                f"PrimaryReplicaRouter: {primary!r} is both the primary and a replica; "
                "list only the replicas in replicas="
            )
        if isinstance(backoff, bool) or not isinstance(backoff, int | float) or backoff < 0:
            raise ValueError(f"PrimaryReplicaRouter: backoff must be seconds >= 0, got {backoff!r}")
        self.primary = primary
        self.weights = weights
        self.backoff = float(backoff)
        self._clock = clock
        self._current = dict.fromkeys(weights, 0)
        self._total = sum(weights.values())
        self._down_until: dict[str, float] = {}
        #: Reads of these aliases fail fast and are routed again (see ``routers.router``).
        self.failover_aliases = frozenset(weights)
        self._members = frozenset(weights) | {primary}

    @property
    def databases(self) -> tuple[str, ...]:
        """Every alias this router sends statements to (checked by ``reinhardt check``)."""
        return (self.primary, *self.weights)

    def __repr__(self) -> str:
        return f"<PrimaryReplicaRouter primary={self.primary!r} replicas={self.weights!r}>"

    # -- health --------------------------------------------------------------------------------
    def connect_failed(self, alias: str, error: BaseException | None = None) -> None:
        """Leave replica ``alias`` out of reads for ``backoff`` seconds."""
        if alias in self.weights:
            self._down_until[alias] = self._clock() + self.backoff

    def is_down(self, alias: str) -> bool:
        """Return True while replica ``alias`` is left out after a failed connect."""
        until = self._down_until.get(alias)
        if until is None:
            return False
        if self._clock() >= until:
            del self._down_until[alias]
            return False
        return True

    # -- routing ---------------------------------------------------------------------------------
    def db_for_read(self, model: Any, **hints: Any) -> str:
        """A healthy replica (in turn, by weight); the primary inside its transaction."""
        if not self.weights or in_transaction(self.primary):
            return self.primary
        return self._next_replica() or self.primary

    def db_for_write(self, model: Any, **hints: Any) -> str:
        """Always the primary."""
        return self.primary

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        """Objects of the primary and its replicas may be related (they hold the same rows)."""
        db1 = _db_of(obj1)
        db2 = _db_of(obj2)
        if db1 in self._members and db2 in self._members:
            return True
        return None

    def _next_replica(self) -> str | None:
        """Smooth weighted round robin over the replicas that are not down.

        Each turn every healthy replica gains its weight and the one with the
        most is chosen and pays the healthy total back: r1:2, r2:1 reads
        r1, r2, r1, r1, r2, r1 ... rather than r1, r1, r2.
        """
        current = self._current
        best: str | None = None
        total = 0
        for alias, weight in self.weights.items():
            if self._down_until and self.is_down(alias):
                continue
            current[alias] += weight
            total += weight
            if best is None or current[alias] > current[best]:
                best = alias
        if best is not None:
            current[best] -= total
        return best


def _db_of(obj: Any) -> str | None:
    state = obj.__dict__.get("_state")
    return None if state is None else state.db
