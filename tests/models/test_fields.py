"""Field definitions, options, defaults, coercion and validation (no database)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.exceptions import FieldError, ValidationError
from reinhardt_db.testing import isolate_apps

UTC = dt.UTC


def define(**fields: Any) -> type[models.Model]:
    """Declare a throwaway model ``Thing`` in the current (isolated) registry."""
    attrs: dict[str, Any] = {
        "__module__": __name__,
        "Meta": type("Meta", (), {"app_label": "tests_fields"}),
        **fields,
    }
    return type("Thing", (models.Model,), attrs)  # type: ignore[return-value]


@pytest.fixture(autouse=True)
def _isolated() -> Any:
    with isolate_apps():
        yield


# -- bad definitions fail at class creation, naming Model.field and the fix -----------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": models.CharField()}, "Thing.name: CharField requires max_length"),
        ({"name": models.SlugField(max_length=None)}, "SlugField requires max_length"),
        ({"name": models.CharField(max_length=0)}, "max_length must be a positive integer"),
        ({"price": models.DecimalField(decimal_places=2)}, "Thing.price: DecimalField requires "
                                                           "max_digits, e.g. DecimalField("),
        ({"price": models.DecimalField(max_digits=5)}, "requires decimal_places"),
        ({"price": models.DecimalField(max_digits=2, decimal_places=3)},
         "decimal_places (3) must not exceed max_digits (2)"),
        ({"at": models.DateTimeField(auto_now=True, default=None)},
         "Thing.at: auto_now and default are mutually exclusive"),
        ({"on": models.DateField(auto_now_add=True, default=dt.date.today)},
         "auto_now_add and default are mutually exclusive"),
        ({"at": models.DateTimeField(auto_now=True, auto_now_add=True)},
         "auto_now and auto_now_add are mutually exclusive"),
        ({"first__name": models.IntegerField()}, "must not contain '__'"),
        ({"name_": models.IntegerField()}, "must not end with an underscore"),
        ({"pk": models.IntegerField()}, "'pk' is reserved for the primary key"),
        ({"a": models.IntegerField(primary_key=True), "b": models.IntegerField(primary_key=True)},
         "fields 'a' and 'b' both set primary_key=True"),
        ({"key": models.IntegerField(primary_key=True, null=True)}, "cannot be null"),
        ({"num": models.AutoField()}, "AutoField must set primary_key=True; use IntegerField"),
        ({"id": models.IntegerField()}, "'id' can only be used as a field name"),
        ({"at": models.DateTimeField(db_default=dt.datetime.now)}, "db_default must be a literal"),
    ],
)
def test_bad_definitions_raise_field_error(fields: dict[str, Any], expected: str) -> None:
    with pytest.raises(FieldError) as info:
        define(**fields)
    assert expected in str(info.value)


def test_bad_choices_shape_is_rejected() -> None:
    with pytest.raises(FieldError, match="choices must be"):
        models.CharField(max_length=5, choices=["a", "b"])


# -- defaults ---------------------------------------------------------------------------


def test_defaults_values_and_callables() -> None:
    calls: list[int] = []

    def next_number() -> int:
        calls.append(1)
        return len(calls)

    thing = define(
        num=models.IntegerField(default=next_number),
        name=models.CharField(max_length=5),
        count=models.IntegerField(),
        opt=models.IntegerField(null=True),
        data=models.JSONField(default={"tags": []}),
        raw=models.BinaryField(),
        flag=models.BooleanField(default=False),
    )
    a, b = thing(), thing()
    assert (a.num, b.num) == (1, 2)
    assert a.name == "" and a.count is None and a.opt is None and a.flag is False
    assert a.raw == b""
    a.data["tags"].append("x")
    assert b.data == {"tags": []}, "mutable defaults are copied per instance"


def test_db_default_without_default_is_the_database_default_marker() -> None:
    thing = define(
        score=models.IntegerField(db_default=7),
        both=models.IntegerField(db_default=7, default=3),
    )
    obj = thing()
    assert obj.score is models.DATABASE_DEFAULT
    assert obj.both == 3
    assert [f.name for f in thing._meta.db_returning_fields] == ["id", "score", "both"]


def test_auto_now_pre_save_stamps_aware_utc() -> None:
    thing = define(
        created=models.DateTimeField(auto_now_add=True),
        updated=models.DateTimeField(auto_now=True),
        day=models.DateField(auto_now=True),
    )
    obj = thing()
    created, updated = thing._meta.get_field("created"), thing._meta.get_field("updated")
    before = dt.datetime.now(UTC)
    stamped = created.pre_save(obj, add=True)
    assert stamped.tzinfo is UTC and stamped >= before and obj.created == stamped
    assert created.pre_save(obj, add=False) == stamped  # only on insert
    assert updated.pre_save(obj, add=False).tzinfo is UTC
    assert isinstance(thing._meta.get_field("day").pre_save(obj, add=False), dt.date)
    assert created.editable is False and created.blank is True


# -- to_python ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        (models.IntegerField(), "42", 42),
        (models.IntegerField(), 42.0, 42),
        (models.IntegerField(), Decimal("7"), 7),
        (models.IntegerField(), True, 1),
        (models.FloatField(), "1.5", 1.5),
        (models.FloatField(), 2, 2.0),
        (models.DecimalField(max_digits=5, decimal_places=2), "1.50", Decimal("1.50")),
        (models.DecimalField(max_digits=5, decimal_places=2), 0.1, Decimal("0.1")),
        (models.DecimalField(max_digits=5, decimal_places=2), 3, Decimal(3)),
        (models.BooleanField(), "true", True),
        (models.BooleanField(), "0", False),
        (models.BooleanField(), 1, True),
        (models.CharField(max_length=5), 12, "12"),
        (models.DateField(), "2024-02-29", dt.date(2024, 2, 29)),
        (models.DateField(), dt.datetime(2024, 1, 1, 23, tzinfo=dt.timezone(dt.timedelta(hours=-3))),
         dt.date(2024, 1, 2)),
        (models.DateTimeField(), "2024-05-17T12:30:00Z", dt.datetime(2024, 5, 17, 12, 30, tzinfo=UTC)),
        (models.DateTimeField(), "2024-05-17 14:30:00+02:00",
         dt.datetime(2024, 5, 17, 12, 30, tzinfo=UTC)),
        (models.DateTimeField(), dt.date(2024, 5, 17), dt.datetime(2024, 5, 17, tzinfo=UTC)),
        (models.TimeField(), "13:45:01.5", dt.time(13, 45, 1, 500000)),
        (models.DurationField(), "1 day, 2:03:04.000005",
         dt.timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=5)),
        (models.DurationField(), "-1 day, 23:00:00", dt.timedelta(hours=-1)),
        (models.DurationField(), "P1DT2H", dt.timedelta(days=1, hours=2)),
        (models.DurationField(), "01:30:00", dt.timedelta(minutes=90)),
        (models.UUIDField(), "12345678123456781234567812345678",
         uuid.UUID("12345678-1234-5678-1234-567812345678")),
        (models.UUIDField(), 1, uuid.UUID(int=1)),
        (models.BinaryField(), bytearray(b"ab"), b"ab"),
        (models.BinaryField(), memoryview(b"ab"), b"ab"),
        (models.GenericIPAddressField(), "2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        (models.GenericIPAddressField(unpack_ipv4=True), "::ffff:10.0.0.1", "10.0.0.1"),
        (models.GenericIPAddressField(null=True), "", None),
    ],
)
def test_to_python_coerces(field: models.Field[Any], raw: Any, expected: Any) -> None:
    result = field.to_python(raw)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        (models.IntegerField(), "abc"),
        (models.IntegerField(), 1.5),
        (models.IntegerField(), float("nan")),
        (models.FloatField(), "x"),
        (models.DecimalField(max_digits=5, decimal_places=2), "1,5"),
        (models.DecimalField(max_digits=5, decimal_places=2), "NaN"),
        (models.DecimalField(max_digits=5, decimal_places=2), float("inf")),
        (models.BooleanField(), "maybe"),
        (models.DateField(), "17/05/2024"),
        (models.DateTimeField(), "yesterday"),
        (models.DateTimeField(), 12),
        (models.TimeField(), "25:00"),
        (models.TimeField(), dt.time(1, tzinfo=UTC)),
        (models.DurationField(), 5),
        (models.UUIDField(), "not-a-uuid"),
        (models.BinaryField(), "text"),
        (models.GenericIPAddressField(), "256.1.1.1"),
    ],
)
def test_to_python_rejects_with_validation_error(field: models.Field[Any], raw: Any) -> None:
    with pytest.raises(ValidationError):
        field.to_python(raw)


def test_naive_datetime_is_an_error_naming_the_field_and_the_fix() -> None:
    thing = define(at=models.DateTimeField())
    field = thing._meta.get_field("at")
    naive = dt.datetime(2024, 1, 1, 12)
    for attempt in (
        lambda: field.to_python(naive),
        lambda: field.get_db_prep_value(naive, "postgresql"),
        lambda: field.get_db_prep_value(naive, "mysql"),
        lambda: field.get_db_prep_value(naive, "sqlite"),
        lambda: field.to_python("2024-01-01T12:00:00"),
    ):
        with pytest.raises(ValidationError) as info:
            attempt()
        assert "Thing.at received a naive datetime" in str(info.value)
        assert "datetime.now(timezone.utc)" in str(info.value)
        assert info.value.code == "naive_datetime"


def test_aware_non_utc_datetime_is_converted_to_utc() -> None:
    field = models.DateTimeField()
    paris = dt.timezone(dt.timedelta(hours=2))
    value = field.to_python(dt.datetime(2024, 6, 1, 14, 0, tzinfo=paris))
    assert value == dt.datetime(2024, 6, 1, 12, 0, tzinfo=UTC) and value.tzinfo is UTC


def test_choices_enum_member_is_stored_as_its_plain_value() -> None:
    class Role(models.TextChoices):
        ADMIN = "admin", "Administrator"

    class Level(models.IntegerChoices):
        HIGH = 3

    assert type(models.CharField(max_length=5).get_db_prep_value(Role.ADMIN, "sqlite")) is str
    assert type(models.IntegerField().get_db_prep_value(Level.HIGH, "sqlite")) is int


# -- descriptors ---------------------------------------------------------------------------


def test_class_access_returns_field_ref_and_instances_read_dict() -> None:
    from reinhardt_db.models.expressions import FieldRef

    thing = define(age=models.IntegerField(default=3))
    ref = thing.age
    assert isinstance(ref, FieldRef)
    obj = thing()
    assert obj.age == 3
    obj.age = 4
    assert obj.__dict__["age"] == 4


def test_fields_are_not_class_attributes_until_a_load_defers_them() -> None:
    # No class attribute under a value's name, so CPython specialises the row
    # readers' stores; class access, dir() and hasattr() still see the fields.
    from reinhardt_db.models.expressions import FieldRef

    parent = define(name=models.CharField(max_length=5))
    child_attrs: dict[str, Any] = {
        "__module__": __name__,
        "Meta": type("Meta", (), {"app_label": "tests_fields"}),
        "parent": models.ForeignKey(parent, on_delete=models.CASCADE),
        "age": models.IntegerField(default=3),
    }
    child: Any = type("Child", (models.Model,), child_attrs)
    for name in ("id", "age", "parent_id"):
        assert name not in vars(child)
    assert isinstance(child.age, FieldRef) and isinstance(child.parent_id, FieldRef)
    assert {"age", "parent", "parent_id"} <= set(dir(child))
    assert hasattr(child, "age") and not hasattr(child, "agee")
    with pytest.raises(AttributeError, match="type object 'Child' has no attribute 'agee'"):
        child.agee  # noqa: B018

    child.from_db("default", ["id", "parent_id"], [1, 2])  # age deferred: installed
    assert vars(child)["age"] is child._meta.get_field("age")
    assert "parent_id" not in vars(child) and "id" not in vars(child)
    whole = child.from_db("default", ["id", "parent_id", "age"], [1, 2, 5])
    assert whole.age == 5
    assert isinstance(child.age, FieldRef)  # class access is unchanged by the install


def test_abstract_parent_fields_reach_subclasses_through_class_access() -> None:
    from reinhardt_db.models.expressions import FieldRef

    base_attrs: dict[str, Any] = {
        "__module__": __name__,
        "Meta": type("Meta", (), {"app_label": "tests_fields", "abstract": True}),
        "created": models.IntegerField(default=0),
    }
    base: Any = type("Stamped", (models.Model,), base_attrs)
    sub: Any = type("Sub", (base,), {
        "__module__": __name__, "Meta": type("Meta", (), {"app_label": "tests_fields"}),
    })
    assert "created" not in vars(sub) and "created" not in vars(base)
    ref = sub.created
    assert isinstance(ref, FieldRef) and ref.model is sub
    assert sub(created=4).created == 4


def test_deferred_field_access_raises_with_the_fix_and_does_no_io() -> None:
    thing = define(age=models.IntegerField(), name=models.CharField(max_length=5))
    obj = thing.from_db("default", ["id", "name"], [1, "ann"])
    assert obj.name == "ann"
    with pytest.raises(FieldError) as info:
        obj.age  # noqa: B018
    message = str(info.value)
    assert "Thing.age was deferred" in message
    assert "refresh_from_db(fields=[\"age\"])" in message and "defer()" in message
    assert obj.get_deferred_fields() == {"age"}


def test_get_display_for_choices() -> None:
    class Role(models.TextChoices):
        ADMIN = "admin", "Administrator"
        MEMBER = "member"

    thing = define(role=models.CharField(max_length=10, choices=Role, default=Role.MEMBER))
    obj = thing()
    assert obj.get_role_display() == "Member"
    obj.role = "nope"
    assert obj.get_role_display() == "nope"


def test_field_identity_helpers() -> None:
    thing = define(full_name=models.CharField(max_length=5, db_column="fullname"))
    field = thing._meta.get_field("full_name")
    assert (field.name, field.attname, field.column) == ("full_name", "full_name", "fullname")
    assert field.verbose_name == "full name"
    assert str(field) == "tests_fields.Thing.full_name"
    assert repr(field) == "<reinhardt_db.models.fields.text.CharField: full_name>"
    assert field.is_relation is False and field.remote_field is None
    assert field.get_internal_type() == "CharField"


def test_deconstruct_round_trips_the_options() -> None:
    field = models.DecimalField(
        max_digits=8, decimal_places=3, null=True, db_index=True, default=Decimal("1.5"),
        db_comment="price", validators=[models.MinValueValidator(0)],
    )
    thing = define(price=field)
    name, path, args, kwargs = thing._meta.get_field("price").deconstruct()
    assert (name, path, args) == ("price", "reinhardt_db.models.DecimalField", [])
    assert kwargs == {
        "null": True, "db_index": True, "default": Decimal("1.5"), "db_comment": "price",
        "max_digits": 8, "decimal_places": 3, "validators": [models.MinValueValidator(0)],
    }
    rebuilt = models.DecimalField(**kwargs)
    assert rebuilt.deconstruct()[3] == kwargs
    assert models.CharField(max_length=3, primary_key=True).deconstruct()[3] == {
        "primary_key": True, "max_length": 3,
    }
    assert models.DateTimeField(auto_now=True).deconstruct()[3] == {
        "blank": True, "editable": False, "auto_now": True,
    }


def test_custom_lookups_register_on_field_classes() -> None:
    class Shout:
        lookup_name = "shout"

    models.CharField.register_lookup(Shout)
    try:
        assert models.EmailField(max_length=5).get_lookup("shout") is Shout
        assert models.IntegerField().get_lookup("shout") is None
    finally:
        models.CharField._unregister_lookup(Shout)
