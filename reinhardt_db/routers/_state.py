"""What routers read of the running task's database state."""

from __future__ import annotations

from reinhardt_db.backends import connections

__all__ = ["in_transaction"]


def in_transaction(alias: str) -> bool:
    """Return True when the current task has a transaction open on ``alias``.

    ``atomic()`` and ``db.transaction()`` both bind a ``ConnectionState`` with
    ``in_transaction`` set to the task; this is the one place routers look, so
    that a change in how transactions are tracked changes only this function.
    """
    state = connections[alias].bound_connection()
    return state is not None and state.in_transaction
