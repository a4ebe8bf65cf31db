"""Which models come first: the references between model states, for the autodetector.

A relation (foreign key, one-to-one, many-to-many and its ``through`` model)
makes its model need another; creating needs the targets first, dropping
needs the referrers gone first, and a cycle is broken at its weakest link.
"""

from __future__ import annotations

from typing import Any

from reinhardt_db.migrations.state import (
    ModelKey,
    ModelState,
    ProjectState,
    field_references,
    field_signature,
    rebuild_field_with,
    resolve_relation,
)
from reinhardt_db.models.fields.composite import CompositePrimaryKey

__all__ = [
    "dependents_first",
    "field_needs",
    "model_needs",
    "options_without",
    "referenced_first",
    "signatures_renamed",
]

Key = ModelKey


def field_needs(field: Any, app_label: str, model_name: str) -> set[Key]:
    """Return the other models ``field`` needs (target, ``through``), as ``(app, model_lower)``."""
    own = (app_label, model_name.lower())
    return {key for key in field_references(field, app_label, model_name) if key != own}


def model_needs(model: ModelState) -> set[Key]:
    refs: set[Key] = set()
    for field in model.fields.values():
        if not isinstance(field, CompositePrimaryKey):
            refs |= field_needs(field, model.app_label, model.name)
    return refs


def referenced_first(keys: list[Key], state: ProjectState) -> list[Key]:
    """Return ``keys`` with the models each one refers to before it, where cycles allow.

    Declaration order among models that are ready. In a cycle the model whose
    remaining references are all weak (a nullable foreign key, a many-to-many)
    goes first, else the first declared; its references to models after it are
    added later (``AddField``).
    """
    wanted = set(keys)
    strong: dict[Key, set[Key]] = {}
    waiting: dict[Key, set[Key]] = {}
    for key in keys:
        model = state.models[key]
        strong[key], waiting[key] = set(), set()
        for field in model.fields.values():
            if isinstance(field, CompositePrimaryKey):
                continue
            refs = field_needs(field, key[0], model.name) & wanted
            waiting[key] |= refs
            if not getattr(field, "many_to_many", False) and not getattr(field, "null", True):
                strong[key] |= refs
    order: list[Key] = []
    remaining = list(keys)
    while remaining:
        ready = next((k for k in remaining if not waiting[k]), None)
        if ready is None:
            ready = next((k for k in remaining if not strong[k] & waiting[k]), remaining[0])
        remaining.remove(ready)
        order.append(ready)
        for key in remaining:
            waiting[key].discard(ready)
    return order


def dependents_first(keys: list[Key], state: ProjectState) -> list[Key]:
    """Return ``keys`` (models to delete) with the models that refer to others first."""
    return list(reversed(referenced_first(keys, state)))


def options_without(options: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """``options`` less the indexes, constraints and groups that use the fields ``names``."""
    result = dict(options)
    if "indexes" in result:
        result["indexes"] = [i for i in result["indexes"] if not names & set(i.field_names)]
    if "constraints" in result:
        result["constraints"] = [
            c for c in result["constraints"] if not names & set(getattr(c, "fields", ()))
        ]
    if "unique_together" in result:
        result["unique_together"] = {g for g in result["unique_together"] if not names & set(g)}
    return {k: v for k, v in result.items() if v or k == "managed"}
def signatures_renamed(model: ModelState, new_name: str) -> dict[str, tuple[Any, ...]]:
    """``model``'s field signatures as they read once it is called ``new_name``.

    A relation to the model itself names it: ``"blog.Node"`` becomes ``"blog.Tree"``.
    """
    label = f"{model.app_label}.{new_name}"
    signatures = {}
    for name, field in model.fields.items():
        remote = getattr(field, "remote_field", None)
        if remote is not None and resolve_relation(
            remote.model, model.app_label, model.name
        ) == model.key:
            field = rebuild_field_with(field, {"to": label})
        signatures[name] = field_signature(field)
    return signatures
