"""Same data on every backend: a value is stored exactly or refused, never altered.

Every write path (``create``, ``save``, ``bulk_create``, ``bulk_update``,
``update``) refuses a value the column cannot hold with ``DataError`` naming
``Model.field`` and the problem, on SQLite as on PostgreSQL and MariaDB; values
that server arithmetic pushes out of range fail as ``DataError`` too.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.backends import Database
from reinhardt_db.exceptions import DataError, ValidationError
from reinhardt_db.models import F, Value

UTC = dt.UTC


class Post(models.Model):
    title = models.CharField(max_length=40, default="")
    body = models.TextField(default="")
    n = models.IntegerField(default=0)
    small = models.SmallIntegerField(default=0)
    big = models.BigIntegerField(default=0)
    pos = models.PositiveIntegerField(default=0)
    score = models.FloatField(default=0.0)
    price = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    day = models.DateField(null=True)
    at = models.DateTimeField(null=True)
    span = models.DurationField(null=True)
    doc = models.JSONField(null=True)
    ip = models.GenericIPAddressField(null=True)

    class Meta:
        app_label = "tests_integrity"


@pytest.fixture
async def table(make_tables: Any) -> None:
    await make_tables(Post)


# (field, value, message fragment) the column cannot hold on any backend.
REFUSED: list[tuple[str, Any, str]] = [
    ("title", "x" * 1000, "Post.title: value is 1000 characters, max_length is 40"),
    ("title", "a\x00b", "Post.title: value contains a NUL character"),
    ("body", "a\x00b", "Post.body: value contains a NUL character"),
    ("body", "a\ud800b", "Post.body: value is not valid Unicode text"),
    ("n", 2**31, "Post.n: 2147483648 is out of range for IntegerField"),
    ("n", -(2**31) - 1, "out of range for IntegerField"),
    ("small", 2**15, "Post.small: 32768 is out of range for SmallIntegerField"),
    ("big", 2**63, "Post.big: 9223372036854775808 is out of range for BigIntegerField"),
    ("big", 2**70, "out of range for BigIntegerField"),
    ("pos", -1, "Post.pos: -1 is out of range for PositiveIntegerField"),
    ("score", math.nan, "Post.score: nan is not a finite number"),
    ("score", math.inf, "Post.score: inf is not a finite number"),
    ("score", -math.inf, "Post.score: -inf is not a finite number"),
    ("price", Decimal("123456789.99"), "Post.price: 123456789.99 has more than 8 digit(s)"),
    ("price", Decimal("99999999.995"), "has more than 8 digit(s)"),  # rounds up to 10 digits
    ("span", dt.timedelta(days=999_999_999), "Post.span: 999999999 days"),
    ("doc", {"a": "x\x00"}, "Post.doc: the document holds a NUL character"),
    ("doc", ["\udfff"], "Post.doc: the document holds text that is not valid Unicode"),
    ("ip", "fe80::1%" + "e" * 40, "Post.ip: value is"),
]

WRONG_TYPES: list[tuple[str, Any, str]] = [
    ("title", b"abc", "Post.title: expected text (str); decode bytes first"),
    ("body", bytearray(b"abc"), "Post.body: expected text (str)"),
    ("n", b"42", "Post.n: expected an integer"),
    ("score", b"1.5", "Post.score: expected a number"),
    ("score", 10**400, "Post.score: expected a number a double-precision float holds"),
    ("n", "forty", "Post.n: expected an integer"),
]


@pytest.mark.parametrize(("name", "value", "message"), REFUSED, ids=[f"{c[0]}-{i}" for i, c in enumerate(REFUSED)])
async def test_create_refuses_what_the_column_cannot_hold(
    table: None, name: str, value: Any, message: str
) -> None:
    with pytest.raises(DataError, match=_re(message)):
        await Post.objects.create(**{name: value})
    assert await Post.objects.count() == 0


@pytest.mark.parametrize(("name", "value", "message"), WRONG_TYPES, ids=[f"{c[0]}-{i}" for i, c in enumerate(WRONG_TYPES)])
async def test_wrong_types_are_refused_not_coerced(
    table: None, name: str, value: Any, message: str
) -> None:
    with pytest.raises(ValidationError, match=_re(message)):
        await Post.objects.create(**{name: value})
    assert await Post.objects.count() == 0


WriteFn = Callable[[str, Any], Awaitable[Any]]


async def _save_insert(name: str, value: Any) -> Any:
    await Post(**{name: value}).save()


async def _save_update(name: str, value: Any) -> Any:
    post = await Post.objects.create()
    setattr(post, name, value)
    await post.save()


async def _save_update_fields(name: str, value: Any) -> Any:
    post = await Post.objects.create()
    setattr(post, name, value)
    await post.save(update_fields=[name])


async def _bulk_create(name: str, value: Any) -> Any:
    await Post.objects.bulk_create([Post(), Post(**{name: value})])


async def _bulk_update(name: str, value: Any) -> Any:
    posts = [await Post.objects.create(), await Post.objects.create()]
    setattr(posts[1], name, value)
    await Post.objects.bulk_update(posts, [name])


async def _update(name: str, value: Any) -> Any:
    await Post.objects.create()
    await Post.objects.update(**{name: value})


async def _update_value(name: str, value: Any) -> Any:
    await Post.objects.create()
    await Post.objects.update(**{name: Value(value)})


async def _update_typed_value(name: str, value: Any) -> Any:
    await Post.objects.create()
    field = Post._meta.get_field(name).clone()
    await Post.objects.update(**{name: Value(value, output_field=field)})


WRITES: dict[str, WriteFn] = {
    "save-insert": _save_insert, "save-update": _save_update,
    "save-update_fields": _save_update_fields, "bulk_create": _bulk_create,
    "bulk_update": _bulk_update, "update": _update, "update-Value": _update_value,
    "update-Value-output_field": _update_typed_value,
}


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("title", "x" * 41, "Post.title: value is 41 characters, max_length is 40"),
        ("n", 2**31, "Post.n: 2147483648 is out of range"),
        ("score", math.nan, "Post.score: nan is not a finite number"),
        ("price", Decimal("123456789.99"), "Post.price: 123456789.99 has more than 8"),
    ],
    ids=["long", "int", "nan", "decimal"],
)
async def test_every_write_path_refuses(
    table: None, write: str, name: str, value: Any, message: str
) -> None:
    with pytest.raises(DataError, match=_re(message)):
        await WRITES[write](name, value)
    stored = await Post.objects.values_list(name, flat=True)
    assert value not in stored


async def test_values_that_fit_exactly_are_stored(table: None) -> None:
    post = await Post.objects.create(
        title="x" * 40, n=2**31 - 1, small=-(2**15), big=-(2**63), pos=0,
        score=-1.5e300, price=Decimal("99999999.99"), span=dt.timedelta(microseconds=2**63 - 1),
        body="é\n✓ 𝄞", doc={"k": "\\u0000 is only text here"},
    )
    back = await Post.objects.get(pk=post.pk)
    for name in ("title", "n", "small", "big", "pos", "score", "price", "span", "body", "doc"):
        assert getattr(back, name) == getattr(post, name), name


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (Decimal("1.999"), Decimal("2.00")),
        (Decimal("1.005"), Decimal("1.00")),  # half to even, as Django rounds
        (Decimal("1.015"), Decimal("1.02")),
        (Decimal("-2.675"), Decimal("-2.68")),
        (Decimal("-0.001"), Decimal("0.00")),
        (Decimal("99999999.994"), Decimal("99999999.99")),
        (1.1, Decimal("1.10")),
        ("3.14159", Decimal("3.14")),
    ],
)
async def test_decimals_are_rounded_to_decimal_places_everywhere(
    table: None, given: Any, stored: Decimal
) -> None:
    post = await Post.objects.create(price=given)
    back = await Post.objects.values_list("price", flat=True).get(pk=post.pk)
    assert back == stored and str(back) == str(stored)
    # The stored value is the rounded one: an exact filter on it finds the row.
    assert await Post.objects.filter(price=stored).count() == 1


async def test_decimals_rounded_in_bulk_writes_and_update(table: None) -> None:
    posts = await Post.objects.bulk_create([Post(price=Decimal("0.125")), Post(price=Decimal("7"))])
    posts[1].price = Decimal("2.345")
    await Post.objects.bulk_update(posts, ["price"])
    assert sorted(await Post.objects.values_list("price", flat=True)) == [
        Decimal("0.12"), Decimal("2.34"),
    ]
    await Post.objects.filter(pk=posts[0].pk).update(price=Decimal("5.555"))
    assert await Post.objects.values_list("price", flat=True).get(pk=posts[0].pk) == Decimal("5.56")


async def test_message_names_model_field_and_problem(table: None) -> None:
    with pytest.raises(DataError) as info:
        await Post.objects.create(title="x" * 1000)
    assert str(info.value) == "Post.title: value is 1000 characters, max_length is 40"


# -- server-computed values -----------------------------------------------------------------


async def test_update_arithmetic_overflow_is_data_error(table: None) -> None:
    post = await Post.objects.create(n=2**31 - 1, big=2**63 - 1, small=2**15 - 1)
    for name in ("n", "big", "small"):
        with pytest.raises(DataError):
            await Post.objects.filter(pk=post.pk).update(**{name: F(name) + 1})
    back = await Post.objects.values("n", "big", "small").get(pk=post.pk)
    assert back == {"n": 2**31 - 1, "big": 2**63 - 1, "small": 2**15 - 1}


async def test_update_computed_text_too_long_is_data_error(table: None) -> None:
    post = await Post.objects.create(title="x" * 30, n=5)
    # Copying a long text column into a short one is computed by the server.
    await Post.objects.filter(pk=post.pk).update(body="y" * 50)
    with pytest.raises(DataError):
        await Post.objects.filter(pk=post.pk).update(title=F("body"))
    assert await Post.objects.values_list("title", flat=True).get(pk=post.pk) == "x" * 30


async def test_update_computed_decimal_keeps_its_places(table: None) -> None:
    post = await Post.objects.create(price=Decimal("1.50"))
    await Post.objects.filter(pk=post.pk).update(price=F("price") + 1)
    assert await Post.objects.filter(price=Decimal("2.50")).count() == 1
    with pytest.raises(DataError):
        await Post.objects.filter(pk=post.pk).update(price=F("price") * 100_000_000)
    assert await Post.objects.values_list("price", flat=True).get(pk=post.pk) == Decimal("2.50")


async def test_update_within_range_still_works(table: None) -> None:
    post = await Post.objects.create(n=41, score=1.5)
    await Post.objects.filter(pk=post.pk).update(n=F("n") + 1, score=F("score") * 2)
    assert await Post.objects.values("n", "score").get(pk=post.pk) == {"n": 42, "score": 3.0}
    # NULL results stay NULL (the range check does not fire on NULL).
    await Post.objects.filter(pk=post.pk).update(span=F("span"))
    assert await Post.objects.values_list("span", flat=True).get(pk=post.pk) is None


# -- per-backend ranges (docs/models.md lists each) -------------------------------------------


@pytest.mark.backends("postgresql")
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("day", dt.date.min),
        ("day", dt.date.max),
        ("at", dt.datetime.min.replace(tzinfo=UTC)),
        ("at", dt.datetime.max.replace(tzinfo=UTC)),
        ("at", dt.datetime(1, 1, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=5)))),
    ],
)
async def test_postgresql_refuses_the_first_and_last_python_date(
    table: None, name: str, value: Any
) -> None:
    with pytest.raises(DataError, match="on PostgreSQL: asyncpg sends Python's first and last"):
        await Post.objects.create(**{name: value})


@pytest.mark.backends("sqlite", "mysql")
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("day", dt.date.min),
        ("day", dt.date.max),
        ("at", dt.datetime.min.replace(tzinfo=UTC)),
        ("at", dt.datetime.max.replace(tzinfo=UTC)),
        ("at", dt.datetime(500, 6, 1, 12, 0, 0, 500000, tzinfo=UTC)),
    ],
)
async def test_other_backends_store_the_whole_python_date_range(
    table: None, name: str, value: Any
) -> None:
    post = await Post.objects.create(**{name: value})
    assert await Post.objects.values_list(name, flat=True).get(pk=post.pk) == value


async def test_dates_one_step_inside_are_stored_everywhere(table: None) -> None:
    values = {
        "day": dt.date(1, 1, 2),
        "at": dt.datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    }
    post = await Post.objects.create(**values)
    assert await Post.objects.values("day", "at").get(pk=post.pk) == values
    late = await Post.objects.create(day=dt.date(9999, 12, 30))
    assert await Post.objects.filter(day__year=9999).values_list("pk", flat=True) == [late.pk]


# -- driver errors keep their meaning -----------------------------------------------------


@pytest.mark.backends("sqlite")
async def test_sqlite_parameters_it_cannot_bind_are_data_errors(
    table: None, backend: Database
) -> None:
    # Past the fields (raw SQL): sqlite3's OverflowError and UnicodeEncodeError are
    # DataError, and the connection stays usable.
    with pytest.raises(DataError):
        await backend.fetch_all("SELECT %s", [2**70])
    with pytest.raises(DataError):
        await backend.fetch_all("SELECT %s", ["\ud800"])
    assert list(await backend.fetch_one("SELECT %s", [1]) or ()) == [1]


async def test_a_filter_value_that_cannot_be_encoded_is_data_error(
    table: None, backend: Database
) -> None:
    await Post.objects.create(title="ok")
    with pytest.raises(DataError):
        await Post.objects.filter(title="\ud800").count()
    # The connection (or its replacement) still works.
    assert await Post.objects.filter(title="ok").count() == 1


@pytest.mark.backends("mysql")
async def test_mysql_nan_parameter_is_data_error(table: None) -> None:
    await Post.objects.create()
    with pytest.raises(DataError, match="can not be used with MySQL"):
        await Post.objects.annotate(x=Value(math.nan)).values_list("x", flat=True)


def _re(text: str) -> str:
    import re

    return re.escape(text)
