"""Mistakes mypy must report: each marked line gives exactly the error code named.

tests/test_typing_project.py checks that these errors, and only these, are reported.
"""

from __future__ import annotations

from decimal import Decimal

from reinhardt_db import models
from shop.models import Author, Product


async def mistakes() -> None:
    author = await Author.objects.get(name="ann")
    email: str = author.email  # E: assignment
    author.name = None  # E: assignment
    author.rating = "4.5"  # E: assignment
    Product(nmae="pen")  # E: call-arg
    Product(price="1.50")  # E: arg-type
    Product(stock=None)  # E: arg-type
    Product("pen")  # E: call-arg
    for product in Product.objects.all():  # E: attr-defined
        print(product)
    print(list(Product.objects.filter(name="pen")))  # E: call-overload
    first = await Product.objects.first()
    print(first.name)  # E: union-attr
    count: str = await Product.objects.count()  # E: assignment
    print((Author.objects.order_by("name")[0]).name)  # E: attr-defined
    for each in Author.objects:  # E: attr-defined
        print(each)
    author.rated_above("high")  # E: arg-type
    Author.rated_above(Decimal(1), 2)  # E: call-arg
    print(email, count, Decimal(1))


class Mislabelled(models.Model):
    size: models.Mapped[int] = models.IntegerField(null=True)  # E: assignment

    class Meta:
        app_label = "shop"
