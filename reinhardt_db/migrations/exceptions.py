"""Errors raised while loading, planning, detecting or writing migrations.

All derive from ``reinhardt_db.exceptions.ReinhardtError`` (so the CLI turns
them into one ``Error: ...`` line); each message names the migrations involved
and what to do about it.
"""

from __future__ import annotations

from collections.abc import Sequence

from reinhardt_db.exceptions import ReinhardtError

__all__ = [
    "AmbiguityError",
    "BadMigrationError",
    "CircularDependencyError",
    "ConflictingMigrationsError",
    "InconsistentMigrationHistory",
    "InvalidMigrationPlan",
    "IrreversibleError",
    "MigrateLockTimeout",
    "MigrationError",
    "MigrationFailed",
    "MigrationQuestionError",
    "NodeNotFoundError",
    "SerializationError",
]

Key = tuple[str, str]


def format_key(key: Key) -> str:
    """Return ``app.name`` for a migration key ``(app, name)``."""
    return f"{key[0]}.{key[1]}"


class MigrationError(ReinhardtError):
    """Base of the errors about migrations."""


class BadMigrationError(MigrationError):
    """A migration file cannot be imported or has no usable ``Migration`` class."""


class NodeNotFoundError(MigrationError):
    """A migration names a dependency (or a target) that does not exist."""

    def __init__(self, message: str, node: Key, origin: Key | None = None) -> None:
        super().__init__(message)
        self.node = node
        self.origin = origin


class CircularDependencyError(MigrationError):
    """Migrations depend on each other in a cycle."""

    def __init__(self, cycle: Sequence[Key]) -> None:
        self.cycle = list(cycle)
        path = " -> ".join(format_key(k) for k in self.cycle)
        super().__init__(
            f"Circular dependency between migrations: {path}. Remove one of these "
            "dependencies (or a run_before) so the chain has a start."
        )


class ConflictingMigrationsError(MigrationError):
    """An app has more than one leaf migration (two branches of history)."""

    def __init__(self, conflicts: dict[str, list[str]]) -> None:
        self.conflicts = conflicts
        parts = "; ".join(f"{app}: {', '.join(sorted(names))}" for app, names in conflicts.items())
        super().__init__(
            f"Conflicting migrations detected (more than one leaf per app): {parts}. "
            "Run 'reinhardt makemigrations --merge' to write a merge migration."
        )


class InconsistentMigrationHistory(MigrationError):
    """A migration is applied while one of its dependencies is not."""


class InvalidMigrationPlan(MigrationError):
    """A plan cannot be made (e.g. unapplying a squashed migration partly)."""


class IrreversibleError(MigrationError):
    """An operation was asked to run backwards but cannot."""


class AmbiguityError(MigrationError):
    """A migration name prefix matches more than one migration."""


class MigrationQuestionError(MigrationError):
    """A question needs an answer that ``--noinput`` cannot give (e.g. a one-off default)."""


class SerializationError(MigrationError):
    """A value cannot be written into a migration file."""


class MigrateLockTimeout(MigrationError):
    """Another ``migrate`` run held the migrate lock for longer than the wait allows."""


class MigrationFailed(MigrationError):
    """A migration failed while running; the message says what ran and what was undone.

    ``migration`` is the one that failed, ``operations_run`` the operations
    that completed before the failing one (still in the database when the
    backend could not roll DDL back), ``rolled_back`` whether they were undone.
    """

    def __init__(
        self, message: str, migration: object, operations_run: Sequence[object], rolled_back: bool
    ) -> None:
        super().__init__(message)
        self.migration = migration
        self.operations_run = list(operations_run)
        self.rolled_back = rolled_back
