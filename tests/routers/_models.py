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


ALL = [Author, Book, AuditLog]
