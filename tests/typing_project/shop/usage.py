"""What mypy infers for user code: every ``assert_type`` here must hold."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, assert_type

from reinhardt_db.models import Count, FieldRef, HybridRef, Manager, QuerySet
from reinhardt_db.models.pagination import Page
from shop.models import ActiveManager, Author, EveryField, Product


async def reading() -> None:
    qs = Author.objects.filter(name__startswith="a").exclude(active=False).order_by("name")
    assert_type(Author.objects, ActiveManager[Author])
    assert_type(Author.objects.active(), QuerySet[Author])
    assert_type(Product.objects, Manager[Product])
    assert_type(qs, QuerySet[Author])
    assert_type(await qs, list[Author])
    assert_type(await Author.objects.all(), list[Author])
    assert_type(await qs[:10], list[Author])
    async for each in qs:
        assert_type(each, Author)
    async for streamed in qs.iterator(chunk_size=100):
        assert_type(streamed, Author)

    author = await Author.objects.get(name="ann")
    assert_type(author, Author)
    assert_type(author.name, str)
    assert_type(author.email, str | None)
    assert_type(author.born, dt.date | None)
    assert_type(author.rating, Decimal)
    assert_type(author.joined, dt.datetime)
    assert_type(author.active, bool)
    assert_type(author.profile, Any)

    assert_type(await Author.objects.first(), Author | None)
    assert_type(await qs.last(), Author | None)
    assert_type(await Author.objects.latest("joined"), Author)
    assert_type(await qs.count(), int)
    assert_type(await qs.exists(), bool)
    assert_type(await Author.objects.in_bulk([1, 2]), dict[Any, Author])
    assert_type(await qs.aggregate(n=Count("id")), dict[str, Any])
    assert_type(await qs.values("name"), list[dict[str, Any]])
    assert_type(await Author.objects.values(), list[dict[str, Any]])
    assert_type(Author.name, FieldRef[Any])
    page = await Author.objects.order_by("name").paginate(limit=2)
    assert_type(page, Page[Author])
    assert_type(page.items, list[Author])
    assert_type(page.next_cursor, str | None)
    assert_type(await qs.cache(ttl=60), list[Author])
    assert_type(Author.objects.cache(), QuerySet[Author])

    assert_type(author.display, str)
    assert_type(Author.display, HybridRef[str])
    assert_type(author.rated_above(Decimal("1")), bool)
    hybrid_qs = Author.objects.filter(Author.display.startswith("ann"), Author.rated_above(Decimal(4)))
    assert_type(hybrid_qs, QuerySet[Author])
    assert [a.display for a in await hybrid_qs] == ["ann <>"]
    assert await Author.objects.filter(display="ann <>").values_list("name", flat=True) == ["ann"]


async def writing() -> None:
    author = Author(name="ann")
    author.email = None
    author.born = dt.date(1990, 5, 17)
    author.rating = Decimal("4.5")
    await author.save()
    assert_type(await Author.objects.create(name="bob"), Author)
    obj, created = await Author.objects.get_or_create(name="cid", defaults={"active": False})
    assert_type(obj, Author)
    assert_type(created, bool)
    assert_type(await Author.objects.filter(active=False).update(active=True), int)
    assert_type(await Author.objects.bulk_create([Author(name="dee")]), list[Author])
    assert_type(await Author.objects.filter(name="dee").delete(), tuple[int, dict[str, int]])


def constructing() -> None:
    Product()
    Product(name="pen", price=Decimal("1.50"))
    product = Product(name="ink", stock=3, note=None, released=None, extra={"a": 1})
    assert_type(product.name, str)
    assert_type(product.note, str | None)
    assert_type(product.released, dt.datetime | None)
    assert_type(Product.price, FieldRef[Any])
    product.note = None
    product.stock = 4


def every_field(row: EveryField) -> None:
    assert_type(row.pk_field, int)
    assert_type(row.boolean, bool)
    assert_type(row.boolean_or_none, bool | None)
    assert_type(row.char, str)
    assert_type(row.char_or_none, str | None)
    assert_type(row.text, str)
    assert_type(row.text_or_none, str | None)
    assert_type(row.slug, str)
    assert_type(row.slug_or_none, str | None)
    assert_type(row.email, str)
    assert_type(row.email_or_none, str | None)
    assert_type(row.url, str)
    assert_type(row.url_or_none, str | None)
    assert_type(row.integer, int)
    assert_type(row.integer_or_none, int | None)
    assert_type(row.big, int)
    assert_type(row.big_or_none, int | None)
    assert_type(row.small, int)
    assert_type(row.small_or_none, int | None)
    assert_type(row.positive, int)
    assert_type(row.positive_or_none, int | None)
    assert_type(row.positive_small, int)
    assert_type(row.positive_small_or_none, int | None)
    assert_type(row.positive_big, int)
    assert_type(row.positive_big_or_none, int | None)
    assert_type(row.floating, float)
    assert_type(row.floating_or_none, float | None)
    assert_type(row.decimal, Decimal)
    assert_type(row.decimal_or_none, Decimal | None)
    assert_type(row.date, dt.date)
    assert_type(row.date_or_none, dt.date | None)
    assert_type(row.datetime, dt.datetime)
    assert_type(row.datetime_or_none, dt.datetime | None)
    assert_type(row.time, dt.time)
    assert_type(row.time_or_none, dt.time | None)
    assert_type(row.duration, dt.timedelta)
    assert_type(row.duration_or_none, dt.timedelta | None)
    assert_type(row.uuid, uuid.UUID)
    assert_type(row.uuid_or_none, uuid.UUID | None)
    assert_type(row.binary, bytes)
    assert_type(row.binary_or_none, bytes | None)
    assert_type(row.ip, str)
    assert_type(row.ip_or_none, str | None)
