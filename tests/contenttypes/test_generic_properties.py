"""Property tests: generic relations find exactly the rows Python says they should."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reinhardt_db
from reinhardt_db import models
from reinhardt_db.conf import reset_settings
from reinhardt_db.contenttypes.fields import GenericForeignKey, GenericRelation
from reinhardt_db.contenttypes.models import ContentType
from reinhardt_db.models.schema import create_tables, drop_tables
from reinhardt_db.testing import isolate_apps

EXAMPLES = 15
TEXTS = ["a", "b", "c"]

# Each comment: (on a post?, which of 4 targets, its text); then which posts to delete.
comments = st.lists(
    st.tuples(st.booleans(), st.integers(0, 3), st.sampled_from(TEXTS)), max_size=12
)
doomed = st.sets(st.integers(0, 3))


async def _check(found: dict[str, Any], spec: list[tuple[bool, int, str]], gone: set[int]) -> None:
    comment, post, link = found["Comment"], found["Post"], found["Link"]
    for model in (comment, post, link):
        await model.objects.all()._raw_delete()
    posts = [await post.objects.create(title=f"p{i}") for i in range(4)]
    links = [await link.objects.create(url=f"l{i}") for i in range(4)]
    made = [
        await comment.objects.create(content_object=(posts if on_post else links)[i], text=text)
        for on_post, i, text in spec
    ]
    rows = await comment.objects.order_by("id").prefetch_related("content_object")
    for row, (on_post, i, _) in zip(rows, spec, strict=True):
        target = (posts if on_post else links)[i]
        assert (type(row.content_object), row.content_object.pk) == (type(target), target.pk)
    for text in TEXTS:
        want = {posts[i].pk for on_post, i, t in spec if on_post and t == text}
        got = set(await post.objects.filter(comments__text=text).values_list("pk", flat=True))
        assert got == want, (text, spec)
        lacking = {p.pk for p in posts} - want
        got = set(await post.objects.exclude(comments__text=text).values_list("pk", flat=True))
        assert got == lacking, (text, spec)
    await post.objects.filter(pk__in=[posts[i].pk for i in gone]).delete()
    kept = {c.pk for c, (on_post, i, _) in zip(made, spec, strict=True)
            if not (on_post and i in gone)}
    assert set(await comment.objects.values_list("pk", flat=True)) == kept


def test_generic_relations_match_python(backend_url: str, backend_name: str) -> None:
    reinhardt_db.configure(databases={"default": backend_url})
    try:
        with isolate_apps(), asyncio.Runner() as runner:
            class Comment(models.Model):
                content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
                object_id = models.CharField(max_length=40)  # the cast join on PostgreSQL
                content_object = GenericForeignKey()
                text = models.CharField(max_length=5)

                class Meta:
                    app_label = "tests_ctypes_props"

            class Post(models.Model):
                title = models.CharField(max_length=5)
                comments = GenericRelation(Comment)

                class Meta:
                    app_label = "tests_ctypes_props"

            class Link(models.Model):
                url = models.CharField(max_length=5)
                comments = GenericRelation(Comment)

                class Meta:
                    app_label = "tests_ctypes_props"

            tables = [ContentType, Post, Link, Comment]
            found = {"Comment": Comment, "Post": Post, "Link": Link}
            runner.run(drop_tables(tables, if_exists=True))
            runner.run(create_tables(tables))
            ContentType.objects.clear_cache()
            examples = 0

            @settings(
                max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
            )
            @given(spec=comments, gone=doomed)
            def check(spec: list[tuple[bool, int, str]], gone: set[int]) -> None:
                nonlocal examples
                examples += 1
                runner.run(_check(found, spec, gone))

            try:
                check()
                assert examples >= EXAMPLES
            finally:
                runner.run(drop_tables(tables, if_exists=True))
                runner.run(reinhardt_db.close_all())
    finally:
        reset_settings()
