"""``ChunkPlan``: which migration of its app each detected operation goes into.

The autodetector makes one migration per app, unless depending on another
app's new migration would close a cycle (two new apps whose models point at
each other): then the app's operations from there on go into a next
migration (a chunk). A chunk of an app depends on the chunk before it and on
chunks of other apps; chunks are optimized one by one, never across.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reinhardt_db.migrations.operations import CreateModel, Operation
from reinhardt_db.migrations.optimizer import MigrationOptimizer
from reinhardt_db.migrations.state import ModelKey

__all__ = ["ChunkPlan"]

Chunk = tuple[str, int]
#: What a chunk needs of another app: ``(app, chunk index)`` of a migration made in
#: this run, or ``(app, "__latest__")`` for what exists already.
Need = tuple[str, Any]


class ChunkPlan:
    """Operations placed in chunks, and what each chunk needs."""

    def __init__(self) -> None:
        self._current: dict[str, int] = {}
        self.chunks: dict[Chunk, list[Operation]] = {}
        self.needs: dict[Chunk, set[Need]] = {}
        self._created_in: dict[ModelKey, int] = {}

    def chunk_creating(self, key: ModelKey) -> int:
        """Return the chunk whose ``CreateModel`` makes ``key`` (0 until placed)."""
        return self._created_in.get(key, 0)

    def place(self, app_label: str, operation: Operation, needs: Iterable[Need]) -> None:
        """Append ``operation`` to its app's current chunk, or start the next one.

        The next one starts when a chunk in ``needs`` already depends on the
        current chunk: depending on it back would be a cycle.
        """
        needs = set(needs)
        chunk = self._current.get(app_label, 0)
        if any(isinstance(index, int) and self.reaches((other, index), (app_label, chunk))
               for other, index in needs):
            chunk += 1
        self._current[app_label] = chunk
        self.chunks.setdefault((app_label, chunk), []).append(operation)
        self.needs.setdefault((app_label, chunk), set()).update(needs)
        if isinstance(operation, CreateModel):
            self._created_in[(app_label, operation.name_lower)] = chunk

    def reaches(self, start: Chunk, goal: Chunk) -> bool:
        """Return whether chunk ``start`` depends, directly or not, on chunk ``goal``."""
        todo, seen = [start], set()
        while todo:
            app, index = todo.pop()
            if (app, index) == goal:
                return True
            if (app, index) in seen:
                continue
            seen.add((app, index))
            if index > 0:
                todo.append((app, index - 1))
            todo += [(o, i) for o, i in self.needs.get((app, index), ()) if isinstance(i, int)]
        return False

    def optimized(
        self, optimizer: MigrationOptimizer
    ) -> dict[str, list[tuple[int, list[Operation]]]]:
        """Return ``{app: [(chunk index, operations)]}``: chunks optimized, empty ones out."""
        result: dict[str, list[tuple[int, list[Operation]]]] = {}
        for (app, index), operations in sorted(self.chunks.items()):
            kept = optimizer.optimize(operations, app)
            if kept:
                result.setdefault(app, []).append((index, kept))
        return result

    def needs_of(
        self, app: str, index: int, kept: dict[str, list[tuple[int, list[Operation]]]]
    ) -> set[Need]:
        """Return what chunk ``index`` needs, with the needs of chunks optimized away before it."""
        needs = set(self.needs.get((app, index), set()))
        kept_indexes = {i for i, _ops in kept.get(app, [])}
        lower = index - 1
        while lower >= 0 and lower not in kept_indexes:
            needs |= self.needs.get((app, lower), set())
            lower -= 1
        return needs

    @staticmethod
    def migration_of(names: dict[Chunk, str], app: str, index: int) -> str | None:
        """The migration holding chunk ``index`` of ``app`` (an earlier one if it emptied)."""
        candidates = [i for a, i in names if a == app and i <= index]
        if candidates:
            return names[app, max(candidates)]
        later = sorted(i for a, i in names if a == app)
        return names[app, later[0]] if later else None
