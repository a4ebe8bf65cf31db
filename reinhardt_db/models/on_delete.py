"""``on_delete`` rules of foreign keys: what happens to rows that point at a deleted row.

::

    author = models.ForeignKey(User, on_delete=models.CASCADE)
    reviewer = models.ForeignKey(User, null=True, on_delete=models.SET_NULL)
    status = models.ForeignKey(Status, on_delete=models.SET(default_status_id))

The deletion collector (``models/deletion.py``) carries them out in batches,
in one transaction; the database's own foreign keys have no ``ON DELETE``
action, so signals and soft deletes apply to cascaded rows too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "CASCADE",
    "DO_NOTHING",
    "PROTECT",
    "RESTRICT",
    "SET",
    "SET_DEFAULT",
    "SET_NULL",
    "OnDelete",
]


class OnDelete:
    """One ``on_delete`` rule; compare by identity (``rule is CASCADE``) or ``kind``.

    ``kind`` is ``"cascade" "protect" "restrict" "set_null" "set_default" "set"
    "do_nothing"``; ``SET(value)`` carries ``value`` (a constant or a callable
    called once per delete).
    """

    __slots__ = ("kind", "name", "value")

    def __init__(self, kind: str, name: str, value: Any = None) -> None:
        self.kind = kind
        self.name = name
        self.value = value

    def __repr__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        # SET(value) builds a new rule each time: equal rules have equal kinds and values
        # (migrations compare a field from the code with one rebuilt from a file).
        if not isinstance(other, OnDelete):
            return NotImplemented
        return self.kind == other.kind and self.value == other.value

    def __hash__(self) -> int:
        try:
            return hash((self.kind, self.value))
        except TypeError:
            return hash(self.kind)

    @property
    def sets_value(self) -> bool:
        """True for the rules that update the referring rows instead of deleting them."""
        return self.kind in ("set_null", "set_default", "set")

    def new_value(self, field: Any) -> Any:
        """Return the value a ``SET_*`` rule writes into ``field``."""
        if self.kind == "set_null":
            return None
        if self.kind == "set_default":
            return field.get_default()
        value = self.value
        return value() if callable(value) else value

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``(import path, args, kwargs)`` that rebuild this rule."""
        if self.kind == "set":
            return "reinhardt_db.models.SET", (self.value,), {}
        return f"reinhardt_db.models.{self.name}", (), {}


CASCADE = OnDelete("cascade", "CASCADE")
"""Delete the referring rows too (and what refers to them)."""

PROTECT = OnDelete("protect", "PROTECT")
"""Refuse the delete with ``ProtectedError`` while referring rows exist."""

RESTRICT = OnDelete("restrict", "RESTRICT")
"""Refuse with ``RestrictedError``, unless the referring rows are deleted by a cascade too."""

SET_NULL = OnDelete("set_null", "SET_NULL")
"""Set the foreign key to NULL (the field needs ``null=True``)."""

SET_DEFAULT = OnDelete("set_default", "SET_DEFAULT")
"""Set the foreign key to the field's default (the field needs a ``default``)."""

DO_NOTHING = OnDelete("do_nothing", "DO_NOTHING")
"""Leave the referring rows alone (the database's foreign key may then refuse the delete)."""


def SET(value: Any | Callable[[], Any]) -> OnDelete:
    """Set the foreign key to ``value`` (or to ``value()`` when it is callable)."""
    return OnDelete("set", f"SET({value!r})", value)
