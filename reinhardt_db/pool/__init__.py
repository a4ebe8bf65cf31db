"""A generic async connection pool; each backend brings a :class:`ConnectionManager`.

::

    from reinhardt_db.pool import Pool, PoolOptions

    pool = Pool(MyManager(), PoolOptions(max_size=10), name="default")
    async with pool.acquire() as conn:
        ...
    await pool.close()
"""

from reinhardt_db.pool.base import ConnectionManager
from reinhardt_db.pool.connection import ConnectionMetadata, PoolConnection
from reinhardt_db.pool.errors import (
    InvalidConnection,
    PoolClosed,
    PoolConfigError,
    PoolConnectError,
    PoolError,
    PoolExhausted,
    PoolNotFound,
    PoolTimeout,
)
from reinhardt_db.pool.events import (
    ConnectionAcquired,
    ConnectionClosed,
    ConnectionCreated,
    ConnectionInvalidated,
    ConnectionReset,
    ConnectionReturned,
    ConnectionSoftInvalidated,
    ConnectionTestFailed,
    EventLogger,
    PoolEvent,
)
from reinhardt_db.pool.manager import PoolManager
from reinhardt_db.pool.options import PoolOptions
from reinhardt_db.pool.pool import Pool, PoolAcquireContext
from reinhardt_db.pool.stats import PoolStats

__all__ = [
    "ConnectionAcquired",
    "ConnectionClosed",
    "ConnectionCreated",
    "ConnectionInvalidated",
    "ConnectionManager",
    "ConnectionMetadata",
    "ConnectionReset",
    "ConnectionReturned",
    "ConnectionSoftInvalidated",
    "ConnectionTestFailed",
    "EventLogger",
    "InvalidConnection",
    "Pool",
    "PoolAcquireContext",
    "PoolClosed",
    "PoolConfigError",
    "PoolConnectError",
    "PoolConnection",
    "PoolError",
    "PoolEvent",
    "PoolExhausted",
    "PoolManager",
    "PoolNotFound",
    "PoolOptions",
    "PoolStats",
    "PoolTimeout",
]
