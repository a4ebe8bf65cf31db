"""Small building blocks shared by fields and the query layer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

__all__ = ["Q", "RegisterLookupMixin", "on_lookups_changed"]

_change_listeners: list[Callable[[], None]] = []


def on_lookups_changed(listener: Callable[[], None]) -> None:
    """Call ``listener`` whenever a lookup is registered or unregistered (cache resets)."""
    _change_listeners.append(listener)


def _lookups_changed() -> None:
    for listener in _change_listeners:
        listener()


class RegisterLookupMixin:
    """Let a class (a field class, or a transform) carry its own lookups.

    Lookups registered on a class are visible on its subclasses, so
    ``CharField.register_lookup(MyLookup)`` applies to ``EmailField`` too.
    """

    class_lookups: ClassVar[dict[str, type[Any]]] = {}

    @classmethod
    def register_lookup(cls, lookup: type[Any], lookup_name: str | None = None) -> type[Any]:
        """Register ``lookup`` (a Lookup or Transform class) under its ``lookup_name``."""
        name = lookup_name or lookup.lookup_name
        if "class_lookups" not in cls.__dict__:
            cls.class_lookups = {}
        cls.class_lookups[name] = lookup
        _lookups_changed()
        return lookup

    @classmethod
    def _unregister_lookup(cls, lookup: type[Any], lookup_name: str | None = None) -> None:
        name = lookup_name or lookup.lookup_name
        cls.__dict__.get("class_lookups", {}).pop(name, None)
        _lookups_changed()

    @classmethod
    def get_class_lookups(cls) -> dict[str, type[Any]]:
        """Every lookup visible on this class, subclasses' registrations winning."""
        merged: dict[str, type[Any]] = {}
        for klass in reversed(cls.__mro__):
            merged.update(klass.__dict__.get("class_lookups", {}))
        return merged

    def get_lookup(self, lookup_name: str) -> type[Any] | None:
        """The Lookup class named ``lookup_name`` (not a Transform), or None."""
        found = self.get_class_lookups().get(lookup_name)
        if found is not None and getattr(found, "is_transform", False):
            return None
        return found

    def get_transform(self, lookup_name: str) -> type[Any] | None:
        """The Transform class named ``lookup_name``, or None."""
        found = self.get_class_lookups().get(lookup_name)
        if found is not None and getattr(found, "is_transform", False):
            return found
        return None


class Q:
    """A filter condition: keyword lookups joined by AND, combinable with ``& | ^ ~``.

    ``Q(age__gte=18) | Q(role="admin")`` and ``~Q(username__startswith="_")``
    can be passed to ``filter()``/``exclude()`` wherever keyword lookups can.
    """

    AND: ClassVar[str] = "AND"
    OR: ClassVar[str] = "OR"
    XOR: ClassVar[str] = "XOR"

    __slots__ = ("children", "connector", "negated")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # ``_connector``/``_negated`` are popped by hand so that ``Q(**lookups)`` type-checks
        # whatever the lookups' values are.
        connector = kwargs.pop("_connector", None)
        negated = kwargs.pop("_negated", False)
        self.children: list[Any] = [*args, *sorted(kwargs.items())]
        self.connector: str = connector or Q.AND
        self.negated: bool = bool(negated)

    @classmethod
    def _new(cls, children: list[Any], connector: str, negated: bool) -> Q:
        q = cls.__new__(cls)
        q.children, q.connector, q.negated = children, connector, negated
        return q

    def _combine(self, other: Any, connector: str) -> Q:
        if getattr(other, "conditional", False) and not isinstance(other, Q):
            other = Q(other)  # a boolean expression (Exists) is a condition of its own
        if not isinstance(other, Q):
            raise TypeError(f"cannot combine Q with {type(other).__name__}; wrap it in Q(...)")
        if not other.children:
            return self._new(list(self.children), self.connector, self.negated)
        if not self.children:
            return other._new(list(other.children), other.connector, other.negated)
        return Q._new([self, other], connector, False)

    def __and__(self, other: Any) -> Q:
        return self._combine(other, Q.AND)

    def __or__(self, other: Any) -> Q:
        return self._combine(other, Q.OR)

    def __xor__(self, other: Any) -> Q:
        return self._combine(other, Q.XOR)

    def __invert__(self) -> Q:
        return Q._new(list(self.children), self.connector, not self.negated)

    def __bool__(self) -> bool:
        return bool(self.children)

    def __len__(self) -> int:
        return len(self.children)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Q)
            and self.connector == other.connector
            and self.negated == other.negated
            and self.children == other.children
        )

    def __hash__(self) -> int:
        return hash((self.connector, self.negated, *map(_hashable, self.children)))

    def __repr__(self) -> str:
        inner = f" {self.connector} ".join(
            repr(c) if isinstance(c, Q) else f"{c[0]}={c[1]!r}" if isinstance(c, tuple) else repr(c)
            for c in self.children
        )
        text = f"({inner})"
        return f"<Q: NOT {text}>" if self.negated else f"<Q: {text}>"

    def flatten(self) -> list[Any]:
        """Every node and leaf of the tree, depth first, this Q first."""
        found: list[Any] = [self]
        for child in self.children:
            if isinstance(child, Q):
                found.extend(child.flatten())
            else:
                found.append(child)
        return found

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """Return ``(path, args, kwargs)`` that rebuild this Q (for migration files)."""
        path = "reinhardt_db.models.Q"
        args: tuple[Any, ...] = ()
        kwargs: dict[str, Any] = {}
        if len(self.children) == 1 and not isinstance(self.children[0], Q):
            child = self.children[0]
            if isinstance(child, tuple):
                kwargs = {child[0]: child[1]}
            else:
                args = (child,)
        else:
            args = tuple(self.children)
        if self.connector != Q.AND:
            kwargs["_connector"] = self.connector
        if self.negated:
            kwargs["_negated"] = True
        return path, args, kwargs


def _hashable(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, (list, set, frozenset)):
        return ("__seq__", *map(_hashable, value))
    if isinstance(value, dict):
        return ("__map__", *((k, _hashable(v)) for k, v in value.items()))
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value
