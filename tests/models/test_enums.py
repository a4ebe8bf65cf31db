"""TextChoices and IntegerChoices, Django's shape."""

from __future__ import annotations

import enum

import pytest

from reinhardt_db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    MEMBER = "member"
    GUEST_USER = enum.auto()


class Priority(models.IntegerChoices):
    LOW = 1, "Low priority"
    HIGH = 2


def test_text_choices() -> None:
    assert Role.choices == [("admin", "Administrator"), ("member", "Member"),
                            ("GUEST_USER", "Guest User")]
    assert Role.labels == ["Administrator", "Member", "Guest User"]
    assert Role.values == ["admin", "member", "GUEST_USER"]
    assert Role.names == ["ADMIN", "MEMBER", "GUEST_USER"]
    assert Role.ADMIN == "admin" and isinstance(Role.ADMIN, str)
    assert Role.ADMIN.label == "Administrator" and Role("member") is Role.MEMBER
    assert str(Role.ADMIN) == "admin" and f"{Role.ADMIN}" == "admin"
    assert repr(Role.ADMIN) == "Role.ADMIN"
    assert "admin" in Role and Role.ADMIN in Role and "root" not in Role


def test_integer_choices() -> None:
    assert Priority.choices == [(1, "Low priority"), (2, "High")]
    assert Priority.HIGH == 2 and Priority.HIGH + 1 == 3 and Priority(1).label == "Low priority"


def test_empty_label_and_uniqueness() -> None:
    class Size(models.TextChoices):
        __empty__ = "(unknown)"
        S = "s", "Small"

    assert Size.choices == [(None, "(unknown)"), ("s", "Small")]
    with pytest.raises(ValueError, match="duplicate"):
        class Dup(models.IntegerChoices):
            A = 1
            B = 1


def test_choices_enum_in_a_field() -> None:
    field = models.CharField(max_length=10, choices=Role)
    assert field.choices == Role.choices
    field.clean("admin", None)
    field.validate(Role.MEMBER, None)
