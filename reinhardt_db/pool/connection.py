"""What a pool hands out: :class:`PoolConnection`, and the facts hooks receive."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic

from reinhardt_db.pool.base import C
from reinhardt_db.pool.errors import InvalidConnection

if TYPE_CHECKING:
    from reinhardt_db.pool.pool import Pool

__all__ = ["ConnectionMetadata", "PoolConnection"]


@dataclass(frozen=True, slots=True)
class ConnectionMetadata:
    """Tell ``before_acquire``/``after_release`` hooks how old a connection is.

    ``age`` is the seconds since it was opened; ``idle_for`` the seconds it sat
    idle before this hand-out (0.0 for a new connection, one handed straight from
    another task, and in ``after_release``).
    """

    age: float
    idle_for: float


class ConnectionHolder(Generic[C]):
    """Keep one driver connection and the pool's bookkeeping about it (internal)."""

    __slots__ = ("conn", "created", "dirty", "id", "idle_since", "soft_invalid")

    def __init__(self, conn: C, now: float) -> None:
        """Hold ``conn``, opened at monotonic time ``now``."""
        self.conn = conn
        self.id = str(uuid.uuid4())
        self.created = now
        self.idle_since = now
        self.soft_invalid = False
        # True once a borrower may have changed the session (raw SQL, the raw
        # driver connection taken): the next release runs the manager's reset.
        self.dirty = False


class PoolConnection(Generic[C]):
    """Lend one pooled connection to one task until it is released.

    Use ``.raw`` for the driver connection; other attributes are looked up on it
    too, so ``await conn.execute(...)`` works. A new proxy is made for every
    hand-out and refuses use once released, so a stale reference cannot touch a
    connection another task now holds.

    Taking ``.raw`` (or any driver attribute) marks the session dirty: whoever
    holds the driver connection may change session state, so its release runs
    the manager's ``reset``. Code that only sends statements which leave no
    session state (the ORM) reads ``trusted_raw`` instead, and the release
    resets only when the manager's ``needs_reset`` says so.
    """

    __slots__ = ("_holder", "_id", "_pool", "_released")

    def __init__(self, holder: ConnectionHolder[C], pool: Pool[C]) -> None:
        """Lend ``holder``'s connection on behalf of ``pool``."""
        self._holder: ConnectionHolder[C] | None = holder
        self._id = holder.id
        self._pool = pool
        self._released = False

    @property
    def raw(self) -> C:
        """Return the driver connection and mark the session dirty.

        Raise ``InvalidConnection`` once released.
        """
        holder = self._holder
        if holder is None:
            raise InvalidConnection(self._gone())
        holder.dirty = True
        return holder.conn

    @property
    def trusted_raw(self) -> C:
        """Return the driver connection without marking the session dirty.

        For callers whose statements never leave session state behind (the
        ORM's compiled SQL). Raise ``InvalidConnection`` once released.
        """
        holder = self._holder
        if holder is None:
            raise InvalidConnection(self._gone())
        return holder.conn

    @property
    def dirty(self) -> bool:
        """Return True when the next release will reset the session."""
        return self._live().dirty

    def mark_dirty(self) -> None:
        """Record that the session may have changed, so release resets it."""
        self._live().dirty = True

    @property
    def id(self) -> str:
        """Return the connection's UUID string (the same across hand-outs)."""
        return self._id

    @property
    def pool(self) -> Pool[C]:
        """Return the pool this connection was acquired from."""
        return self._pool

    def invalidate(self) -> None:
        """Close the connection now; it is never handed out again.

        Releasing it afterwards (e.g. leaving ``async with``) is a no-op.
        """
        holder = self._take()
        self._pool._invalidate(holder)

    def soft_invalidate(self) -> None:
        """Mark the connection to be closed instead of reused when it is released."""
        holder = self._live()
        if not holder.soft_invalid:
            holder.soft_invalid = True
            self._pool._soft_invalidated(holder)

    async def reset(self) -> None:
        """Run the manager's ``reset`` now (bounded by ``connect_timeout``).

        On failure the connection is invalidated and the error re-raised.
        """
        holder = self._live()
        try:
            await self._pool._run_reset(holder)
        except BaseException:
            if self._holder is holder:
                self.invalidate()
            raise

    def _live(self) -> ConnectionHolder[C]:
        holder = self._holder
        if holder is None:
            raise InvalidConnection(self._gone())
        return holder

    def _take(self) -> ConnectionHolder[C]:
        holder = self._live()
        self._holder = None
        return holder

    def _gone(self) -> str:
        state = "released" if self._released else "invalidated"
        return (
            f"connection {self._id} was already {state}; acquire a new one with "
            f"pool.acquire() instead of keeping a reference after release"
        )

    def __getattr__(self, name: str) -> Any:
        if name in PoolConnection.__slots__:
            raise AttributeError(name)
        return getattr(self.raw, name)

    def __repr__(self) -> str:
        if self._holder is not None:
            return f"<PoolConnection {self._id} {self._holder.conn!r}>"
        return f"<PoolConnection {self._id} ({'released' if self._released else 'invalidated'})>"
