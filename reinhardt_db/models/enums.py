"""Enumerations for field ``choices``: ``TextChoices`` and ``IntegerChoices``.

Each member is its value (a ``str`` or an ``int``) and carries a human label::

    class Role(models.TextChoices):
        ADMIN = "admin", "Administrator"
        MEMBER = "member"                   # label "Member", from the name

    Role.ADMIN == "admin"; Role.ADMIN.label == "Administrator"
    Role.choices == [("admin", "Administrator"), ("member", "Member")]
"""

from __future__ import annotations

import enum
from typing import Any, cast

__all__ = ["Choices", "ChoicesType", "IntegerChoices", "TextChoices"]


class ChoicesType(enum.EnumType):
    """Metaclass that splits a trailing label off each member's value."""

    def __new__(
        metacls,
        classname: str,
        bases: tuple[type, ...],
        classdict: Any,
        **kwds: Any,
    ) -> ChoicesType:
        labels = []
        for key in list(classdict._member_names):
            value = classdict[key]
            if isinstance(value, (list, tuple)) and len(value) > 1 and isinstance(value[-1], str):
                *rest, label = value
                value = tuple(rest)
            else:
                label = key.replace("_", " ").title()
            labels.append(label)
            # dict.__setitem__ bypasses the enum dict's guard against re-assignment.
            dict.__setitem__(classdict, key, value)
        cls = super().__new__(metacls, classname, bases, classdict, **kwds)
        members: list[Any] = list(cls.__members__.values())
        for member, label in zip(members, labels, strict=False):
            member._label_ = label
        return enum.unique(cast(Any, cls))

    def __contains__(cls, member: object) -> bool:
        if not isinstance(member, enum.Enum):
            return any(x.value == member for x in cls._members())
        return super().__contains__(member)

    def _members(cls) -> list[Any]:
        return list(cls.__members__.values())

    @property
    def names(cls) -> list[str]:
        """Member names, in definition order."""
        return [member.name for member in cls._members()]

    @property
    def choices(cls) -> list[tuple[Any, str]]:
        """``[(value, label), ...]``, ready for a field's ``choices=``."""
        empty = [(None, cls.__empty__)] if hasattr(cls, "__empty__") else []
        return empty + [(member.value, member.label) for member in cls._members()]

    @property
    def labels(cls) -> list[str]:
        """Labels, in definition order."""
        return [label for _, label in cls.choices]

    @property
    def values(cls) -> list[Any]:
        """Values, in definition order."""
        return [value for value, _ in cls.choices]


class Choices(enum.Enum, metaclass=ChoicesType):
    """Base of the choices enumerations; members have a ``label``."""

    _label_: str

    @property
    def label(self) -> str:
        """The human-readable label of this member."""
        return self._label_

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}.{self._name_}"


class IntegerChoices(int, Choices):
    """Choices whose values are integers."""

    @staticmethod
    def _generate_next_value_(name: str, start: int, count: int, last_values: list[Any]) -> int:
        return count + 1


class TextChoices(str, Choices):
    """Choices whose values are strings; ``enum.auto()`` uses the member name."""

    @staticmethod
    def _generate_next_value_(name: str, start: int, count: int, last_values: list[Any]) -> str:
        return name
