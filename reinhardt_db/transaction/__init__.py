"""Transactions: ``atomic()``, ``on_commit()``, savepoints, two-phase commit.

::

    from reinhardt_db import transaction

    async with transaction.atomic():
        ...
        transaction.on_commit(send_email)

User docs: docs/transactions.md. The engine under this API is
``reinhardt_db.backends.atomic`` (on the task's ``ConnectionState``).
"""

from __future__ import annotations

from reinhardt_db.backends.atomic import TransactionState
from reinhardt_db.exceptions import TransactionManagementError
from reinhardt_db.transaction._atomic import (
    Atomic,
    atomic,
    get_rollback,
    get_state,
    in_atomic_block,
    on_commit,
    savepoint,
    savepoint_commit,
    savepoint_rollback,
    set_rollback,
)
from reinhardt_db.transaction._two_phase import (
    TwoPhase,
    commit_prepared,
    recover_prepared,
    rollback_prepared,
    two_phase,
)

NOT_STARTED = TransactionState.NOT_STARTED
ACTIVE = TransactionState.ACTIVE
COMMITTED = TransactionState.COMMITTED
ROLLED_BACK = TransactionState.ROLLED_BACK

__all__ = [
    "ACTIVE",
    "COMMITTED",
    "NOT_STARTED",
    "ROLLED_BACK",
    "Atomic",
    "TransactionManagementError",
    "TransactionState",
    "TwoPhase",
    "atomic",
    "commit_prepared",
    "get_rollback",
    "get_state",
    "in_atomic_block",
    "on_commit",
    "recover_prepared",
    "rollback_prepared",
    "savepoint",
    "savepoint_commit",
    "savepoint_rollback",
    "set_rollback",
    "two_phase",
]
