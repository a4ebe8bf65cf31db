"""Transactions: ``atomic()``, ``on_commit()``, savepoints, two-phase commit.

``from reinhardt_db import transaction``. Work in progress: only
``in_atomic_block`` is here yet (the routers need it first).
"""

from __future__ import annotations

from reinhardt_db.backends import connections

__all__ = ["in_atomic_block"]


def in_atomic_block(using: str | None = None) -> bool:
    """Return True when the current task runs inside an atomic block on ``using``.

    ``using`` defaults to ``"default"``. A task created inside a block counts as
    inside it until the block ends. Routers use this to send reads inside a
    transaction to the database that holds it (read-your-writes).
    """
    state = connections[using or "default"].bound_connection()
    return state is not None and (bool(state.atomic_blocks) or state.in_transaction)
