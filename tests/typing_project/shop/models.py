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

    @models.hybrid_property
    def display(self) -> str:
        return f"{self.name} <{self.email or ''}>"

    # Another name for the expression function: mypy would report a redefinition.
    @display.expression
    def _display_sql(cls) -> models.Expression:
        return models.Concat(
            "name", models.Value(" <"), models.Coalesce("email", models.Value("")),
            models.Value(">"),
        )

    @models.hybrid_method
    def rated_above(self, rating: Decimal) -> bool:
        return self.rating > rating

    @rated_above.expression
    def _rated_above_sql(cls, rating: Decimal) -> models.Q:
        return models.Q(rating__gt=rating)


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


class EveryField(models.Model):
    """Each field type, plain and with ``null=True``."""

    pk_field = models.SmallAutoField(primary_key=True)
    boolean = models.BooleanField()
    boolean_or_none = models.BooleanField(null=True)
    char = models.CharField(max_length=5)
    char_or_none = models.CharField(max_length=5, null=True)
    text = models.TextField()
    text_or_none = models.TextField(null=True)
    slug = models.SlugField()
    slug_or_none = models.SlugField(null=True)
    email = models.EmailField()
    email_or_none = models.EmailField(null=True)
    url = models.URLField()
    url_or_none = models.URLField(null=True)
    integer = models.IntegerField()
    integer_or_none = models.IntegerField(null=True)
    big = models.BigIntegerField()
    big_or_none = models.BigIntegerField(null=True)
    small = models.SmallIntegerField()
    small_or_none = models.SmallIntegerField(null=True)
    positive = models.PositiveIntegerField()
    positive_or_none = models.PositiveIntegerField(null=True)
    positive_small = models.PositiveSmallIntegerField()
    positive_small_or_none = models.PositiveSmallIntegerField(null=True)
    positive_big = models.PositiveBigIntegerField()
    positive_big_or_none = models.PositiveBigIntegerField(null=True)
    floating = models.FloatField()
    floating_or_none = models.FloatField(null=True)
    decimal = models.DecimalField(max_digits=5, decimal_places=2)
    decimal_or_none = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    date = models.DateField()
    date_or_none = models.DateField(null=True)
    datetime = models.DateTimeField()
    datetime_or_none = models.DateTimeField(null=True)
    time = models.TimeField()
    time_or_none = models.TimeField(null=True)
    duration = models.DurationField()
    duration_or_none = models.DurationField(null=True)
    uuid = models.UUIDField()
    uuid_or_none = models.UUIDField(null=True)
    binary = models.BinaryField()
    binary_or_none = models.BinaryField(null=True)
    ip = models.GenericIPAddressField()
    ip_or_none = models.GenericIPAddressField(null=True)

    class Meta:
        app_label = "shop"
