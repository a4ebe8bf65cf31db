"""What mypy infers for user code: every ``assert_type`` here must hold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, assert_type

from reinhardt_db.models import FieldRef, Manager, QuerySet
from shop.models import ActiveManager, Author, Product


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
    assert_type(await qs.aggregate(n=1), dict[str, Any])
    assert_type(await qs.values("name"), list[dict[str, Any]])
    assert_type(await Author.objects.values(), list[dict[str, Any]])
    assert_type(Author.name, FieldRef[Any])


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
