"""Warnings about operations that lock or rewrite big tables, with the zero-downtime way.

``makemigrations`` prints them under each migration it writes (SPEC §9
"Safety"): a NOT NULL column added with a one-off default, a column type
change, and on PostgreSQL an index built without ``CONCURRENTLY``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from reinhardt_db.migrations.operations import (
    AddField,
    AddIndex,
    AddIndexConcurrently,
    AlterField,
    Operation,
)
from reinhardt_db.migrations.state import ProjectState

__all__ = ["safety_warnings"]


def safety_warnings(
    app_label: str,
    operations: Sequence[Operation],
    state: ProjectState,
    vendors: Iterable[str] = (),
) -> list[str]:
    """Return one warning per risky operation of ``operations`` (applied after ``state``).

    ``vendors`` are the backends the project runs on; index warnings are for
    PostgreSQL only. ``state`` is not changed.
    """
    vendors = set(vendors)
    state = state.clone()
    warnings: list[str] = []
    for operation in operations:
        warning = _warning(app_label, operation, state, vendors)
        if warning:
            warnings.append(warning)
        operation.state_forwards(app_label, state)
    return warnings


def _warning(app_label: str, op: Operation, state: ProjectState, vendors: set[str]) -> str | None:
    if isinstance(op, AddField) and not op.preserve_default and not op.field.null:
        return (
            f"{op.model_name}.{op.name}: adding a NOT NULL column without a default rewrites "
            "and locks the table while every row gets the one-off value. Zero-downtime: add "
            "it with null=True, fill it in batches (RunPython), then make it NOT NULL."
        )
    if isinstance(op, AlterField):
        model = state.models.get((app_label, op.model_name_lower))
        old = model.fields.get(op.name) if model is not None else None
        # A longer varchar keeps its type; another type class rewrites the column.
        if old is not None and _type_changes(old, op.field):
            return (
                f"{op.model_name}.{op.name}: changing the column type from "
                f"{type(old).__name__} to {type(op.field).__name__} rewrites and locks the "
                "table. Zero-downtime: add a new column, backfill it, switch the code over, "
                "then remove the old one."
            )
    if isinstance(op, AddIndex) and not isinstance(op, AddIndexConcurrently) and (
        "postgresql" in vendors
    ):
        return (
            f"{op.model_name}: index {op.index.name} is built with CREATE INDEX, which blocks "
            "writes to the table on PostgreSQL until it is done. Zero-downtime: use "
            "migrations.AddIndexConcurrently in a migration with atomic = False."
        )
    return None


def _type_changes(old: Any, new: Any) -> bool:
    """Return whether altering ``old`` into ``new`` changes the column's type class.

    A relation's column takes its target's type, which an unbound field does
    not know: between two relations the type is taken as kept.
    """
    if getattr(old, "is_relation", False) or getattr(new, "is_relation", False):
        return bool(getattr(old, "is_relation", False)) != bool(getattr(new, "is_relation", False))
    return type(old.column_type()) is not type(new.column_type())
