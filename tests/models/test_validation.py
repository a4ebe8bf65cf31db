"""clean_fields / clean / full_clean, validators and their error_dict."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.exceptions import ValidationError
from reinhardt_db.models import validators as v

UTC = dt.UTC


class Role(models.TextChoices):
    ADMIN = "admin", "Administrator"
    MEMBER = "member"


class Profile(models.Model):
    username = models.CharField(max_length=8, unique=True)
    email = models.EmailField(blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    age = models.IntegerField(validators=[models.MinValueValidator(0)], default=0)
    score = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    site = models.URLField(blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    slug = models.SlugField(blank=True)
    nick = models.CharField(max_length=8, null=True, blank=True)
    team = models.CharField(max_length=8, blank=True)
    joined = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "tests_validation"
        unique_together = [("team", "age")]
        constraints = [
            models.UniqueConstraint(fields=["email", "role"], name="val_email_role"),
            models.UniqueConstraint(
                fields=["nick"], name="val_nick", violation_error_message="Nick is taken.",
            ),
        ]

    def clean(self) -> None:
        if self.role == Role.ADMIN and not self.email:
            raise ValidationError("Admins need an email address.", code="admin_email")


def codes(exc: ValidationError) -> dict[str, list[str | None]]:
    return {k: [e.code for e in errs] for k, errs in exc.error_dict.items()}


def test_clean_fields_collects_every_error_by_field() -> None:
    profile = Profile(
        username="far_too_long_name", email="nope", role="root", age=-1,
        score=Decimal("123.45"), site="ftp:/x", ip="1.2.3", slug="no spaces",
    )
    with pytest.raises(ValidationError) as info:
        profile.clean_fields()
    assert codes(info.value) == {
        "username": ["max_length"],
        "email": ["invalid"],
        "role": ["invalid_choice"],
        "age": ["min_value"],
        "score": ["max_digits"],
        "site": ["invalid"],
        "ip": ["invalid"],
        "slug": ["invalid"],
    }
    assert info.value.message_dict["username"] == [
        "Ensure this value has at most 8 characters (it has 17)."
    ]


def test_clean_fields_null_blank_and_exclude() -> None:
    profile = Profile(username="", age=None)
    with pytest.raises(ValidationError) as info:
        profile.clean_fields()
    assert codes(info.value) == {"username": ["blank"], "age": ["null"]}
    profile.clean_fields(exclude=["username", "age"])  # nothing else is wrong


def test_clean_fields_converts_values_in_place() -> None:
    profile = Profile(username="ann", age="42", score="1.5", joined="2024-05-17T12:00:00+02:00",
                      ip="2001:DB8::1")
    profile.clean_fields()
    assert profile.age == 42 and profile.score == Decimal("1.5") and profile.ip == "2001:db8::1"
    assert profile.joined == dt.datetime(2024, 5, 17, 10, tzinfo=UTC)


def test_clean_fields_reports_naive_datetimes() -> None:
    profile = Profile(username="ann", joined=dt.datetime(2024, 1, 1))
    with pytest.raises(ValidationError) as info:
        profile.clean_fields()
    assert codes(info.value) == {"joined": ["naive_datetime"]}
    assert "use an aware datetime" in info.value.message_dict["joined"][0]


def test_custom_error_messages() -> None:
    field = models.IntegerField(error_messages={"null": "Give me a number.",
                                                "min_value": "Too small."},
                                validators=[models.MinValueValidator(0)])
    with pytest.raises(ValidationError, match=r"Give me a number\."):
        field.clean(None, None)
    with pytest.raises(ValidationError, match=r"Too small\."):
        field.clean(-5, None)


def test_integer_ranges_are_validated() -> None:
    with pytest.raises(ValidationError, match="less than or equal to 32767"):
        models.SmallIntegerField().clean(40000, None)
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        models.PositiveIntegerField().clean(-1, None)
    assert models.BigIntegerField().clean(2**63 - 1, None) == 2**63 - 1


# -- full_clean with a stand-in manager (no database) ------------------------------------


class RowsQuerySet:
    """Just enough QuerySet for the unique checks: filter/exclude/exists over dicts."""

    def __init__(self, rows: list[dict[str, Any]], log: list[Any]) -> None:
        self.rows, self.log = rows, log

    def using(self, alias: str) -> RowsQuerySet:
        self.log.append(("using", alias))
        return self

    def all(self) -> RowsQuerySet:
        return self

    def filter(self, **lookups: Any) -> RowsQuerySet:
        self.log.append(("filter", lookups))
        rows = [r for r in self.rows if all(r.get(k) == val for k, val in lookups.items())]
        return RowsQuerySet(rows, self.log)

    def exclude(self, **lookups: Any) -> RowsQuerySet:
        self.log.append(("exclude", lookups))
        rows = [r for r in self.rows if not all(r.get(k) == val for k, val in lookups.items())]
        return RowsQuerySet(rows, self.log)

    async def exists(self) -> bool:
        return bool(self.rows)


class RowsManager:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.log: list[Any] = []

    def contribute_to_class(self, model: type, name: str) -> None:
        self.name = name
        setattr(model, name, self)

    def get_queryset(self) -> RowsQuerySet:
        return RowsQuerySet(self.rows, self.log)

    def using(self, alias: str) -> RowsQuerySet:
        return self.get_queryset().using(alias)

    def all(self) -> RowsQuerySet:
        return self.get_queryset()


class Ticket(models.Model):
    code = models.CharField(max_length=5, unique=True)
    row = models.IntegerField()
    seat = models.IntegerField()
    holder = models.CharField(max_length=10, blank=True)
    rows = RowsManager()

    class Meta:
        app_label = "tests_validation"
        unique_together = [("row", "seat")]
        constraints = [
            models.UniqueConstraint(fields=["holder", "row"], name="one_per_row"),
            models.UniqueConstraint(fields=["holder"], name="vip", condition=None),
        ]


@pytest.fixture
def manager() -> RowsManager:
    manager: RowsManager = Ticket._meta.default_manager
    manager.rows[:] = []
    manager.log[:] = []
    return manager


async def test_full_clean_checks_uniques_against_existing_rows(manager: RowsManager) -> None:
    manager.rows.append({"id": 1, "code": "A1", "row": 1, "seat": 1, "holder": "ann"})
    ticket = Ticket(code="A1", row=1, seat=1, holder="ann")
    with pytest.raises(ValidationError) as info:
        await ticket.full_clean()
    assert info.value.message_dict == {
        "code": ["Ticket with this Code already exists."],
        "__all__": [
            "Ticket with this row and seat already exists.",
            "Ticket with this holder and row already exists.",
            "Ticket with this Holder already exists.",
        ],
    }
    assert codes(info.value)["__all__"] == ["unique_together", "unique_together", "unique"]


async def test_full_clean_excludes_the_instance_itself_once_saved(manager: RowsManager) -> None:
    manager.rows.append({"id": 1, "code": "A1", "row": 1, "seat": 1, "holder": "ann"})
    ticket = Ticket.from_db("replica", ["id", "code", "row", "seat", "holder"],
                            [1, "A1", 1, 1, "ann"])
    await ticket.full_clean()
    assert ("using", "replica") in manager.log and ("exclude", {"id": 1}) in manager.log


async def test_full_clean_skips_excluded_failed_and_null_fields(manager: RowsManager) -> None:
    manager.rows.append({"id": 1, "code": "A1", "row": 1, "seat": 1, "holder": ""})
    ticket = Ticket(code="A1", row=1, seat=1, holder="")
    with pytest.raises(ValidationError) as info:
        await ticket.full_clean(exclude=["code"], validate_constraints=False)
    assert list(info.value.error_dict) == ["__all__"]
    await ticket.full_clean(validate_unique=False, validate_constraints=False, exclude=["code"])
    long_code = Ticket(code="TOO_LONG", row=2, seat=2, holder="zed")
    with pytest.raises(ValidationError) as info:
        await long_code.full_clean()
    assert codes(info.value) == {"code": ["max_length"]}
    assert not any(entry == ("filter", {"code": "TOO_LONG"}) for entry in manager.log)


async def test_full_clean_runs_the_clean_hook() -> None:
    profile = Profile(username="root", role=Role.ADMIN)
    with pytest.raises(ValidationError) as info:
        profile.clean_fields()
        profile.clean()
    assert info.value.messages == ["Admins need an email address."]


# -- full_clean against the real databases ----------------------------------------------


async def test_full_clean_unique_checks_on_the_database(
    backend: Database, make_tables: Any
) -> None:
    await make_tables(Profile)
    await backend.execute(
        "INSERT INTO tests_validation_profile (username, email, role, age, site, slug, nick, "
        "team) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        ["ann", "ann@example.com", "member", 30, "", "", "annie", "red"],
    )
    dup = Profile(username="ann", email="ann@example.com", nick="annie", team="red", age=30)
    with pytest.raises(ValidationError) as info:
        await dup.full_clean()
    assert info.value.message_dict == {
        "username": ["Profile with this Username already exists."],
        "__all__": [
            "Profile with this team and age already exists.",
            "Profile with this email and role already exists.",
            "Nick is taken.",
        ],
    }
    admin = Profile(username="bob", role=Role.ADMIN, team="blue")
    with pytest.raises(ValidationError) as info:
        await admin.full_clean()
    assert info.value.message_dict == {"__all__": ["Admins need an email address."]}
    await Profile(username="cy", team="red", age=31, nick="cy").full_clean()


def test_validators_compare_and_deconstruct() -> None:
    assert v.MinValueValidator(3) == v.MinValueValidator(3) != v.MinValueValidator(4)
    assert v.MaxLengthValidator(5).deconstruct() == (
        "reinhardt_db.models.MaxLengthValidator", (5,), {},
    )
    regex = v.RegexValidator(r"^\d+$", message="digits only", code="digits")
    with pytest.raises(ValidationError) as info:
        regex("12a")
    assert info.value.code == "digits" and info.value.message == "digits only"
    v.RegexValidator(r"x", inverse_match=True)("abc")
    v.DecimalValidator(5, 2)(Decimal("123.45"))
    for bad, code in [(Decimal("1234.5"), "max_whole_digits"), (Decimal("1.234"),
                      "max_decimal_places"), (Decimal("123456"), "max_digits")]:
        with pytest.raises(ValidationError) as info:
            v.DecimalValidator(5, 2)(bad)
        assert info.value.code == code


@pytest.mark.parametrize("good", ["a@b.co", "first.last+tag@sub.example.org", "x@localhost",
                                  "x@[127.0.0.1]", "ü@example.com".replace("ü", "u")])
def test_email_validator_accepts(good: str) -> None:
    v.validate_email(good)


@pytest.mark.parametrize("bad", ["plain", "a@", "@b.co", "a@b", "a b@c.co", "a@-b.co"])
def test_email_validator_rejects(bad: str) -> None:
    with pytest.raises(ValidationError):
        v.validate_email(bad)


@pytest.mark.parametrize("good", ["http://example.com", "https://a.b.c:8080/p?q=1#f",
                                  "ftp://10.0.0.1/", "http://[::1]:80/", "https://localhost"])
def test_url_validator_accepts(good: str) -> None:
    v.URLValidator()(good)


@pytest.mark.parametrize("bad", ["example.com", "mailto:a@b.co", "http://", "http://a b.com",
                                 "javascript:alert(1)"])
def test_url_validator_rejects(bad: str) -> None:
    with pytest.raises(ValidationError):
        v.URLValidator()(bad)


def test_ip_validators() -> None:
    v.validate_ipv46_address("::1")
    v.validate_ipv4_address("1.2.3.4")
    with pytest.raises(ValidationError):
        v.validate_ipv4_address("::1")
    with pytest.raises(ValidationError):
        v.validate_ipv6_address("1.2.3.4")
    field = models.GenericIPAddressField(protocol="IPv4")
    with pytest.raises(ValidationError):
        field.clean("::1", None)
