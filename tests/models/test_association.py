"""AssociationProxy: a related object's attribute, readable when loaded and usable in filters."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.exceptions import FieldError, RelationNotLoaded
from reinhardt_db.testing import isolate_apps

APP = "tests_association"


class Writer(models.Model):
    name = models.CharField(max_length=20)
    article_titles = models.AssociationProxy("articles", "title")  # a reverse relation

    class Meta:
        app_label = APP


class Label(models.Model):
    name = models.CharField(max_length=20)

    class Meta:
        app_label = APP


class Article(models.Model):
    title = models.CharField(max_length=20)
    writer = models.ForeignKey(Writer, null=True, on_delete=models.SET_NULL, related_name="articles")
    labels = models.ManyToManyField(Label, related_name="articles")
    writer_name = models.AssociationProxy("writer", "name")
    label_names = models.AssociationProxy("labels", "name")

    class Meta:
        app_label = APP
        ordering = ["title"]


@pytest.fixture
async def articles(make_tables: Any) -> list[Article]:
    await make_tables(Writer, Label, Article)
    ann = await Writer.objects.create(name="ann")
    red, blue = await Label.objects.create(name="red"), await Label.objects.create(name="blue")
    first = await Article.objects.create(title="a", writer=ann)
    second = await Article.objects.create(title="b")
    await first.labels.add(red, blue)
    return [first, second]


async def test_reads_when_loaded(articles: list[Article]) -> None:
    rows = await Article.objects.select_related("writer").prefetch_related("labels")
    assert rows[0].writer_name == "ann" and rows[1].writer_name is None
    assert sorted(rows[0].label_names) == ["blue", "red"] and rows[1].label_names == []
    writer = await Writer.objects.prefetch_related("articles").get(name="ann")
    assert writer.article_titles == ["a"]


async def test_not_loaded_says_how_to_load(articles: list[Article]) -> None:
    plain = await Article.objects.get(title="a")
    with pytest.raises(RelationNotLoaded, match="select_related"):
        plain.writer_name  # noqa: B018
    with pytest.raises(RelationNotLoaded, match="labels"):
        plain.label_names  # noqa: B018
    with pytest.raises(AttributeError, match="read-only"):
        plain.writer_name = "x"


async def test_usable_in_filters_ordering_and_values(articles: list[Article]) -> None:
    assert [a.title for a in await Article.objects.filter(writer_name="ann")] == ["a"]
    assert [a.title for a in await Article.objects.filter(label_names__in=["red"])] == ["a"]
    assert [a.title for a in await Article.objects.exclude(label_names="red")] == ["b"]
    assert await Article.objects.values_list("title", "writer_name") == [("a", "ann"), ("b", None)]
    ordered = await Article.objects.order_by("-writer_name").values_list("title", flat=True)
    assert len(ordered) == 2
    assert await Writer.objects.filter(article_titles="a").count() == 1


def test_unknown_relation() -> None:
    with isolate_apps():
        class Thing(models.Model):
            broken = models.AssociationProxy("nothing", "name")

            class Meta:
                app_label = APP

        with pytest.raises(FieldError, match="no relation named 'nothing'"):
            Thing.objects.filter(broken="x")
