"""Managers: get_queryset overrides, from_queryset, db_manager, instance access."""

from __future__ import annotations

from typing import Any

import pytest

from reinhardt_db import models
from reinhardt_db.exceptions import ImproperlyConfigured


class PostQuerySet(models.QuerySet[Any]):
    def published(self) -> PostQuerySet:
        """Only published posts."""
        return self.filter(status="published")


class PublishedManager(models.Manager[Any]):
    def get_queryset(self) -> models.QuerySet[Any]:
        return super().get_queryset().filter(status="published")


class Post(models.Model):
    title = models.CharField(max_length=30)
    status = models.CharField(max_length=10, default="draft")

    objects = models.Manager.from_queryset(PostQuerySet)()
    live = PublishedManager()

    class Meta:
        app_label = "tests_query_manager"


@pytest.fixture
async def posts(make_tables: Any) -> None:
    await make_tables(Post)
    await Post.objects.bulk_create([
        Post(title="a", status="published"), Post(title="b"), Post(title="c", status="published"),
    ])


async def test_from_queryset_exposes_custom_methods(posts: None) -> None:
    assert await Post.objects.published().count() == 2
    assert await Post.objects.filter(title="a").published().count() == 1
    assert isinstance(Post.objects.all(), PostQuerySet)
    assert Post._meta.default_manager is Post.objects


async def test_get_queryset_override(posts: None) -> None:
    assert sorted(await Post.live.values_list("title", flat=True)) == ["a", "c"]
    assert await Post.live.count() == 2
    assert (await Post.live.get(title="c")).status == "published"
    with pytest.raises(Post.DoesNotExist):
        await Post.live.get(title="b")


async def test_managers_are_not_reachable_from_instances(posts: None) -> None:
    post = await Post.objects.get(title="a")
    with pytest.raises(AttributeError, match="isn't accessible via Post instances"):
        _ = post.objects
    assert not hasattr(Post.objects, "delete")
    assert await Post.objects.all().delete() == (3, {"tests_query_manager.Post": 3})


async def test_db_manager_binds_an_alias(posts: None) -> None:
    assert Post.objects.db_manager("default").db == "default"
    manager = Post.objects.db_manager("other")
    assert manager.db == "other" and Post.objects.db == "default"
    with pytest.raises(ImproperlyConfigured, match="other"):
        await manager.count()
