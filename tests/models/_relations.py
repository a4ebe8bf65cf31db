"""Models shared by the relation tests (app ``tests_relations``)."""

from __future__ import annotations

from typing import Any

from reinhardt_db import models


class Author(models.Model):
    name = models.CharField(max_length=40, unique=True)

    class Meta:
        app_label = "tests_relations"
        ordering = ["name"]


class Profile(models.Model):
    user = models.OneToOneField(Author, on_delete=models.CASCADE, related_name="profile")
    bio = models.CharField(max_length=40, default="")

    class Meta:
        app_label = "tests_relations"


class Tag(models.Model):
    name = models.CharField(max_length=40, unique=True)

    class Meta:
        app_label = "tests_relations"
        ordering = ["name"]


class Post(models.Model):
    title = models.CharField(max_length=40)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="posts")
    reviewer = models.ForeignKey(
        "tests_relations.Author", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="reviews",
    )
    tags = models.ManyToManyField("Tag", related_name="posts", blank=True)

    class Meta:
        app_label = "tests_relations"
        ordering = ["title"]


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    body = models.CharField(max_length=40, default="")
    parent = models.ForeignKey("self", null=True, on_delete=models.CASCADE, related_name="replies")

    class Meta:
        app_label = "tests_relations"


# Django's documentation example for multi-valued relations.
class Blog(models.Model):
    name = models.CharField(max_length=40)

    class Meta:
        app_label = "tests_relations"


class Entry(models.Model):
    blog = models.ForeignKey(Blog, on_delete=models.CASCADE)
    headline = models.CharField(max_length=60)
    year = models.IntegerField()

    class Meta:
        app_label = "tests_relations"


ALL: tuple[Any, ...] = (Author, Profile, Tag, Post, Comment, Blog, Entry)


async def blog_data() -> dict[str, Blog]:
    """Five blogs: A has a Lennon entry of 2008; B a Lennon entry of 2007 and another of 2008;
    C only an entry of 2008; D no entries; E only a Lennon entry of 2007."""
    blogs = {n: await Blog.objects.create(name=n) for n in "ABCDE"}
    for blog, headline, year in [
        ("A", "Lennon lives", 2008), ("B", "Lennon's last", 2007), ("B", "Other news", 2008),
        ("C", "Other news", 2008), ("E", "About Lennon", 2007),
    ]:
        await Entry.objects.create(blog=blogs[blog], headline=headline, year=year)
    return blogs


async def blog_names(queryset: Any) -> list[str]:
    return sorted(set(await queryset.values_list("name", flat=True)))
