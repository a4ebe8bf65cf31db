"""Which columns a SELECT of instances reads: ``only()`` and ``defer()`` applied.

Used by the compiler (the queried model and each ``select_related`` model), by
combined queries (the names their rows can be ordered by) and by prefetching.
"""

from __future__ import annotations

from typing import Any

from reinhardt_db.exceptions import FieldError
from reinhardt_db.models.sql.context import LOOKUP_SEP

__all__ = ["loaded_fields", "model_fields"]


def loaded_fields(query: Any) -> list[Any]:
    """The model fields a SELECT of instances reads for ``query`` (deferral applied)."""
    followed = {relation.name for relation, _, _ in query.select_related}
    return model_fields(query.model, query.deferred, "", followed)


def model_fields(
    model: Any, deferred: tuple[frozenset[str], bool], prefix: str, followed: set[str]
) -> list[Any]:
    """The fields of ``model`` to read, reached by the relation path ``prefix``.

    ``only()`` names (``"title"``, ``"author__name"``) keep, at each level, the
    fields named there and the relations the longer names go through; a level
    no name mentions (a related model only ``select_related`` names) is read
    whole. ``defer()`` names drop the fields named at that level. The primary
    key is always read, and so is a foreign key ``select_related`` follows.
    """
    meta = model._meta
    fields = list(meta.concrete_fields)
    names, defer = deferred
    if not names:
        return fields
    start = f"{prefix}{LOOKUP_SEP}" if prefix else ""
    rests = [n[len(start):] for n in names if n.startswith(start)]
    keep = {f.name for f in meta.pk_fields}
    if defer:
        dropped = {r for r in rests if LOOKUP_SEP not in r}
        clash = dropped & followed
        if clash:
            name = sorted(clash)[0]
            raise FieldError(
                f"Field {meta.object_name}.{name} cannot be both deferred and followed with "
                f"select_related(); drop it from defer() or from select_related()."
            )
        return [f for f in fields if f.name not in dropped or f.name in keep]
    wanted = {r.split(LOOKUP_SEP, 1)[0] for r in rests}
    if not wanted and prefix:
        return fields
    keep |= wanted | followed
    return [f for f in fields if f.name in keep]
