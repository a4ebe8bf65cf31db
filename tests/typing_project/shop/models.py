"""The project's models: one declared Django-style, one with ``Mapped`` annotations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypeVar

from reinhardt_db import models

M = TypeVar("M", bound=models.Model)


class ActiveManager(models.Manager[M]):
    """A custom manager: its own methods keep their types."""

    def active(self) -> models.QuerySet[M]:
        return self.filter(active=True)


class Author(models.Model):
    """Django style: instances and managers are typed, constructor keywords are not."""

    name = models.CharField(max_length=50)
    email = models.EmailField(null=True)
    born = models.DateField(null=True)
    rating = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal("0"))
    joined = models.DateTimeField(auto_now_add=True)
    active = models.BooleanField(default=True)
    profile = models.JSONField(default=dict)

    objects = ActiveManager()

    class Meta:
        app_label = "shop"


class Product(models.Model):
    """Annotated: the constructor takes exactly these keywords, each optional."""

    name: models.Mapped[str] = models.CharField(max_length=50)
    price: models.Mapped[Decimal] = models.DecimalField(max_digits=8, decimal_places=2)
    stock: models.Mapped[int] = models.PositiveIntegerField(default=0)
    note: models.Mapped[str | None] = models.TextField(null=True)
    released: models.Mapped[dt.datetime | None] = models.DateTimeField(null=True)
    extra: models.Mapped[Any] = models.JSONField(null=True)

    class Meta:
        app_label = "shop"
