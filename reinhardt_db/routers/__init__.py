"""Database routers: which database each model's reads and writes go to.

``router`` is the chain of ``settings.routers`` every part of reinhardt_db
asks; :class:`PrimaryReplicaRouter` and :class:`ModelRouter` are built in.
See docs/routing.md.
"""

from reinhardt_db.routers._chain import ConnectionRouter, db_for, relation_allowed, router
from reinhardt_db.routers._state import in_transaction
from reinhardt_db.routers.model_router import ModelRouter
from reinhardt_db.routers.primary_replica import DEFAULT_BACKOFF, PrimaryReplicaRouter
from reinhardt_db.routers.protocol import Router
from reinhardt_db.routers.sharding import ShardRouter

__all__ = [
    "DEFAULT_BACKOFF",
    "ConnectionRouter",
    "ModelRouter",
    "PrimaryReplicaRouter",
    "Router",
    "ShardRouter",
    "db_for",
    "in_transaction",
    "relation_allowed",
    "router",
]
