"""Pools by name: :class:`PoolManager`."""

from __future__ import annotations

import asyncio
from typing import Any

from reinhardt_db.pool.errors import PoolConfigError, PoolNotFound
from reinhardt_db.pool.pool import Pool

__all__ = ["PoolManager"]


class PoolManager:
    """Keep pools under names, e.g. one per database alias::

        pools = PoolManager()
        pools.add_pool("default", Pool(manager))
        async with pools.get_pool("default").acquire() as conn: ...
        await pools.close_all()
    """

    __slots__ = ("_pools",)

    def __init__(self) -> None:
        """Start with no pools."""
        self._pools: dict[str, Pool[Any]] = {}

    def add_pool(self, name: str, pool: Pool[Any]) -> None:
        """Register ``pool`` as ``name``; raise ``PoolConfigError`` if the name is taken."""
        if name in self._pools:
            raise PoolConfigError(
                f"a pool named {name!r} is already registered; pick another name "
                f"or remove_pool({name!r}) first"
            )
        self._pools[name] = pool

    def get_pool(self, name: str) -> Pool[Any]:
        """Return the pool registered as ``name``; raise ``PoolNotFound`` if there is none."""
        try:
            return self._pools[name]
        except KeyError:
            known = ", ".join(repr(n) for n in self._pools) or "none"
            raise PoolNotFound(
                f"no pool named {name!r} (registered: {known}); add it with add_pool()"
            ) from None

    def remove_pool(self, name: str) -> Pool[Any]:
        """Unregister the pool ``name`` and return it, still open."""
        pool = self.get_pool(name)
        del self._pools[name]
        return pool

    async def close_all(self) -> None:
        """Close every registered pool (concurrently) and forget them."""
        pools = list(self._pools.values())
        self._pools.clear()
        await asyncio.gather(*(pool.close() for pool in pools))

    def __contains__(self, name: object) -> bool:
        return name in self._pools

    def __len__(self) -> int:
        return len(self._pools)

    def __repr__(self) -> str:
        return f"<PoolManager {sorted(self._pools)}>"
