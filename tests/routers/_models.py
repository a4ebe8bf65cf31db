"""Models of the routing tests (apps ``routing_books`` and ``routing_logs``)."""

from __future__ import annotations

from reinhardt_db import models


class Author(models.Model):
    name = models.CharField(max_length=40)

    class Meta:
        app_label = "routing_books"
        ordering = ["name"]


class Book(models.Model):
    title = models.CharField(max_length=40)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")

    class Meta:
        app_label = "routing_books"
        ordering = ["title"]


class AuditLog(models.Model):
    message = models.CharField(max_length=80)

    class Meta:
        app_label = "routing_logs"
        ordering = ["id"]


class Order(models.Model):
    tenant_id = models.IntegerField()
    total = models.IntegerField(default=0)
    note = models.CharField(max_length=20, default="")

    class Meta:
        app_label = "routing_shop"
        ordering = ["tenant_id", "id"]


ALL = [Author, Book, AuditLog, Order]
