"""``MigrationOptimizer``: fold a list of operations into fewer, equivalent ones.

Each operation is compared with every later one through ``reduce()``:

* a list means "these two become this list" (``CreateModel`` + ``AddField``
  -> one ``CreateModel``; ``AddField`` + ``RemoveField`` -> nothing);
* ``True`` means the later one may move across this one (they touch
  different things), so the search goes on past it;
* ``False`` stops the search for this operation.

A reduction may put its result where the first operation was (when every
operation in between may move across the second) or where the second was (when
the first may move right). Passes repeat until nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from reinhardt_db.migrations.operations.base import Operation

__all__ = ["MigrationOptimizer", "optimize"]


class MigrationOptimizer:
    """Optimize operations of one app: ``MigrationOptimizer().optimize(ops, "blog")``."""

    def __init__(self) -> None:
        self.passes = 0

    def optimize(self, operations: Sequence[Operation], app_label: str) -> list[Operation]:
        """Return an equivalent, shorter (or equal) list of operations."""
        if not app_label:
            raise TypeError("app_label must be a non-empty string.")
        current = list(operations)
        self.passes = 0
        while True:
            self.passes += 1
            result = self._optimize_once(current, app_label)
            if result == current:
                return result
            current = result

    @staticmethod
    def _optimize_once(operations: list[Operation], app_label: str) -> list[Operation]:
        for i, operation in enumerate(operations):
            right = True  # may the result go where the later operation is?
            for j in range(i + 1, len(operations)):
                other = operations[j]
                result = operation.reduce(other, app_label)
                if isinstance(result, list):
                    between = operations[i + 1 : j]
                    if right:
                        merged = [*between, *result]
                    elif all(op.reduce(other, app_label) is True for op in between):
                        merged = [*result, *between]
                    else:
                        break
                    return [*operations[:i], *merged, *operations[j + 1 :]]
                if not result:
                    right = False
        return operations


def optimize(operations: Sequence[Operation], app_label: str) -> list[Operation]:
    """Return ``MigrationOptimizer().optimize(operations, app_label)``."""
    return MigrationOptimizer().optimize(operations, app_label)
