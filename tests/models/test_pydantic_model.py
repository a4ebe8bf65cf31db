"""``Model.pydantic_model()``: types, constraints, defaults, instances, relations, caching.

The property at the end: whatever the pydantic model accepts, the ORM stores and
reads back equal, on every backend.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pydantic
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.exceptions import FieldDoesNotExist, RelationNotLoaded

UTC = dt.UTC
APP = "tests_pydantic"


class Kind(models.TextChoices):
    ALPHA = "a", "Alpha"
    BETA = "b"


class Level(models.IntegerChoices):
    LOW = 1
    HIGH = 2


class Owner(models.Model):
    code = models.CharField(max_length=8, primary_key=True)

    class Meta:
        app_label = APP


class Everything(models.Model):
    """One field of every type."""

    char = models.CharField("short text", max_length=10, help_text="Up to ten characters")
    text = models.TextField(blank=True)
    slug = models.SlugField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    url = models.URLField(blank=True)
    integer = models.IntegerField(
        default=0, validators=[models.MinValueValidator(-5), models.MaxValueValidator(500)]
    )
    small = models.SmallIntegerField(null=True)
    big = models.BigIntegerField(null=True)
    positive = models.PositiveIntegerField(null=True)
    positive_small = models.PositiveSmallIntegerField(null=True)
    positive_big = models.PositiveBigIntegerField(null=True)
    real = models.FloatField(null=True)
    money = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    flag = models.BooleanField(default=False)
    day = models.DateField(null=True)
    moment = models.DateTimeField(null=True)
    clock = models.TimeField(null=True)
    span = models.DurationField(null=True)
    uid = models.UUIDField(default=uuid.uuid4)
    doc = models.JSONField(default=dict, blank=True)
    blob = models.BinaryField(null=True, editable=True)
    ip = models.GenericIPAddressField(null=True)
    kind = models.CharField(max_length=1, choices=Kind.choices, default=Kind.ALPHA)
    level = models.IntegerField(choices=Level.choices, null=True)
    created = models.DateTimeField(auto_now_add=True)
    owner = models.ForeignKey(Owner, on_delete=models.CASCADE, null=True)

    class Meta:
        app_label = APP


class Tag(models.Model):
    name = models.CharField(max_length=20)

    class Meta:
        app_label = APP


class Post(models.Model):
    title = models.CharField(max_length=40)
    author = models.ForeignKey("Writer", on_delete=models.CASCADE, related_name="posts")
    tags = models.ManyToManyField(Tag, related_name="posts", blank=True)
    code = models.CharField(max_length=8, validators=[models.RegexValidator(r"^[A-Z]+$")],
                            db_default="NEW")
    stamp = models.DateTimeField(db_default=sa.func.current_timestamp())

    class Meta:
        app_label = APP


class Writer(models.Model):
    name = models.CharField(max_length=20)

    class Meta:
        app_label = APP


class Badge(models.Model):
    writer = models.OneToOneField(Writer, on_delete=models.CASCADE, related_name="badge")

    class Meta:
        app_label = APP


def schema_of(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()["properties"]


def errors(model: type[pydantic.BaseModel], **data: Any) -> dict[str, str]:
    """``{field: error type}`` of validating ``data``."""
    with pytest.raises(pydantic.ValidationError) as info:
        model.model_validate(data)
    return {str(e["loc"][0]): e["type"] for e in info.value.errors()}


def valid(**data: Any) -> dict[str, Any]:
    return {"char": "x", **data}


# -- the schema -------------------------------------------------------------------------------


def test_schema_has_each_field_types_constraints() -> None:
    schema = Everything.pydantic_model().model_json_schema()
    props = schema["properties"]
    assert schema["title"] == "Everything"
    assert schema["description"] == "One field of every type."
    assert schema["required"] == ["char"]
    assert props["char"] == {
        "type": "string", "maxLength": 10, "minLength": 1,
        "title": "short text", "description": "Up to ten characters",
    }
    assert props["text"] == {"type": "string", "default": "", "title": "Text"}
    assert props["slug"]["pattern"] == "^[-a-zA-Z0-9_]+$"
    assert props["slug"]["maxLength"] == 20
    assert props["email"]["format"] == "email" and props["email"]["maxLength"] == 254
    assert props["url"]["format"] == "uri" and props["url"]["maxLength"] == 200
    # MinValueValidator/MaxValueValidator tighten the column's range.
    assert (props["integer"]["minimum"], props["integer"]["maximum"]) == (-5, 500)
    ranges = {
        "small": (-(2**15), 2**15 - 1), "big": (-(2**63), 2**63 - 1),
        "positive": (0, 2**31 - 1), "positive_small": (0, 2**15 - 1),
        "positive_big": (0, 2**63 - 1),
    }
    for name, (low, high) in ranges.items():
        number = props[name]["anyOf"][0]
        assert (number["type"], number["minimum"], number["maximum"]) == ("integer", low, high)
        assert props[name]["anyOf"][1] == {"type": "null"} and props[name]["default"] is None
    assert props["real"]["anyOf"][0] == {"type": "number"}
    money = props["money"]["anyOf"][0]
    assert (money["minimum"], money["maximum"]) == (-9999.99, 9999.99)
    assert props["flag"] == {"type": "boolean", "default": False, "title": "Flag"}
    assert props["day"]["anyOf"][0] == {"type": "string", "format": "date"}
    assert props["moment"]["anyOf"][0] == {"type": "string", "format": "date-time"}
    assert props["clock"]["anyOf"][0] == {"type": "string", "format": "time"}
    assert props["span"]["anyOf"][0] == {"type": "string", "format": "duration"}
    assert props["uid"]["format"] == "uuid" and "default" not in props["uid"]
    assert props["blob"]["anyOf"][0]["format"] == "base64url"
    assert props["ip"]["anyOf"][0] == {
        "type": "string", "format": "ipvanyaddress", "maxLength": 39, "minLength": 1,
    }
    assert props["kind"] == {"type": "string", "enum": ["a", "b"], "default": "a", "title": "Kind"}
    assert props["level"]["anyOf"][0] == {"type": "integer", "enum": [1, 2]}
    assert props["created"]["readOnly"] is True and props["created"]["default"] is None
    assert props["id"]["readOnly"] is True and props["id"]["default"] is None
    # A foreign key is its column, typed as the target's key.
    assert "owner" not in props
    assert props["owner_id"]["anyOf"][0] == {"type": "string", "maxLength": 8, "minLength": 1}


def test_defaults_follow_what_a_new_instance_gets() -> None:
    data = Everything.pydantic_model().model_validate({"char": "x"})
    assert data.integer == 0 and data.flag is False and data.kind == "a"
    assert data.text == "" and data.doc == {} and data.small is None
    assert isinstance(data.uid, uuid.UUID)
    assert data.uid != Everything.pydantic_model().model_validate({"char": "x"}).uid
    post = Post.pydantic_model()
    fields = post.model_fields
    assert fields["code"].default == "NEW"  # a literal db_default is the default
    assert fields["stamp"].default is None  # an SQL one: the database fills it
    assert post.model_json_schema()["required"] == ["title", "author_id"]


def test_mutable_defaults_are_not_shared() -> None:
    schema = Everything.pydantic_model()
    first = schema.model_validate({"char": "x"})
    first.doc["k"] = 1
    assert schema.model_validate({"char": "x"}).doc == {}


# -- validation: what the database would refuse is refused here ----------------------------


def test_values_the_database_refuses_are_validation_errors() -> None:
    schema = Everything.pydantic_model()
    assert errors(schema, char="x" * 11) == {"char": "string_too_long"}
    assert errors(schema, char="") == {"char": "string_too_short"}  # blank=False
    assert errors(schema, char="a\x00b") == {"char": "data_error"}  # PostgreSQL refuses NUL
    assert errors(schema, **valid(text="\ud800")) == {"text": "data_error"}
    assert errors(schema, **valid(small=2**15)) == {"small": "less_than_equal"}
    assert errors(schema, **valid(big=2**63)) == {"big": "less_than_equal"}
    assert errors(schema, **valid(positive=-1)) == {"positive": "greater_than_equal"}
    assert errors(schema, **valid(positive_small=2**15)) == {"positive_small": "less_than_equal"}
    assert errors(schema, **valid(integer=501)) == {"integer": "less_than_equal"}
    assert errors(schema, **valid(real=math.nan)) == {"real": "finite_number"}
    assert errors(schema, **valid(money=Decimal("12345.6"))) == {"money": "decimal_whole_digits"}
    assert errors(schema, **valid(money=Decimal("1.234"))) == {"money": "decimal_max_places"}
    assert errors(schema, **valid(moment=dt.datetime(2024, 1, 1))) == {"moment": "timezone_aware"}
    assert errors(schema, **valid(clock=dt.time(1, tzinfo=UTC))) == {"clock": "aware_time"}
    assert errors(schema, **valid(span=dt.timedelta(days=2 * 10**8))) == {"span": "data_error"}
    # asyncpg sends the first and last date as -infinity/infinity: refused everywhere.
    assert errors(schema, **valid(day=dt.date.max)) == {"day": "data_error"}
    assert errors(schema, **valid(doc={"x": math.nan})) == {"doc": "invalid"}
    assert errors(schema, **valid(doc={"x": "\x00"})) == {"doc": "data_error"}
    assert errors(schema, **valid(email="nope")) == {"email": "invalid"}
    assert errors(schema, **valid(url="ftp:/x")) == {"url": "invalid"}
    assert errors(schema, **valid(slug="a b")) == {"slug": "invalid"}
    assert errors(schema, **valid(ip="300.1.1.1")) == {"ip": "invalid"}
    assert errors(schema, **valid(kind="c")) == {"kind": "literal_error"}
    assert errors(schema, **valid(level=3)) == {"level": "literal_error"}
    assert errors(schema, **valid(owner_id="x" * 9)) == {"owner_id": "string_too_long"}


def test_the_messages_are_the_models() -> None:
    schema = Everything.pydantic_model()
    with pytest.raises(pydantic.ValidationError) as info:
        schema.model_validate(valid(char="a\x00"))
    assert "Everything.char: value contains a NUL character" in str(info.value)
    with pytest.raises(pydantic.ValidationError) as info:
        schema.model_validate(valid(email="nope"))
    assert "Enter a valid email address." in str(info.value)


def test_validators_without_a_pydantic_form_still_run() -> None:
    post = Post.pydantic_model()
    assert errors(post, title="t", author_id=1, code="abc") == {"code": "invalid"}
    assert post.model_validate({"title": "t", "author_id": 1, "code": "ABC"}).code == "ABC"


def test_values_are_cleaned_as_the_model_cleans_them() -> None:
    schema = Everything.pydantic_model()
    data = schema.model_validate(valid(
        moment="2024-05-17T14:30:00+02:00", ip="2001:DB8:0:0:0:0:0:1", kind=Kind.BETA,
        money="1.5", integer="42",
    ))
    assert data.moment == dt.datetime(2024, 5, 17, 12, 30, tzinfo=UTC)
    assert data.moment.tzinfo is UTC
    assert data.ip == "2001:db8::1"
    assert data.kind == "b" and type(data.kind) is str
    assert data.money == Decimal("1.5") and data.integer == 42


def test_bytes_travel_as_base64_in_json() -> None:
    schema = Everything.pydantic_model(include=["blob"])
    text = schema(blob=b"\x00\xff").model_dump_json()
    assert text == '{"blob":"AP8="}'
    assert schema.model_validate_json(text).blob == b"\x00\xff"


# -- include, exclude, name, caching, errors -----------------------------------------------


def test_include_exclude_and_name() -> None:
    small = Everything.pydantic_model(include=["char", "owner"], name="EverythingIn")
    assert small.__name__ == "EverythingIn"
    assert list(small.model_fields) == ["char", "owner_id"]
    assert list(Everything.pydantic_model(include=["owner_id"]).model_fields) == ["owner_id"]
    without = Everything.pydantic_model(exclude=["id", "created", "owner"])
    assert {"id", "created", "owner_id"}.isdisjoint(without.model_fields)
    assert "char" in without.model_fields
    both = Everything.pydantic_model(include=["char", "text"], exclude=["text"])
    assert list(both.model_fields) == ["char"]
    assert list(Everything.pydantic_model(include="char").model_fields) == ["char"]


def test_the_same_arguments_return_the_same_class() -> None:
    first = Everything.pydantic_model(include=["char", "text"])
    assert Everything.pydantic_model(include=("text", "char")) is first
    assert Everything.pydantic_model(include=["char", "text"], name="Other") is not first
    assert Everything.pydantic_model() is Everything.pydantic_model()
    assert Everything.pydantic_model(exclude=["owner"]) is Everything.pydantic_model(
        exclude=["owner_id"]
    )


def test_unknown_names_are_errors_with_a_hint() -> None:
    with pytest.raises(FieldDoesNotExist) as info:
        Everything.pydantic_model(include=["chr"])
    message = str(info.value)
    assert message.startswith(
        "Everything.pydantic_model(include=...): Everything has no field named 'chr'; "
        "did you mean 'char'?"
    )
    assert "Known names: big, blob, char," in message
    with pytest.raises(FieldDoesNotExist, match=r"exclude=\.\.\.\): .* named 'zzz'\. Known"):
        Everything.pydantic_model(exclude=["zzz"])
    with pytest.raises(TypeError, match="takes field names, got 3"):
        Everything.pydantic_model(include=[3])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="must be a class name"):
        Everything.pydantic_model(name="not a name")


def test_abstract_models_have_no_pydantic_model() -> None:
    with pytest.raises(TypeError, match="TimestampedModel is abstract"):
        models.TimestampedModel.pydantic_model()


# -- from instances, on every backend ----------------------------------------------------------


async def test_model_validate_reads_instances(
    backend: Database, make_tables: Callable[..., Any]
) -> None:
    await make_tables(Owner, Everything)
    owner = await Owner.objects.create(code="ACME")
    values: dict[str, Any] = {
        "char": "héllo", "text": "long text", "slug": "a-slug", "email": "ann@example.com",
        "url": "https://example.com/x", "integer": -5, "small": -(2**15), "big": 2**63 - 1,
        "positive": 0, "positive_small": 2**15 - 1, "positive_big": 2**63 - 1, "real": 0.1,
        "money": Decimal("-9999.99"), "flag": True, "day": dt.date(999, 1, 2),
        "moment": dt.datetime(2024, 5, 17, 12, 30, 45, 123456, tzinfo=UTC),
        "clock": dt.time(23, 59, 59, 999999), "span": dt.timedelta(days=-3, microseconds=7),
        "doc": {"a": [1, 2.5, None, "x"]}, "ip": "192.0.2.1", "kind": Kind.BETA,
        "level": Level.HIGH, "owner": owner,
    }
    if backend.vendor != "mysql":  # aiomysql cannot send bytes yet (see test_fields_db.py)
        values["blob"] = b"\x00\xff"
    created = await Everything.objects.create(**values)
    fetched = await Everything.objects.get(pk=created.pk)
    data = Everything.pydantic_model().model_validate(fetched)
    assert data.id == created.pk and data.owner_id == "ACME"
    assert data.created is not None and data.created.tzinfo is UTC
    for name, value in values.items():
        if name != "owner":
            assert getattr(data, name) == value, name
    assert data.uid == created.uid


async def test_deferred_fields_say_how_to_load_them(
    backend: Database, make_tables: Callable[..., Any]
) -> None:
    await make_tables(Owner, Everything)
    await Everything.objects.create(char="x")
    partial = await Everything.objects.only("char").get()
    assert Everything.pydantic_model(include=["char"]).model_validate(partial).char == "x"
    with pytest.raises(pydantic.ValidationError, match=r"Everything\.text was deferred"):
        Everything.pydantic_model(include=["char", "text"]).model_validate(partial)


async def test_included_relations_are_lists_of_keys(
    backend: Database, make_tables: Callable[..., Any]
) -> None:
    await make_tables(Tag, Writer, Post, Badge)
    writer = await Writer.objects.create(name="ann")
    other = await Writer.objects.create(name="bob")
    red, blue = await Tag.objects.create(name="red"), await Tag.objects.create(name="blue")
    post = await Post.objects.create(title="t", author=writer, code="A")
    await post.tags.add(red, blue)
    await Badge.objects.create(writer=writer)

    schema = Post.pydantic_model(include=["title", "tags"])
    assert "tags" not in Post.pydantic_model().model_fields  # only when included
    assert schema_of(schema)["tags"]["type"] == "array"
    with pytest.raises(RelationNotLoaded, match=r"Post\.tags is not loaded"):
        schema.model_validate(await Post.objects.get())
    loaded = await Post.objects.prefetch_related("tags").get()
    assert sorted(schema.model_validate(loaded).tags) == sorted([red.pk, blue.pk])
    assert schema.model_validate({"title": "t", "tags": [red, 5]}).tags == [red.pk, 5]

    writers = Writer.pydantic_model(include=["name", "posts", "badge"])
    assert schema_of(writers)["badge"]["readOnly"] is True
    ann = await Writer.objects.prefetch_related("posts").select_related("badge").get(pk=writer.pk)
    data = writers.model_validate(ann)
    assert data.posts == [post.pk] and data.badge == (await Badge.objects.get()).pk
    bob = await Writer.objects.prefetch_related("posts").select_related("badge").get(pk=other.pk)
    assert writers.model_validate(bob).model_dump() == {"name": "bob", "posts": [], "badge": None}


# -- the property: accepted means stored and read back equal ------------------------------------

# Values a form could send: mostly valid (boundaries included), some not (a NUL from
# st.text(), a naive datetime); whatever is accepted must round-trip.


def _range(field: str) -> st.SearchStrategy[int]:
    low, high = Everything._meta.get_field(field).value_range()
    return st.integers(low, high)


_json_scalar = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(
    max_size=8
) | st.floats(
    min_value=-1e15, max_value=1e15  # PostgreSQL rewrites larger floats (docs/models.md)
)
_aware = st.datetimes(
    min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
    timezones=st.just(UTC) | st.builds(
        dt.timezone, st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timedelta(minutes=m))
    ),
)
_span = 2**63 - 1

VALUES: dict[str, st.SearchStrategy[Any]] = {
    "text": st.text(max_size=30),
    "slug": st.from_regex(r"[-a-zA-Z0-9_]{0,20}", fullmatch=True),
    "email": st.sampled_from(["ann@example.com", "x.y+z@sub.example.org", "me@localhost", ""]),
    "url": st.sampled_from(["https://example.com/a?b=c#d", "ftp://[::1]:21/x", ""]),
    "integer": st.integers(-5, 500),
    "small": _range("small"),
    "big": _range("big"),
    "positive": _range("positive"),
    "positive_small": _range("positive_small"),
    "positive_big": _range("positive_big"),
    "real": st.floats(allow_nan=False, allow_infinity=False),
    "money": st.decimals(places=2, min_value=Decimal("-9999.99"), max_value=Decimal("9999.99")),
    "flag": st.booleans(),
    "day": st.dates(min_value=dt.date(1, 1, 2), max_value=dt.date(9999, 12, 30)),
    "moment": _aware | st.datetimes(),
    "clock": st.times(),
    "span": st.timedeltas(dt.timedelta(microseconds=-_span), dt.timedelta(microseconds=_span)),
    "doc": st.recursive(
        _json_scalar,
        lambda children: st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=5), children, max_size=3),
        max_leaves=6,
    ),
    "blob": st.binary(max_size=16),
    "ip": st.ip_addresses().map(str),
    "kind": st.sampled_from(["a", "b"]),
    "level": st.sampled_from([1, 2]),
}


_tables_made: set[Any] = set()


@settings(
    max_examples=int(os.environ.get("REINHARDT_HYPOTHESIS_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.fixed_dictionaries({"char": st.text(min_size=1, max_size=10)}, optional=VALUES))
async def test_accepted_values_are_stored_and_read_back_equal(
    backend: Database, make_tables: Callable[..., Any], data: dict[str, Any]
) -> None:
    if backend.vendor == "mysql":  # aiomysql cannot send bytes yet (see test_fields_db.py)
        data.pop("blob", None)
    schema = Everything.pydantic_model(exclude=["id", "created"])
    try:
        accepted = schema.model_validate(data)
    except pydantic.ValidationError:
        return
    if make_tables not in _tables_made:  # once per backend, not per example
        await make_tables(Owner, Everything)
        _tables_made.add(make_tables)
    await Everything.objects.all().delete()
    saved = await Everything.objects.create(**accepted.model_dump())
    back = schema.model_validate(await Everything.objects.get(pk=saved.pk))
    assert back == accepted
